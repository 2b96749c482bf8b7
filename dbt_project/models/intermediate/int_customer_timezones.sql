-- One row per person: their IANA time zone, from the latest push device registration that
-- carried a valid one, else the latest valid browser time zone on the storefront, else their address
-- (country + province, else country, from the timezone_by_region seed), else UTC.
with

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

-- each identifier's latest device registration / storefront event with a valid zone, kept
-- incrementally (int_identifier_sightings), instead of every event since the beginning
sightings as (

    select * from {{ ref('int_identifier_sightings') }}

),

timezone_by_region as (

    select * from {{ ref('timezone_by_region') }}

),

device_timezones_ranked as (

    select
        identifiers.customer_id,
        sightings.device_timezone as timezone,
        row_number() over (
            partition by identifiers.customer_id
            order by sightings.device_timezone_at desc, sightings.device_timezone_event_id desc
        ) as row_rank
    from sightings
    inner join identifiers
        on sightings.identifier_type = identifiers.identifier_type
        and sightings.identifier_value = identifiers.identifier_value
    where sightings.identifier_type = 'device_token' and sightings.device_timezone is not null

),

device_timezones as (

    select * from device_timezones_ranked
    where row_rank = 1

),

-- a storefront event's person is found through its customer id, else its email, else its
-- anonymous id: the zone is kept on that identifier
browser_timezones_ranked as (

    select
        identifiers.customer_id,
        sightings.browser_timezone as timezone,
        row_number() over (
            partition by identifiers.customer_id
            order by sightings.browser_timezone_at desc, sightings.browser_timezone_event_id desc
        ) as row_rank
    from sightings
    inner join identifiers
        on sightings.identifier_type = identifiers.identifier_type
        and sightings.identifier_value = identifiers.identifier_value
    where sightings.browser_timezone is not null

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
