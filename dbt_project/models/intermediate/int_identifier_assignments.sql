{{
    config(
        materialized='incremental',
        unique_key='identifier_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_unassigned_identifiers() }}"],
    )
}}

-- When each identifier got the person it belongs to now: int_identifiers_stitched_to_customers
-- kept incrementally, each row stamped with the end of the run date D of the incremental build
-- that first gave it its current person (1900-01-01 when a full refresh did: the facts built in
-- the same full refresh start from scratch too). The incremental event facts re-resolve the events of the
-- identifiers stamped since their last build (a visitor who logged in, an address a new
-- Shopify customer took over), instead of re-resolving every event every day.
-- Identifiers that no longer belong to anyone (erased) are deleted by the post-hook.
with

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

final as (

    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.customer_id,
        {{ build_stamp() }} as assigned_at
    from identifiers
    {% if is_incremental() %}
    left join {{ this }} as assigned
        on identifiers.identifier_key = assigned.identifier_key
        and identifiers.customer_id = assigned.customer_id
    where assigned.identifier_key is null
    {% endif %}

)

select * from final
