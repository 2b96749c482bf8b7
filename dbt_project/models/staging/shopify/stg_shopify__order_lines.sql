-- One row per order line item. An order may be exported again in a later file (e.g. after
-- a refund): its latest export wins (later delivery day, then later file). Order-level
-- fields are filled from the order's first line, as Shopify leaves them blank after it.
with

source as (

    select * from {{ source('shopify', 'orders') }}

),

latest_export as (

    select
        order_id,
        max(_dt || '|' || _file) as export_key
    from source
    group by 1

),

lines as (

    select
        source.*,
        row_number() over (partition by source.order_id order by source._line) as line_number
    from source
    inner join latest_export
        on source.order_id = latest_export.order_id
        and (source._dt || '|' || source._file) = latest_export.export_key

),

first_lines as (

    select * from lines where line_number = 1

),

renamed as (

    select
        lines.order_id || '-' || lines.line_number as order_line_id,
        cast(lines.order_id as varchar) as order_id,
        lines.line_number,
        coalesce(nullif(trim(lines.order_name), ''), first_lines.order_name) as order_name,
        coalesce(
            nullif(lower(trim(lines.email)), ''), nullif(lower(trim(first_lines.email)), '')
        ) as email,
        coalesce(nullif(trim(lines.phone), ''), nullif(trim(first_lines.phone), '')) as phone,
        coalesce(lines.created_at, first_lines.created_at) as ordered_at,
        lower(first_lines.financial_status) as financial_status,
        first_lines.cancelled_at,
        upper(first_lines.currency) as currency,
        coalesce(first_lines.subtotal, 0) as subtotal,
        coalesce(first_lines.discount_amount, 0) as discount_amount,
        coalesce(first_lines.total, 0) as total,
        coalesce(first_lines.refunded_amount, 0) as refunded_amount,
        first_lines.source as order_source,
        coalesce(lines.lineitem_quantity, 0) as quantity,
        lines.lineitem_name as product_name,
        coalesce(lines.lineitem_price, 0) as unit_price,
        nullif(trim(lines.lineitem_sku), '') as sku,
        lines.vendor,
        lines._dt as export_date,
        lines._file as source_file,
        lines._line as source_line
    from lines
    inner join first_lines
        on lines.order_id = first_lines.order_id

),

final as (

    select * from renamed

)

select * from final
