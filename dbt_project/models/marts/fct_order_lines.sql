{{
    watermarked_incremental_config(
        unique_key='order_id',
        sources=[('shopify', 'orders')],
    )
}}

-- depends_on: {{ ref('int_identifier_assignments') }}
-- depends_on: {{ ref('int_identifiers_stitched_to_customers') }}
-- One row per order line item, with the order's person and cancellation, and the sku's
-- category from the latest catalog snapshot.
-- Incremental: a build re-derives all the lines of the orders it touches - those fct_orders
-- re-derives (touched_order_ids, with this model's own watermarks), and those with a line
-- whose sku's category is not the one it keeps (a new catalog snapshot) - keyed on order_id,
-- so an export with fewer lines leaves none behind; it equals a full refresh, and rows of
-- erased persons are deleted by the post-hook.
{%- set loaded_since = committed_watermark() %}
{%- set due_since = incremental_watermark('ordered_at') %}
with

products as (

    select * from {{ ref('dim_products') }}

),

{% if is_incremental() %}
-- skus whose category in the latest snapshot differs from the one their kept lines show
recategorised_skus as (

    select kept.sku
    from (select distinct sku, category from {{ this }} where sku is not null) as kept
    left join products
        on kept.sku = products.sku
    where kept.category is distinct from products.category

),

touched_orders as (

    select order_id from {{ touched_order_ids(loaded_since, due_since) }} as touched

    union

    select order_id from {{ this }}
    where sku in (select sku from recategorised_skus)

),

source_rows as (

    select * from {{ source('shopify', 'orders') }}
    where order_id in (select order_id from touched_orders)

),
{% endif %}

order_lines as (

    select *
    from {{ stg_shopify_order_lines_from('source_rows' if is_incremental() else source('shopify', 'orders')) }}
        as staged

),

orders as (

    select * from {{ ref('fct_orders') }}

),

final as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_id,
        orders.ordered_at,
        order_lines.sku,
        order_lines.product_name,
        products.category,
        order_lines.quantity,
        order_lines.unit_price,
        cast(order_lines.quantity * order_lines.unit_price as decimal(18, 2)) as line_total,
        orders.is_cancelled
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join products
        on order_lines.sku = products.sku

)

select * from final
