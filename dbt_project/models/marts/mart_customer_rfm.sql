-- RFM per customer with at least one counted order in the RFM window (var rfm_window_months):
-- recency = whole days from the UTC date of the last counted order to D, frequency = counted
-- orders, monetary = their totals net of refunds. Cancelled / voided orders do not count.
-- Scores are quintiles (ntile(5), 5 = best; ties broken by customer_id) and the segment
-- comes from the recency x frequency grid in the rfm_segment_map seed.
with

orders as (

    select * from {{ ref('fct_orders') }}

),

segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

counted_orders as (

    select * from orders
    where
        not is_cancelled
        and customer_id is not null
        and ordered_at > cast({{ run_date() }} - interval '{{ var('rfm_window_months') }} months' as timestamp)
        and ordered_at <= {{ run_end_at() }}

),

customer_orders as (

    select
        customer_id,
        {{ dbt.datediff('cast(max(ordered_at) as date)', run_date(), 'day') }} as recency_days,
        count(*) as frequency,
        sum(net_total) as monetary
    from counted_orders
    group by 1

),

scored as (

    select
        *,
        ntile(5) over (order by recency_days desc, customer_id) as r_score,
        ntile(5) over (order by frequency, customer_id) as f_score,
        ntile(5) over (order by monetary, customer_id) as m_score
    from customer_orders

),

final as (

    select
        cast(scored.customer_id as varchar) as customer_id,
        cast(scored.recency_days as integer) as recency_days,
        cast(scored.frequency as integer) as frequency,
        cast(scored.monetary as decimal(18, 2)) as monetary,
        cast(scored.r_score as integer) as r_score,
        cast(scored.f_score as integer) as f_score,
        cast(scored.m_score as integer) as m_score,
        cast(segment_map.rfm_segment as varchar) as rfm_segment
    from scored
    left join segment_map
        on scored.r_score = segment_map.r_score
        and scored.f_score = segment_map.f_score

)

select * from final
