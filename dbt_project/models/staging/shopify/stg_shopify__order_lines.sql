-- One row per order line item. An order may be exported again in a later file (e.g. after
-- a refund): its latest export wins (later delivery day, then later file). Order-level
-- fields are filled from the order's first line, as Shopify leaves them blank after it.
-- The logic is the macro stg_shopify_order_lines_from (macros/staging.sql), shared with the
-- incremental fct_orders and fct_order_lines.
with

final as (

    select * from {{ stg_shopify_order_lines_from(source('shopify', 'orders')) }} as order_lines

)

select * from final
