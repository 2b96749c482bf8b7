-- One row per person x channel x local hour of week (0 = Monday 00:00 in the person's time
-- zone) with at least one human engagement (email human open or click, sms click, push
-- open) - the histogram send-time models learn from.
with

message_events as (

    select * from {{ ref('fct_message_events') }}

),

timezones as (

    select * from {{ ref('int_customer_timezones') }}

),

engagements as (

    select
        message_events.customer_id,
        message_events.channel,
        {{ to_local('message_events.occurred_at', 'timezones.timezone') }} as engaged_local_at
    from message_events
    inner join timezones
        on message_events.customer_id = timezones.customer_id
    where message_events.is_human_engagement

),

final as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(channel as varchar) as channel,
        cast({{ hour_of_week('engaged_local_at') }} as integer) as hour_of_week,
        cast(count(*) as integer) as engagements
    from engagements
    group by 1, 2, 3

)

select * from final
