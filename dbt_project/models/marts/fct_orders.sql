{{
    watermarked_incremental_config(
        unique_key='order_id',
        sources=[('shopify', 'orders')],
    )
}}

-- depends_on: {{ ref('int_identifier_assignments') }}
-- One row per Shopify order (its latest export), joined to a person by email first, then
-- phone. Cancelled or voided orders are kept but flagged, and count for nothing.
-- Incremental: a build re-derives only the orders it touches (touched_order_ids) - an export
-- row loaded after the newest load its last build saw (intermediate.incremental_watermarks;
-- late files for old dt= partitions included), created or cancelled on or after the newest
-- order kept (due, or cancelled, because D moved on), naming an email or phone whose person
-- changed since the last build (int_identifier_assignments), or kept for a person who is no
-- longer one - each from all its raw export rows, so it grows with the new day and equals a
-- full refresh; rows of erased persons are deleted by the post-hook.
{%- set loaded_since = committed_watermark() %}
{%- set due_since = incremental_watermark('ordered_at') %}
with

{% if is_incremental() %}
source_rows as (

    select * from {{ source('shopify', 'orders') }}
    where order_id in {{ touched_order_ids(loaded_since, due_since) }}

),
{% endif %}

-- not materialized: joined two times, each a scan of one identifier type's rows, where a
-- materialised CTE would copy the whole table first
identifiers as not materialized (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

-- one row per order (its latest export's first line), as stg_shopify__orders
orders as (

    select *
    from {{ stg_shopify_orders_from('source_rows' if is_incremental() else source('shopify', 'orders')) }}
        as staged
    where ordered_at <= {{ run_end_at() }}

),

resolved as (

    select
        orders.*,
        coalesce(by_email.customer_id, by_phone.customer_id) as customer_id
    from orders
    left join identifiers as by_email
        on by_email.identifier_type = 'email'
        and orders.email = by_email.identifier_value
    left join identifiers as by_phone
        on by_phone.identifier_type = 'phone'
        and orders.phone = by_phone.identifier_value

),

final as (

    select
        order_id,
        order_name,
        customer_id,
        ordered_at,
        financial_status,
        (cancelled_at is not null and cancelled_at <= {{ run_end_at() }})
        or coalesce(financial_status = 'voided', false) as is_cancelled,
        currency,
        subtotal,
        discount_amount,
        total,
        refunded_amount,
        case
            when (cancelled_at is not null and cancelled_at <= {{ run_end_at() }})
                or coalesce(financial_status = 'voided', false)
                then cast(0 as decimal(18, 2))
            else cast(total - refunded_amount as decimal(18, 2))
        end as net_total,
        order_source as source
    from resolved
    -- an order with a contact point that resolves to no one belongs to an erased person
    where customer_id is not null or (email is null and phone is null)

)

select * from final
