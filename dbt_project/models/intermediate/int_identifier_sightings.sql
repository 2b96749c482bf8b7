{{
    config(
        materialized='incremental',
        unique_key='identifier_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_tombstoned_sightings() }}"],
    )
}}

-- One row per identifier seen in an event source (SendGrid, Twilio messages and clicks, push,
-- web) - rule 2 of identity stitching - and, for push device tokens and web anonymous ids,
-- the latest event on it (up to the end of D) that names a person (customer id, else email)
-- - rule 4 - and the latest time zones seen on it (for int_customer_timezones). Read from
-- the raw tables: a redelivered event repeats its fields, so the staging models'
-- de-duplication cannot change this set or these latest values.
-- Incremental: a build reads only the raw rows loaded after the newest load already merged
-- (late files for old dt= partitions included) plus events that became due because D moved
-- past their time, and merges them with the rows already kept for the same identifiers; so it
-- grows with the new day's data and equals a full refresh. Identifiers of erased persons are
-- never kept (see the post-hook).
with

-- not materialized: each consumer below scans only the columns and rows it needs, where a
-- materialised CTE would hold every raw event of every source (spilling past the memory limit)
raw_events as not materialized (

    select
        'web' as event_source,
        nullif(trim(anonymous_id), '') as anonymous_id,
        cast(null as varchar) as device_token,
        nullif(trim(customer_id), '') as source_customer_id,
        nullif(lower(trim(email)), '') as email,
        cast(null as varchar) as phone,
        cast(null as varchar) as push_event,
        nullif(trim(timezone), '') as timezone,
        occurred_at,
        event_id,
        _loaded_at
    from {{ sightings_rows(source('web', 'web_events'), 'occurred_at') }} as new_rows

    union all

    select
        'push' as event_source,
        null as anonymous_id,
        nullif(trim(device_token), '') as device_token,
        nullif(trim(customer_id), '') as source_customer_id,
        nullif(lower(trim(email)), '') as email,
        null as phone,
        lower(event_type) as push_event,
        nullif(trim(timezone), '') as timezone,
        occurred_at,
        event_id,
        _loaded_at
    from {{ sightings_rows(source('push', 'push_events'), 'occurred_at') }} as new_rows

    union all

    select
        'sendgrid' as event_source,
        null as anonymous_id,
        null as device_token,
        null as source_customer_id,
        nullif(lower(trim(email)), '') as email,
        null as phone,
        null as push_event,
        null as timezone,
        null as occurred_at,
        null as event_id,
        _loaded_at
    from {{ sightings_rows(source('sendgrid', 'email_events')) }} as new_rows

    union all

    -- the person's number: the recipient of an outbound message, the sender of a reply
    select
        'twilio' as event_source,
        null as anonymous_id,
        null as device_token,
        null as source_customer_id,
        null as email,
        case when lower(direction) like 'outbound%' then to_number else from_number end as phone,
        null as push_event,
        null as timezone,
        null as occurred_at,
        null as event_id,
        _loaded_at
    from {{ sightings_rows(source('twilio', 'sms_messages')) }} as new_rows

    union all

    select
        'twilio_click' as event_source,
        null as anonymous_id,
        null as device_token,
        null as source_customer_id,
        null as email,
        to_number as phone,
        null as push_event,
        null as timezone,
        null as occurred_at,
        null as event_id,
        _loaded_at
    from {{ sightings_rows(source('twilio', 'sms_clicks')) }} as new_rows
    where lower(event_type) = 'click'

),

seen as (

    select 'customer_id' as identifier_type, source_customer_id as identifier_value, _loaded_at
    from raw_events where source_customer_id is not null
    union all
    select 'email', email, _loaded_at from raw_events where email is not null
    union all
    select 'phone', phone, _loaded_at from raw_events where phone is not null
    union all
    select 'device_token', device_token, _loaded_at from raw_events where device_token is not null
    union all
    select 'anonymous_id', anonymous_id, _loaded_at from raw_events where anonymous_id is not null

),

login_candidates as (

    select
        case when device_token is not null then 'device_token' else 'anonymous_id' end as identifier_type,
        coalesce(device_token, anonymous_id) as identifier_value,
        case when source_customer_id is not null then 'customer_id' else 'email' end as login_parent_type,
        coalesce(source_customer_id, email) as login_parent_value,
        occurred_at as login_at,
        event_id as login_event_id
    from raw_events
    where
        coalesce(device_token, anonymous_id) is not null
        and coalesce(source_customer_id, email) is not null
        and occurred_at <= {{ run_end_at() }}

    {% if is_incremental() %}
    union all

    -- the link already kept for an identifier the new rows touch
    select
        identifier_type,
        identifier_value,
        login_parent_type,
        login_parent_value,
        login_at,
        login_event_id
    from {{ this }}
    where login_at is not null
    {% endif %}

),

valid_timezones as (

    select name as timezone from pg_timezone_names()

),

-- time zones (int_customer_timezones): a device's latest registration carrying a valid zone,
-- and the latest storefront event carrying one, kept on the identifier that decides the
-- event's person (its customer id, else its email, else its anonymous id)
timezone_candidates as (

    select
        'device_token' as identifier_type,
        device_token as identifier_value,
        'device' as timezone_kind,
        timezone,
        occurred_at as timezone_at,
        event_id as timezone_event_id
    from raw_events
    where
        device_token is not null
        and push_event = 'device_registered'
        and timezone in (select timezone from valid_timezones)
        and occurred_at <= {{ run_end_at() }}

    union all

    select
        case
            when source_customer_id is not null then 'customer_id'
            when email is not null then 'email'
            else 'anonymous_id'
        end as identifier_type,
        coalesce(source_customer_id, email, anonymous_id) as identifier_value,
        'browser' as timezone_kind,
        timezone,
        occurred_at as timezone_at,
        event_id as timezone_event_id
    from raw_events
    where
        event_source = 'web'
        and coalesce(source_customer_id, email, anonymous_id) is not null
        and timezone in (select timezone from valid_timezones)
        and occurred_at <= {{ run_end_at() }}

    {% if is_incremental() %}
    union all

    select
        identifier_type,
        identifier_value,
        'device' as timezone_kind,
        device_timezone,
        device_timezone_at,
        device_timezone_event_id
    from {{ this }}
    where device_timezone is not null

    union all

    select
        identifier_type,
        identifier_value,
        'browser' as timezone_kind,
        browser_timezone,
        browser_timezone_at,
        browser_timezone_event_id
    from {{ this }}
    where browser_timezone is not null
    {% endif %}

),

-- the latest per identifier and kind: a tie on time goes to the higher event id, one event
-- delivered twice to the larger zone name
latest_timezones as (

    {{ latest_per_group(
        'timezone_candidates',
        ['identifier_type', 'identifier_value', 'timezone_kind'],
        ['timezone_at', 'timezone_event_id', 'timezone']
    ) }}

),

seen_keys as (

    select
        identifier_type,
        identifier_value,
        max(_loaded_at) as loaded_at
    from seen
    group by 1, 2

    {% if is_incremental() %}
    union all

    select
        identifier_type,
        identifier_value,
        loaded_at
    from {{ this }}
    {% endif %}

),

identifiers as (

    select
        identifier_type,
        identifier_value,
        max(loaded_at) as loaded_at
    from seen_keys
    group by 1, 2

),

logins_to_rank as (

    select
        *,
        login_parent_type = 'customer_id' as names_customer_id
    from login_candidates

),

-- the latest login per identifier: a tie on time goes to the higher event id, one event
-- delivered twice to its customer id, then the larger value
latest_logins as (

    {{ latest_per_group(
        'logins_to_rank',
        ['identifier_type', 'identifier_value'],
        ['login_at', 'login_event_id', 'names_customer_id', 'login_parent_value', 'login_parent_type']
    ) }}

),

final as (

    select
        identifiers.identifier_type || ':' || identifiers.identifier_value as identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        latest_logins.login_parent_type,
        latest_logins.login_parent_value,
        latest_logins.login_at,
        latest_logins.login_event_id,
        device_timezones.timezone as device_timezone,
        device_timezones.timezone_at as device_timezone_at,
        device_timezones.timezone_event_id as device_timezone_event_id,
        browser_timezones.timezone as browser_timezone,
        browser_timezones.timezone_at as browser_timezone_at,
        browser_timezones.timezone_event_id as browser_timezone_event_id,
        identifiers.loaded_at
    from identifiers
    left join latest_logins
        on identifiers.identifier_type = latest_logins.identifier_type
        and identifiers.identifier_value = latest_logins.identifier_value
    left join latest_timezones as device_timezones
        on identifiers.identifier_type = device_timezones.identifier_type
        and identifiers.identifier_value = device_timezones.identifier_value
        and device_timezones.timezone_kind = 'device'
    left join latest_timezones as browser_timezones
        on identifiers.identifier_type = browser_timezones.identifier_type
        and identifiers.identifier_value = browser_timezones.identifier_value
        and browser_timezones.timezone_kind = 'browser'
    {% if is_incremental() %}
    -- only the identifiers the new rows touch are rewritten
    where identifiers.identifier_type || ':' || identifiers.identifier_value in (
        select identifier_type || ':' || identifier_value from seen
    )
    {% endif %}

)

select * from final
where
    not {{ is_tombstoned_any('identifier_type', 'identifier_value') }}
    and not {{ is_tombstoned_any('login_parent_type', 'login_parent_value') }}
