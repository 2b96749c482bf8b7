{{
    watermarked_incremental_config(
        unique_key='event_id',
        sources=[('web', 'web_events')],
        identifier_columns={'anonymous_id': 'anonymous_id'},
    )
}}

-- depends_on: {{ ref('int_identifier_assignments') }}
-- One row per storefront event. The person is found through the event's customer id, else
-- its email, else its anonymous id - so a visitor's events before they logged in or
-- checked out belong to them too. customer_id stays null for visitors never resolved.
-- Incremental: a build re-derives only the events it touches - raw rows loaded after the
-- newest load its last build saw (intermediate.incremental_watermarks; late files for old dt=
-- partitions included), events that became
-- due because D moved on, and events naming an identifier whose person changed since the last
-- build (int_identifier_assignments) - so it grows with the new day, and equals a full
-- refresh; rows of erased persons are deleted by the post-hook.
{%- set loaded_since = committed_watermark() %}
{%- set due_since = incremental_watermark('occurred_at') %}
with

{% if is_incremental() %}
changed_identifiers as (

    select identifier_type, identifier_value
    from {{ ref('int_identifier_assignments') }}
    where assigned_at >= {{ due_since }}

),

-- identifiers are compared as ingestion stores them (normalised at the edge), so the raw
-- columns need no per-row expression
touched_events as (

    select event_id from {{ source('web', 'web_events') }}
    where _loaded_at > {{ loaded_since }}

    union

    select event_id from {{ source('web', 'web_events') }}
    where occurred_at >= {{ due_since }}

    union

    select event_id from {{ source('web', 'web_events') }}
    where
        customer_id in (
            select identifier_value from changed_identifiers where identifier_type = 'customer_id'
        )
        or email in (
            select identifier_value from changed_identifiers where identifier_type = 'email'
        )
        or anonymous_id in (
            select identifier_value from changed_identifiers where identifier_type = 'anonymous_id'
        )

),

source_rows as (

    select * from {{ source('web', 'web_events') }}
    where event_id in (select event_id from touched_events)

),
{% endif %}

web_events as (

    select *
    from {{ stg_web_events_from('source_rows' if is_incremental() else source('web', 'web_events')) }}
        as staged

),

-- not materialized: joined three times, each a scan of one identifier type's rows, where a
-- materialised CTE would copy the whole table first
identifiers as not materialized (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

-- not materialized: read twice below; materialised, it would hold every column of every
-- event (63M at 1M customers) in memory, where each read needs only a few of them
resolved as not materialized (

    select
        web_events.*,
        coalesce(by_id.customer_id, by_email.customer_id, by_anonymous_id.customer_id) as customer_id
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
    where web_events.occurred_at <= {{ run_end_at() }}

),

-- visitors who logged in as a person that no longer resolves (erased): all their events go
erased_visitors as (

    select distinct anonymous_id
    from resolved
    where
        customer_id is null
        and coalesce(source_customer_id, email) is not null
        and anonymous_id is not null

),

final as (

    select
        event_id,
        customer_id,
        anonymous_id,
        session_id,
        event_type,
        occurred_at,
        sku,
        category,
        price
    from resolved
    -- a named customer id or email that resolves to no one belongs to an erased person
    where
        not (customer_id is null and coalesce(source_customer_id, email) is not null)
        and not {{ is_tombstoned('anonymous_id', 'anonymous_id') }}
        and anonymous_id not in (select anonymous_id from erased_visitors)

)

select * from final
