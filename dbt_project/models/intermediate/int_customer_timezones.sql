-- One row per person: their IANA time zone, from the latest push device registration that
-- carried one, else the latest browser time zone on the storefront, else their address
-- (country + province, else country, from the timezone_by_region seed), else UTC.
with

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

push_events as (

    select * from {{ ref('stg_push__events') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

timezone_by_region as (

    select * from {{ ref('timezone_by_region') }}

),

valid_timezones as (

    select name as timezone from pg_timezone_names()

),

device_timezones_ranked as (

    select
        identifiers.customer_id,
        push_events.timezone,
        row_number() over (
            partition by identifiers.customer_id
            order by push_events.occurred_at desc, push_events.event_id desc
        ) as row_rank
    from push_events
    inner join identifiers
        on identifiers.identifier_type = 'device_token'
        and push_events.device_token = identifiers.identifier_value
    where
        push_events.push_event = 'device_registered'
        and push_events.timezone in (select timezone from valid_timezones)
        and push_events.occurred_at <= {{ run_end_at() }}

),

device_timezones as (

    select * from device_timezones_ranked
    where row_rank = 1

),

web_events_resolved as (

    select
        coalesce(by_id.customer_id, by_email.customer_id, by_anonymous_id.customer_id) as customer_id,
        web_events.timezone,
        web_events.occurred_at,
        web_events.event_id
    from web_events
    left join identifiers as by_id
        on by_id.identifier_type = 'customer_id'
        and web_events.source_customer_id = by_id.identifier_value
    left join identifiers as by_email
        on by_email.identifier_type = 'email'
        and web_events.email = by_email.identifier_value
    left join identifiers as by_anonymous_id
        on by_anonymous_id.identifier_type = 'anonymous_id'
        and web_events.anonymous_id = by_anonymous_id.identifier_value
    where
        web_events.timezone in (select timezone from valid_timezones)
        and web_events.occurred_at <= {{ run_end_at() }}

),

browser_timezones_ranked as (

    select
        customer_id,
        timezone,
        row_number() over (
            partition by customer_id
            order by occurred_at desc, event_id desc
        ) as row_rank
    from web_events_resolved
    where customer_id is not null

),

browser_timezones as (

    select * from browser_timezones_ranked
    where row_rank = 1

),

region_timezones as (

    select
        profiles.customer_id,
        coalesce(by_province.timezone, by_country.timezone) as timezone
    from profiles
    left join timezone_by_region as by_province
        on profiles.country_code = by_province.country_code
        and profiles.province_code = by_province.province_code
    left join timezone_by_region as by_country
        on profiles.country_code = by_country.country_code
        and by_country.province_code is null
    where coalesce(by_province.timezone, by_country.timezone) is not null

),

final as (

    select
        profiles.customer_id,
        coalesce(
            device_timezones.timezone,
            browser_timezones.timezone,
            region_timezones.timezone,
            'UTC'
        ) as timezone,
        case
            when device_timezones.timezone is not null then 'device'
            when browser_timezones.timezone is not null then 'browser'
            when region_timezones.timezone is not null then 'region'
            else 'default'
        end as timezone_source
    from profiles
    left join device_timezones
        on profiles.customer_id = device_timezones.customer_id
    left join browser_timezones
        on profiles.customer_id = browser_timezones.customer_id
    left join region_timezones
        on profiles.customer_id = region_timezones.customer_id

)

select * from final
