{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_erased_rows() }}"],
    )
}}

-- One row per deduplicated channel event (email, sms, push) of a known person.
-- Incremental: each run recomputes the events and writes only rows that are new or changed
-- (e.g. a person resolved differently after a login), so it always equals a full refresh;
-- rows of erased persons are deleted by the post-hook.
with

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

email_events as (

    select * from {{ ref('stg_sendgrid__email_events') }}

),

sms_messages as (

    select * from {{ ref('stg_twilio__messages') }}

),

sms_clicks as (

    select * from {{ ref('stg_twilio__link_clicks') }}

),

push_events as (

    select * from {{ ref('stg_push__events') }}

),

email as (

    select
        'email:' || email_events.event_id as event_id,
        identifiers.customer_id,
        'email' as channel,
        email_events.event_type,
        email_events.occurred_at,
        email_events.send_id,
        email_events.campaign_id,
        email_events.message_id,
        email_events.is_machine_open,
        email_events.is_human_engagement,
        email_events.is_hard_bounce
    from email_events
    inner join identifiers
        on identifiers.identifier_type = 'email'
        and email_events.email = identifiers.identifier_value
    where email_events.event_type is not null

),

sms_outbound as (

    select
        identifiers.customer_id,
        sms_messages.message_sid,
        sms_messages.sent_at,
        sms_messages.status_event_type,
        sms_messages.campaign_id,
        sms_messages.message_id
    from sms_messages
    inner join identifiers
        on identifiers.identifier_type = 'phone'
        and sms_messages.customer_phone = identifiers.identifier_value
    where sms_messages.is_outbound and sms_messages.sent_at is not null

),

sms_inbound as (

    select
        identifiers.customer_id,
        sms_messages.message_sid,
        sms_messages.sent_at
    from sms_messages
    inner join identifiers
        on identifiers.identifier_type = 'phone'
        and sms_messages.customer_phone = identifiers.identifier_value
    where
        not sms_messages.is_outbound
        and sms_messages.consent_change = 'opt_out'
        and sms_messages.sent_at is not null

),

sms as (

    select
        'sms:' || message_sid || ':send' as event_id,
        customer_id,
        'sms' as channel,
        'send' as event_type,
        sent_at as occurred_at,
        'sms:' || message_sid as send_id,
        campaign_id,
        message_id,
        false as is_machine_open,
        false as is_human_engagement,
        false as is_hard_bounce
    from sms_outbound

    union all

    select
        'sms:' || message_sid || ':' || status_event_type as event_id,
        customer_id,
        'sms' as channel,
        status_event_type as event_type,
        sent_at as occurred_at,
        'sms:' || message_sid as send_id,
        campaign_id,
        message_id,
        false as is_machine_open,
        false as is_human_engagement,
        false as is_hard_bounce
    from sms_outbound
    where status_event_type is not null

    union all

    select
        'sms:' || message_sid || ':unsubscribe' as event_id,
        customer_id,
        'sms' as channel,
        'unsubscribe' as event_type,
        sent_at as occurred_at,
        null as send_id,
        null as campaign_id,
        null as message_id,
        false as is_machine_open,
        false as is_human_engagement,
        false as is_hard_bounce
    from sms_inbound

    union all

    select
        sms_clicks.click_id as event_id,
        coalesce(sms_outbound.customer_id, identifiers.customer_id) as customer_id,
        'sms' as channel,
        'click' as event_type,
        sms_clicks.clicked_at as occurred_at,
        'sms:' || sms_clicks.message_sid as send_id,
        sms_outbound.campaign_id,
        sms_outbound.message_id,
        false as is_machine_open,
        true as is_human_engagement,
        false as is_hard_bounce
    from sms_clicks
    left join sms_outbound
        on sms_clicks.message_sid = sms_outbound.message_sid
    left join identifiers
        on identifiers.identifier_type = 'phone'
        and sms_clicks.customer_phone = identifiers.identifier_value
    where coalesce(sms_outbound.customer_id, identifiers.customer_id) is not null

),

push as (

    select
        'push:' || push_events.event_id as event_id,
        coalesce(by_id.customer_id, by_email.customer_id, by_device.customer_id) as customer_id,
        'push' as channel,
        push_events.event_type,
        push_events.occurred_at,
        push_events.send_id,
        push_events.campaign_id,
        push_events.message_id,
        false as is_machine_open,
        push_events.is_human_engagement,
        false as is_hard_bounce
    from push_events
    left join identifiers as by_id
        on by_id.identifier_type = 'customer_id'
        and push_events.source_customer_id = by_id.identifier_value
    left join identifiers as by_email
        on by_email.identifier_type = 'email'
        and push_events.email = by_email.identifier_value
    left join identifiers as by_device
        on by_device.identifier_type = 'device_token'
        and push_events.device_token = by_device.identifier_value
    where
        push_events.event_type is not null
        and coalesce(by_id.customer_id, by_email.customer_id, by_device.customer_id) is not null

),

unioned as (

    select * from email
    union all
    select * from sms
    union all
    select * from push

),

events as (

    select
        event_id,
        customer_id,
        channel,
        event_type,
        occurred_at,
        send_id,
        -- events after the send often lack the custom args: take them from the send
        coalesce(campaign_id, max(campaign_id) over (partition by send_id)) as campaign_id,
        coalesce(message_id, max(message_id) over (partition by send_id)) as message_id,
        is_machine_open,
        is_human_engagement,
        is_hard_bounce
    from unioned
    where occurred_at <= {{ run_end_at() }}

),

final as (

    select * from events
    {% if is_incremental() %}
    except
    select * from {{ this }}
    {% endif %}

)

select * from final
