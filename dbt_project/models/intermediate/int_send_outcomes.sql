{{
    watermarked_incremental_config(
        unique_key='send_id',
        sources=[('sendgrid', 'email_events'), ('twilio', 'sms_messages'), ('twilio', 'sms_clicks'), ('push', 'push_events')],
    )
}}

-- depends_on: {{ ref('int_identifier_assignments') }}
-- depends_on: {{ source('sendgrid', 'email_events') }}
-- depends_on: {{ source('twilio', 'sms_messages') }}
-- depends_on: {{ source('twilio', 'sms_clicks') }}
-- depends_on: {{ source('push', 'push_events') }}
-- One row per message sent (email processed, Twilio outbound, push send): its first send
-- event and what followed - the first human engagement (never a machine open) and whether a
-- delivery was reported. fct_sends adds the person's local time.
-- Incremental: a build re-derives only the sends with a raw row loaded after the newest load
-- its last build saw (intermediate.incremental_watermarks; late files included), an event
-- that became due since the last build, or an event of a person who got an identifier since then (a login, a takeover) - so it
-- grows with the new day; derived_at (the end of the run date D of the incremental build that
-- derived the row; 1900-01-01 for a full refresh) tells fct_sends which rows changed.
{%- set loaded_since = committed_watermark() %}
{#- no send in the table is later than the end of the last run date built -#}
{%- set built_through = incremental_watermark('sent_at') %}
with

message_events as (

    select * from {{ ref('fct_message_events') }}

),

{% if is_incremental() %}
-- raw rows loaded after the newest load the last build saw (late files included): their sends
new_email_rows as (

    select * from {{ source('sendgrid', 'email_events') }}
    where _loaded_at > {{ loaded_since }}

),

new_push_rows as (

    select * from {{ source('push', 'push_events') }}
    where _loaded_at > {{ loaded_since }}

),

touched_sends as (

    select send_id from {{ stg_sendgrid_email_events_from('new_email_rows') }} as new_email

    union

    select 'sms:' || sid from {{ source('twilio', 'sms_messages') }}
    where _loaded_at > {{ loaded_since }}

    union

    select 'sms:' || sms_sid from {{ source('twilio', 'sms_clicks') }}
    where _loaded_at > {{ loaded_since }}

    union

    select send_id from {{ stg_push_events_from('new_push_rows') }} as new_push

    union

    select send_id from message_events
    where occurred_at > {{ built_through }}

    union

    select send_id from message_events
    where customer_id in (
        select customer_id from {{ ref('int_identifier_assignments') }}
        where assigned_at >= {{ built_through }}
    )

),

send_events as (

    select * from message_events
    where send_id in (select send_id from touched_sends)

),
{% else %}
send_events as (

    select * from message_events

),
{% endif %}

sends_ranked as (

    select
        *,
        row_number() over (partition by send_id order by occurred_at, event_id) as row_rank
    from send_events
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
    from send_events
    where send_id is not null
    group by 1

),

final as (

    select
        sends.send_id,
        sends.customer_id,
        sends.channel,
        sends.occurred_at as sent_at,
        sends.campaign_id,
        sends.message_id,
        -- an engagement before the send (clock skew) does not count
        case
            when send_outcomes.first_engaged_at >= sends.occurred_at
                then send_outcomes.first_engaged_at
        end as first_engaged_at,
        coalesce(send_outcomes.has_delivered_event, false)
        or coalesce(send_outcomes.first_engaged_at >= sends.occurred_at, false) as is_delivered,
        {{ build_stamp() }} as derived_at
    from sends
    left join send_outcomes
        on sends.send_id = send_outcomes.send_id

)

select * from final
