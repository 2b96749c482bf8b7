-- One row per Shopify order (its latest export), joined to a person by email first, then
-- phone. Cancelled or voided orders are kept but flagged, and count for nothing.
with

order_lines as (

    select * from {{ ref('stg_shopify__order_lines') }}

),

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

orders as (

    select * from order_lines
    where line_number = 1 and ordered_at <= {{ run_end_at() }}

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
