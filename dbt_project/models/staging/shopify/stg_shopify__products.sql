-- One row per sku per catalog snapshot (delivery day). Rows after the first of a Handle
-- inherit its Title, Type and Published; when a day has several files the latest wins.
with

source as (

    select * from {{ source('shopify', 'catalog') }}

),

inherited as (

    select
        *,
        first_value(title) over handle_rows as handle_title,
        first_value(product_type) over handle_rows as handle_product_type,
        first_value(published) over handle_rows as handle_published
    from source
    window handle_rows as (partition by _file, handle order by _line)

),

ranked as (

    select
        *,
        row_number() over (
            partition by _dt, variant_sku
            order by _file desc, _line desc
        ) as row_recency_rank
    from inherited
    where nullif(trim(variant_sku), '') is not null

),

renamed as (

    select
        _dt || '|' || trim(variant_sku) as product_snapshot_id,
        trim(variant_sku) as sku,
        handle,
        coalesce(nullif(trim(title), ''), handle_title) as title,
        coalesce(nullif(trim(product_type), ''), handle_product_type) as category,
        variant_price as price,
        variant_compare_at_price as compare_at_price,
        variant_inventory_qty as inventory_qty,
        coalesce(published, handle_published, false) as is_published,
        _dt as snapshot_date,
        _file as source_file
    from ranked
    where row_recency_rank = 1

),

final as (

    select * from renamed

)

select * from final
