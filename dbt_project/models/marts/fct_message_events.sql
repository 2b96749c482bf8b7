{{
    watermarked_incremental_config(
        unique_key='event_id',
        sources=[('sendgrid', 'email_events'), ('twilio', 'sms_messages'), ('twilio', 'sms_clicks'), ('push', 'push_events')],
    )
}}

-- depends_on: {{ ref('int_identifier_assignments') }}
-- One row per deduplicated channel event (email, sms, push) of a known person.
-- Incremental: a build re-derives only the events it touches - raw rows loaded after the
-- newest load its last build saw (intermediate.incremental_watermarks; late files for old
-- dt= partitions included), events that
-- became due because D moved on, events naming an identifier whose person changed since the
-- last build (int_identifier_assignments), and every event of a send one of those belongs to
-- (a send's campaign and message fill its later events) - so it grows with the new day and
-- equals a full refresh; rows of erased persons are deleted by the post-hook.
{%- set loaded_since = committed_watermark() %}
{%- set due_since = incremental_watermark('occurred_at') %}
with

-- not materialized: joined seven times, each a scan of one identifier type's rows, where a
-- materialised CTE would copy the whole table first
identifiers as not materialized (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

{% if is_incremental() %}
changed_identifiers as (

    select identifier_type, identifier_value
    from {{ ref('int_identifier_assignments') }}
    where assigned_at >= {{ due_since }}

),

raw_clicks as (

    select
        *,
        md5(
            coalesce(sms_sid, '') || '|' || coalesce(to_number, '') || '|'
            || coalesce(link, '') || '|' || cast(clicked_at as varchar)
        ) as click_key
    from {{ source('twilio', 'sms_clicks') }}

),

-- the raw keys of the events this build touches (identifiers are compared as ingestion
-- stores them, normalised at the edge, so the raw columns need no per-row expression)
touched_email_keys as (

    select sg_event_id as raw_key from {{ source('sendgrid', 'email_events') }}
    where _loaded_at > {{ loaded_since }}
    union
    select sg_event_id from {{ source('sendgrid', 'email_events') }}
    where occurred_at >= {{ due_since }}
    union
    select sg_event_id from {{ source('sendgrid', 'email_events') }}
    where email in (
        select identifier_value from changed_identifiers where identifier_type = 'email'
    )

),

touched_sms_keys as (

    select sid as raw_key from {{ source('twilio', 'sms_messages') }}
    where _loaded_at > {{ loaded_since }}
    union
    select sid from {{ source('twilio', 'sms_messages') }}
    where sent_at >= {{ due_since }}
    union
    select sid from {{ source('twilio', 'sms_messages') }}
    where
        to_number in (select identifier_value from changed_identifiers where identifier_type = 'phone')
        or from_number in (select identifier_value from changed_identifiers where identifier_type = 'phone')

),

touched_click_keys as (

    select click_key as raw_key from raw_clicks
    where
        _loaded_at > {{ loaded_since }}
        or clicked_at >= {{ due_since }}
        or to_number in (select identifier_value from changed_identifiers where identifier_type = 'phone')
        -- a click takes its person and campaign from its message
        or sms_sid in (select raw_key from touched_sms_keys)

),

touched_push_keys as (

    select event_id as raw_key from {{ source('push', 'push_events') }}
    where _loaded_at > {{ loaded_since }}
    union
    select event_id from {{ source('push', 'push_events') }}
    where occurred_at >= {{ due_since }}
    union
    select event_id from {{ source('push', 'push_events') }}
    where
        customer_id in (
            select identifier_value from changed_identifiers where identifier_type = 'customer_id'
        )
        or email in (
            select identifier_value from changed_identifiers where identifier_type = 'email'
        )
        or device_token in (
            select identifier_value from changed_identifiers where identifier_type = 'device_token'
        )

),

touched_email_rows as (

    select * from {{ source('sendgrid', 'email_events') }}
    where sg_event_id in (select raw_key from touched_email_keys)

),

touched_click_rows as (

    select * from raw_clicks where click_key in (select raw_key from touched_click_keys)

),

touched_push_rows as (

    select * from {{ source('push', 'push_events') }}
    where event_id in (select raw_key from touched_push_keys)

),

-- the sends those events belong to: all their events are re-derived together
touched_sends as (

    select send_id from {{ stg_sendgrid_email_events_from('touched_email_rows') }} as touched_email
    union
    select 'sms:' || raw_key from touched_sms_keys
    union
    select 'sms:' || sms_sid from touched_click_rows
    union
    select send_id from {{ stg_push_events_from('touched_push_rows') }} as touched_push

),

send_events as (

    select event_id from {{ this }}
    where send_id in (select send_id from touched_sends)

),

email_source as (

    select * from {{ source('sendgrid', 'email_events') }}
    where
        sg_event_id in (select raw_key from touched_email_keys)
        or sg_event_id in (
            select substr(event_id, 7) from send_events where event_id like 'email:%'
        )

),

sms_source as (

    select * from {{ source('twilio', 'sms_messages') }}
    where
        sid in (select raw_key from touched_sms_keys)
        or sid in (select sms_sid from touched_click_rows)
        or sid in (select split_part(event_id, ':', 2) from send_events where event_id like 'sms:%')

),

click_source as (

    select * from {{ source('twilio', 'sms_clicks') }}
    where md5(
        coalesce(sms_sid, '') || '|' || coalesce(to_number, '') || '|'
        || coalesce(link, '') || '|' || cast(clicked_at as varchar)
    ) in (
        select raw_key from touched_click_keys
        union
        select substr(event_id, 11) from send_events where event_id like 'sms_click:%'
    )

),

push_source as (

    select * from {{ source('push', 'push_events') }}
    where
        event_id in (select raw_key from touched_push_keys)
        or event_id in (select substr(event_id, 6) from send_events where event_id like 'push:%')

),
{% endif %}

email_events as (

    select * from {{ stg_sendgrid_email_events_from('email_source' if is_incremental() else source('sendgrid', 'email_events')) }}
        as staged

),

sms_messages as (

    select * from {{ stg_twilio_messages_from('sms_source' if is_incremental() else source('twilio', 'sms_messages')) }}
        as staged

),

sms_clicks as (

    select * from {{ stg_twilio_link_clicks_from('click_source' if is_incremental() else source('twilio', 'sms_clicks')) }}
        as staged

),

push_events as (

    select * from {{ stg_push_events_from('push_source' if is_incremental() else source('push', 'push_events')) }}
        as staged

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

)

select * from final
