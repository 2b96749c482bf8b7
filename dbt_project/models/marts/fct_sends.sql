-- One row per message sent (email processed, Twilio outbound, push send), with when the
-- person first engaged with it (human open or click; never a machine open) and the local
-- wall time of the send in the person's time zone.
with

message_events as (

    select * from {{ ref('fct_message_events') }}

),

timezones as (

    select * from {{ ref('int_customer_timezones') }}

),

sends_ranked as (

    select
        *,
        row_number() over (partition by send_id order by occurred_at, event_id) as row_rank
    from message_events
    where event_type = 'send'

),

sends as (

    select * from sends_ranked
    where row_rank = 1

),

send_outcomes as (

    select
        send_id,
        min(case when is_human_engagement then occurred_at end) as first_engaged_at,
        bool_or(event_type = 'delivered') as has_delivered_event
    from message_events
    where send_id is not null
    group by 1

),

localised as (

    select
        sends.send_id,
        sends.customer_id,
        sends.channel,
        sends.occurred_at as sent_at,
        sends.campaign_id,
        sends.message_id,
        timezones.timezone,
        {{ to_local('sends.occurred_at', 'timezones.timezone') }} as sent_local_at,
        case
            when send_outcomes.first_engaged_at >= sends.occurred_at
                then send_outcomes.first_engaged_at
        end as first_engaged_at,
        coalesce(send_outcomes.has_delivered_event, false)
        or send_outcomes.first_engaged_at >= sends.occurred_at as is_delivered
    from sends
    inner join timezones
        on sends.customer_id = timezones.customer_id
    left join send_outcomes
        on sends.send_id = send_outcomes.send_id

),

final as (

    select
        cast(send_id as varchar) as send_id,
        cast(customer_id as varchar) as customer_id,
        cast(channel as varchar) as channel,
        cast(sent_at as timestamp) as sent_at,
        cast(campaign_id as varchar) as campaign_id,
        cast(message_id as varchar) as message_id,
        cast(timezone as varchar) as timezone,
        cast(sent_local_at as timestamp) as sent_local_at,
        cast(extract(hour from sent_local_at) as integer) as sent_local_hour,
        cast(extract(isodow from sent_local_at) - 1 as integer) as sent_local_weekday,
        cast({{ hour_of_week('sent_local_at') }} as integer) as sent_hour_of_week,
        cast(first_engaged_at as timestamp) as first_engaged_at,
        cast(coalesce(is_delivered, false) as boolean) as is_delivered
    from localised

)

select * from final
