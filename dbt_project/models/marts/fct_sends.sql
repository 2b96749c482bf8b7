{{
    config(
        materialized='incremental',
        unique_key='send_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_erased_rows() }}"],
    )
}}

-- One row per message sent (email processed, Twilio outbound, push send), with when the
-- person first engaged with it (human open or click; never a machine open) and the local
-- wall time of the send in the person's time zone.
-- Incremental: a build rewrites the sends int_send_outcomes re-derived since the last build
-- and the sends of people whose time zone changed - so it grows with the new day and equals a
-- full refresh; rows of erased persons are deleted by the post-hook.
{%- set built_through = incremental_watermark('sent_at') %}
with

send_outcomes as (

    select * from {{ ref('int_send_outcomes') }}

),

timezones as (

    select * from {{ ref('int_customer_timezones') }}

),

{% if is_incremental() %}
-- people whose time zone is not the one their sends were localised in
moved_customers as (

    select distinct sent.customer_id
    from {{ this }} as sent
    inner join timezones
        on sent.customer_id = timezones.customer_id
    where sent.timezone != timezones.timezone

),

sends as (

    select * from send_outcomes
    where
        -- derived_at is the end of a run date; sent_at never passes the last one built
        derived_at >= {{ built_through }}
        or customer_id in (select customer_id from moved_customers)

),
{% else %}
sends as (

    select * from send_outcomes

),
{% endif %}

localised as (

    select
        sends.send_id,
        sends.customer_id,
        sends.channel,
        sends.sent_at,
        sends.campaign_id,
        sends.message_id,
        timezones.timezone,
        {{ to_local('sends.sent_at', 'timezones.timezone') }} as sent_local_at,
        sends.first_engaged_at,
        sends.is_delivered
    from sends
    inner join timezones
        on sends.customer_id = timezones.customer_id

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
