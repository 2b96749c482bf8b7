{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_erased_rows(identifier_columns={'anonymous_id': 'anonymous_id'}) }}"],
    )
}}

-- One row per storefront event. The person is found through the event's customer id, else
-- its email, else its anonymous id - so a visitor's events before they logged in or
-- checked out belong to them too. customer_id stays null for visitors never resolved.
-- Incremental like fct_message_events: new or changed rows only, equal to a full refresh.
with

web_events as (

    select * from {{ ref('stg_web__events') }}

),

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

resolved as (

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

events as (

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

),

final as (

    select * from events
    {% if is_incremental() %}
    except
    select * from {{ this }}
    {% endif %}

)

select * from final
