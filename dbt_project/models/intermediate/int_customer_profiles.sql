-- One row per person: who they are and their contact points. Shopify persons take their
-- profile from the latest customer row; the email / phone shown is the one the person owns
-- (a Shopify address lost to another customer in a conflict is not shown).
with

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

customers as (

    select * from {{ ref('stg_shopify__customers') }}

),

persons as (

    select
        customer_id,
        max(source_customer_id) as source_customer_id,
        max(case when anchor_type = 'email' then anchor_value end) as anchor_email,
        max(case when anchor_type = 'phone' then anchor_value end) as anchor_phone,
        min(case when identifier_type = 'email' then identifier_value end) as any_email,
        min(case when identifier_type = 'phone' then identifier_value end) as any_phone
    from identifiers
    group by 1

),

owned_contacts as (

    select
        customer_id,
        identifier_type,
        identifier_value
    from identifiers
    where identifier_type in ('email', 'phone')

),

final as (

    select
        persons.customer_id,
        persons.source_customer_id,
        customers.first_name,
        customers.last_name,
        coalesce(owned_email.identifier_value, persons.anchor_email, persons.any_email) as email,
        coalesce(owned_phone.identifier_value, persons.anchor_phone, persons.any_phone) as phone,
        customers.city,
        customers.province_code,
        customers.country_code,
        customers.created_at
    from persons
    left join customers
        on persons.source_customer_id = customers.source_customer_id
    left join owned_contacts as owned_email
        on persons.customer_id = owned_email.customer_id
        and owned_email.identifier_type = 'email'
        and customers.email = owned_email.identifier_value
    left join owned_contacts as owned_phone
        on persons.customer_id = owned_phone.customer_id
        and owned_phone.identifier_type = 'phone'
        and customers.phone = owned_phone.identifier_value

)

select * from final
