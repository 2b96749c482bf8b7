-- Consent and reachability per person as of the end of D. Every consent change is an event
-- at a moment: a Shopify snapshot states its flags at the end of its delivery day, consent
-- requests / STOP-START replies / SendGrid unsubscribe, group_unsubscribe, spamreport
-- (opt-out) and group_resubscribe (opt-in) at their own time; per channel the latest wins
-- (on a tie: explicit request, then channel event, then Shopify).
-- The channel events come from int_consent_events (kept incrementally: only the events that
-- bear on consent, each as its staging model states it), resolved to persons here each build.
with

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

customers as (

    select * from {{ ref('stg_shopify__customers') }}

),

consent_requests as (

    select * from {{ ref('stg_consent__requests') }}

),

consent_events as (

    select * from {{ ref('int_consent_events') }}

),

sms_messages as (

    select
        event_id as message_sid,
        phone as customer_phone,
        consent_change,
        occurred_at as sent_at
    from consent_events
    where channel = 'sms'

),

email_events as (

    select
        event_id,
        email,
        source_event as sendgrid_event,
        consent_change,
        is_hard_bounce,
        occurred_at
    from consent_events
    where channel = 'email'

),

push_events as (

    select
        event_id,
        device_token,
        platform,
        source_event as push_event,
        occurred_at
    from consent_events
    where channel = 'push'

),

shopify_flags as (

    select
        identifiers.customer_id,
        flags.channel,
        flags.is_opted_in,
        {{ end_of_day('customers.snapshot_date') }} as effective_at,
        'shopify' as consent_source,
        1 as source_priority,
        customers.source_customer_id as change_key
    from customers
    cross join lateral (
        select 'email' as channel, customers.accepts_email_marketing as is_opted_in
        union all
        select 'sms' as channel, customers.accepts_sms_marketing as is_opted_in
    ) as flags
    inner join identifiers
        on identifiers.identifier_type = 'customer_id'
        and customers.source_customer_id = identifiers.identifier_value
    where flags.is_opted_in is not null and customers.snapshot_date <= {{ run_date() }}

),

request_changes as (

    select
        coalesce(by_id.customer_id, by_email.customer_id, by_phone.customer_id) as customer_id,
        channels.channel,
        consent_requests.request_type = 'opt_in' as is_opted_in,
        consent_requests.occurred_at as effective_at,
        'consent_request' as consent_source,
        3 as source_priority,
        consent_requests.request_id as change_key
    from consent_requests
    inner join (
        select 'email' as channel
        union all
        select 'sms' as channel
        union all
        select 'push' as channel
    ) as channels
        on consent_requests.channel in (channels.channel, 'all')
    left join identifiers as by_id
        on by_id.identifier_type = 'customer_id'
        and consent_requests.source_customer_id = by_id.identifier_value
    left join identifiers as by_email
        on by_email.identifier_type = 'email'
        and consent_requests.email = by_email.identifier_value
    left join identifiers as by_phone
        on by_phone.identifier_type = 'phone'
        and consent_requests.phone = by_phone.identifier_value
    where
        consent_requests.request_type in ('opt_in', 'opt_out')
        and consent_requests.occurred_at <= {{ run_end_at() }}

),

sms_keyword_changes as (

    select
        identifiers.customer_id,
        'sms' as channel,
        sms_messages.consent_change = 'opt_in' as is_opted_in,
        sms_messages.sent_at as effective_at,
        'sms_keyword' as consent_source,
        2 as source_priority,
        sms_messages.message_sid as change_key
    from sms_messages
    inner join identifiers
        on identifiers.identifier_type = 'phone'
        and sms_messages.customer_phone = identifiers.identifier_value
    where
        -- int_consent_events keeps a reply's keyword only (an outbound message has none)
        sms_messages.consent_change is not null
        and sms_messages.sent_at <= {{ run_end_at() }}

),

email_event_changes as (

    select
        identifiers.customer_id,
        'email' as channel,
        email_events.consent_change = 'opt_in' as is_opted_in,
        email_events.occurred_at as effective_at,
        'sendgrid_' || email_events.sendgrid_event as consent_source,
        2 as source_priority,
        email_events.event_id as change_key
    from email_events
    inner join identifiers
        on identifiers.identifier_type = 'email'
        and email_events.email = identifiers.identifier_value
    where email_events.consent_change is not null and email_events.occurred_at <= {{ run_end_at() }}

),

consent_changes as (

    select * from shopify_flags
    union all
    select * from request_changes where customer_id is not null
    union all
    select * from sms_keyword_changes
    union all
    select * from email_event_changes

),

latest_consent_ranked as (

    select
        *,
        row_number() over (
            partition by customer_id, channel
            order by effective_at desc, source_priority desc, change_key desc
        ) as row_rank
    from consent_changes

),

latest_consent as (

    select * from latest_consent_ranked
    where row_rank = 1

),

-- a hard bounce or spam complaint counts until the address is explicitly opted in again
last_explicit_email_opt_in as (

    select
        customer_id,
        max(effective_at) as opted_in_at
    from consent_changes
    where channel = 'email' and is_opted_in and consent_source != 'shopify'
    group by 1

),

email_problems as (

    select
        identifiers.customer_id,
        max(case when email_events.is_hard_bounce then email_events.occurred_at end) as last_hard_bounce_at,
        max(case when email_events.sendgrid_event = 'spamreport' then email_events.occurred_at end)
            as last_spam_complaint_at
    from email_events
    inner join identifiers
        on identifiers.identifier_type = 'email'
        and email_events.email = identifiers.identifier_value
    where email_events.occurred_at <= {{ run_end_at() }}
    group by 1

),

device_states_ranked as (

    select
        identifiers.customer_id,
        push_events.device_token,
        push_events.platform,
        push_events.push_event,
        push_events.occurred_at,
        row_number() over (
            partition by push_events.device_token
            order by push_events.occurred_at desc, push_events.event_id desc
        ) as row_rank
    from push_events
    inner join identifiers
        on identifiers.identifier_type = 'device_token'
        and push_events.device_token = identifiers.identifier_value
    where
        push_events.push_event in ('device_registered', 'device_unregistered')
        and push_events.occurred_at <= {{ run_end_at() }}

),

device_states as (

    select * from device_states_ranked
    where row_rank = 1

),

latest_active_devices_ranked as (

    select
        customer_id,
        device_token,
        platform,
        occurred_at as registered_at,
        row_number() over (
            partition by customer_id
            order by occurred_at desc, device_token desc
        ) as row_rank
    from device_states
    where push_event = 'device_registered'

),

latest_active_devices as (

    select * from latest_active_devices_ranked
    where row_rank = 1

),

persons_with_devices as (

    select distinct customer_id from device_states

),

joined as (

    select
        profiles.customer_id,
        coalesce(email_consent.is_opted_in, false) as has_email_consent,
        email_consent.effective_at as email_consent_at,
        email_consent.consent_source as email_consent_source,
        coalesce(sms_consent.is_opted_in, false) as has_sms_consent,
        sms_consent.effective_at as sms_consent_at,
        sms_consent.consent_source as sms_consent_source,
        -- push permission is given on the device: a registered device is consent unless
        -- push (or all) was opted out later
        coalesce(push_consent.is_opted_in, persons_with_devices.customer_id is not null)
            as has_push_consent,
        push_consent.effective_at as push_consent_at,
        push_consent.consent_source as push_consent_source,
        email_problems.last_hard_bounce_at,
        coalesce(
            email_problems.last_hard_bounce_at is null
            or email_problems.last_hard_bounce_at < last_explicit_email_opt_in.opted_in_at,
            false
        ) as is_email_deliverable,
        coalesce(
            email_problems.last_spam_complaint_at is not null
            and (
                last_explicit_email_opt_in.opted_in_at is null
                or email_problems.last_spam_complaint_at > last_explicit_email_opt_in.opted_in_at
            ),
            false
        ) as has_spam_complaint,
        latest_active_devices.device_token as push_device_token,
        latest_active_devices.platform as push_platform,
        latest_active_devices.registered_at as push_registered_at,
        profiles.email,
        profiles.phone
    from profiles
    left join latest_consent as email_consent
        on profiles.customer_id = email_consent.customer_id and email_consent.channel = 'email'
    left join latest_consent as sms_consent
        on profiles.customer_id = sms_consent.customer_id and sms_consent.channel = 'sms'
    left join latest_consent as push_consent
        on profiles.customer_id = push_consent.customer_id and push_consent.channel = 'push'
    left join email_problems
        on profiles.customer_id = email_problems.customer_id
    left join last_explicit_email_opt_in
        on profiles.customer_id = last_explicit_email_opt_in.customer_id
    left join latest_active_devices
        on profiles.customer_id = latest_active_devices.customer_id
    left join persons_with_devices
        on profiles.customer_id = persons_with_devices.customer_id

),

final as (

    select
        customer_id,
        has_email_consent,
        email_consent_at,
        email_consent_source,
        has_sms_consent,
        sms_consent_at,
        sms_consent_source,
        has_push_consent,
        push_consent_at,
        push_consent_source,
        last_hard_bounce_at,
        is_email_deliverable,
        has_spam_complaint,
        push_device_token,
        push_platform,
        push_registered_at,
        has_email_consent and is_email_deliverable and not has_spam_complaint and email is not null
            as is_email_reachable,
        has_sms_consent and phone is not null as is_sms_reachable,
        has_push_consent and push_device_token is not null as is_push_reachable
    from joined

)

select * from final
