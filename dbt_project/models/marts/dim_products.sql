-- One row per sku in the latest catalog snapshot on or before D, with its price in the
-- previous snapshot (the latest earlier delivery day present) and whether it dropped.
with

products as (

    select * from {{ ref('stg_shopify__products') }}
    where snapshot_date <= {{ run_date() }}

),

snapshot_dates as (

    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date,
        row_number() over (order by snapshot_date desc) as snapshot_recency_rank
    from (select distinct snapshot_date from products) as snapshot_days

),

latest_snapshot as (

    select * from snapshot_dates where snapshot_recency_rank = 1

),

final as (

    select
        current_products.sku,
        current_products.handle,
        current_products.title,
        current_products.category,
        current_products.price,
        current_products.compare_at_price,
        current_products.inventory_qty,
        current_products.is_published,
        previous_products.price as previous_price,
        coalesce(current_products.price < previous_products.price, false) as is_price_drop,
        current_products.snapshot_date
    from products as current_products
    inner join latest_snapshot
        on current_products.snapshot_date = latest_snapshot.snapshot_date
    left join products as previous_products
        on current_products.sku = previous_products.sku
        and previous_products.snapshot_date = latest_snapshot.previous_snapshot_date

)

select * from final
