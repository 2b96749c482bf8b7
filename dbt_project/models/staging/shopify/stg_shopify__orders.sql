-- One row per order: the order-level fields of its latest export's first line, as
-- stg_shopify__order_lines gives them on line 1. Identity stitching and fct_orders read this,
-- not the line items. The logic is the macro stg_shopify_orders_from (macros/staging.sql),
-- shared with the incremental fct_orders.
with

final as (

    select * from {{ stg_shopify_orders_from(source('shopify', 'orders')) }} as orders

)

select * from final
