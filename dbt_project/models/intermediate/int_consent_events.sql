{{
    watermarked_incremental_config(
        unique_key='event_key',
        sources=[('sendgrid', 'email_events'), ('twilio', 'sms_messages'), ('push', 'push_events')],
        customer_id_column=none,
        identifier_columns={'email': 'email', 'phone': 'phone', 'device_token': 'device_token'},
        post_hooks=["{{ delete_non_consent_events() }}"],
    )
}}

-- depends_on: {{ source('sendgrid', 'email_events') }}
-- depends_on: {{ source('twilio', 'sms_messages') }}
-- depends_on: {{ source('push', 'push_events') }}
-- The channel events that bear on consent or reachability (int_customer_consent), as the
-- staging models state them: SendGrid consent changes (unsubscribe, group_unsubscribe,
-- spamreport, group_resubscribe) and hard bounces, inbound SMS STOP/START keywords, push
-- device registrations and unregistrations - a small fraction of all events. Keyed on the
-- identifier the event names (email, phone, device token), not on a person: int_customer_consent
-- resolves the person each build, so re-stitching needs nothing here. Every event loaded,
-- whatever its time: int_customer_consent counts those up to the end of D.
-- Incremental: a build re-derives only the events with a raw row loaded after the newest
-- load its last build saw (intermediate.incremental_watermarks; late files for old dt=
-- partitions included), from all raw rows of those events (the staging de-duplication: first
-- delivery, an SMS's latest row), so it grows with the new day and equals a full refresh. An
-- event that no longer bears on consent is re-derived without a consent change and deleted
-- by the post-hook (delete_non_consent_events); rows naming a tombstoned identifier are
-- deleted by the erasure post-hook.
{%- set loaded_since = committed_watermark() %}
with

{% if is_incremental() %}
email_source as (

    select * from {{ source('sendgrid', 'email_events') }}
    where sg_event_id in (
        select sg_event_id from {{ source('sendgrid', 'email_events') }}
        where _loaded_at > {{ loaded_since }}
    )

),

sms_source as (

    select * from {{ source('twilio', 'sms_messages') }}
    where sid in (
        select sid from {{ source('twilio', 'sms_messages') }}
        where _loaded_at > {{ loaded_since }}
    )

),

push_source as (

    select * from {{ source('push', 'push_events') }}
    where event_id in (
        select event_id from {{ source('push', 'push_events') }}
        where _loaded_at > {{ loaded_since }}
    )

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

push_events as (

    select * from {{ stg_push_events_from('push_source' if is_incremental() else source('push', 'push_events')) }}
        as staged

),

email as (

    select
        'email:' || event_id as event_key,
        'email' as channel,
        event_id,
        email,
        cast(null as varchar) as phone,
        cast(null as varchar) as device_token,
        sendgrid_event as source_event,
        consent_change,
        is_hard_bounce,
        cast(null as varchar) as platform,
        occurred_at
    from email_events

),

sms as (

    select
        'sms:' || message_sid as event_key,
        'sms' as channel,
        message_sid as event_id,
        null as email,
        customer_phone as phone,
        null as device_token,
        'keyword' as source_event,
        -- a reply's keyword; an outbound message changes no consent
        case when not is_outbound then consent_change end as consent_change,
        false as is_hard_bounce,
        null as platform,
        sent_at as occurred_at
    from sms_messages

),

push as (

    select
        'push:' || event_id as event_key,
        'push' as channel,
        event_id,
        null as email,
        null as phone,
        device_token,
        push_event as source_event,
        null as consent_change,
        false as is_hard_bounce,
        platform,
        occurred_at
    from push_events

),

unioned as (

    select * from email
    union all
    select * from sms
    union all
    select * from push

),

final as (

    select
        event_key,
        channel,
        event_id,
        email,
        phone,
        device_token,
        source_event,
        consent_change,
        is_hard_bounce,
        platform,
        occurred_at
    from unioned
    where
        {{ is_consent_event() }}
        {% if is_incremental() %}
        -- a kept event that no longer bears on consent: delete+insert replaces it, the
        -- post-hook drops it
        or event_key in (select event_key from {{ this }})
        {% endif %}

)

select * from final
