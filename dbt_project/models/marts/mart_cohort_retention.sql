-- Monthly cohort retention: customers grouped by the month (UTC) of their first counted
-- order; for each month since, how many of them placed a counted order in that month.
with

orders as (

    select * from {{ ref('fct_orders') }}

),

counted_orders as (

    select
        customer_id,
        cast(date_trunc('month', ordered_at) as date) as order_month
    from orders
    where not is_cancelled and customer_id is not null

),

cohorts as (

    select
        customer_id,
        min(order_month) as cohort_month
    from counted_orders
    group by 1

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as cohort_size
    from cohorts
    group by 1

),

cohort_months as (

    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        months.months_since_first_order
    from cohort_sizes
    cross join lateral generate_series(
        0,
        cast(
            {{ dbt.datediff('cohort_sizes.cohort_month', "cast(date_trunc('month', " ~ run_date() ~ ") as date)", 'month') }}
            as integer
        )
    ) as months (months_since_first_order)

),

activity as (

    select
        cohorts.cohort_month,
        {{ dbt.datediff('cohorts.cohort_month', 'counted_orders.order_month', 'month') }} as months_since_first_order,
        count(distinct counted_orders.customer_id) as retained_customers
    from counted_orders
    inner join cohorts
        on counted_orders.customer_id = cohorts.customer_id
    group by 1, 2

),

final as (

    select
        cohort_months.cohort_month,
        cast(cohort_months.months_since_first_order as integer) as months_since_first_order,
        cast(cohort_months.cohort_size as integer) as cohort_size,
        cast(coalesce(activity.retained_customers, 0) as integer) as retained_customers,
        {{ safe_divide('coalesce(activity.retained_customers, 0)', 'cohort_months.cohort_size') }} as retention_rate
    from cohort_months
    left join activity
        on cohort_months.cohort_month = activity.cohort_month
        and cohort_months.months_since_first_order = activity.months_since_first_order

)

select * from final
