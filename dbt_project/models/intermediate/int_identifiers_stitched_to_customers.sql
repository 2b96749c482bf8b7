-- Identity stitching: every identifier (Shopify customer id, email, phone, push device token,
-- web anonymous id) mapped to exactly one person. The rules, in order (see the YAML):
--   1. each Shopify customer is a person; it owns the email and phone on its latest row
--      (an address on several customers goes to the customer whose row is latest, then
--      to the lowest Customer ID);
--   2. any other customer id, email or phone seen outside orders is a person of its own;
--   3. an order joins people by email first, then phone; an unmatched order is a guest
--      person anchored on its email (or phone); the latest order decides an identifier;
--   4. a device token / anonymous id joins the person of the latest push / web event on it
--      that names a customer id (or else an email) - so a visitor who later logs in or
--      checks out joins that person, and all of the visitor's earlier events with them.
-- customer_id is deterministic: 'rs_' + 16 hex chars of md5(anchor type ':' anchor value).
-- Erased persons (any identifier tombstoned) are not in this table.
with

-- only the columns stitching needs: read four times below, this CTE is materialised, and the
-- view holds one row per customer with every column
customers as (

    select
        source_customer_id,
        email,
        phone,
        updated_at,
        snapshot_date,
        source_file,
        source_line
    from {{ ref('stg_shopify__customers') }}

),

-- one row per order, not the line items (see the view)
shopify_orders as (

    select * from {{ ref('stg_shopify__orders') }}

),

consent_requests as (

    select * from {{ ref('stg_consent__requests') }}

),

tombstones as (

    select * from {{ ref('stg_ops__erasure_tombstones') }}

),

customer_contacts as (

    select
        'email' as identifier_type,
        email as identifier_value,
        source_customer_id,
        updated_at,
        snapshot_date,
        source_file,
        source_line
    from customers
    where email is not null

    union all

    select
        'phone' as identifier_type,
        phone as identifier_value,
        source_customer_id,
        updated_at,
        snapshot_date,
        source_file,
        source_line
    from customers
    where phone is not null

),

-- rule 1: one owner per address (latest customer row, then lowest Customer ID)
owned_contacts_ranked as (

    select
        identifier_type,
        identifier_value,
        source_customer_id,
        row_number() over (
            partition by identifier_type, identifier_value
            order by
                updated_at desc nulls last,
                snapshot_date desc,
                source_file desc,
                source_line desc,
                source_customer_id asc
        ) as row_rank
    from customer_contacts

),

owned_contacts as (

    select * from owned_contacts_ranked
    where row_rank = 1

),

-- identifiers seen in the event sources (rules 2 and 4), kept incrementally
-- not materialized: a table read twice, each read scanning only the columns it needs
sightings as not materialized (

    select * from {{ ref('int_identifier_sightings') }}

),

seen_identifiers as (

    select 'customer_id' as identifier_type, source_customer_id as identifier_value from customers
    union
    select 'customer_id', source_customer_id from consent_requests where source_customer_id is not null
    union
    select 'email', email from customers where email is not null
    union
    select 'email', email from consent_requests where email is not null
    union
    select 'phone', phone from customers where phone is not null
    union
    select 'phone', phone from consent_requests where phone is not null
    union
    select identifier_type, identifier_value from sightings
    where identifier_type in ('customer_id', 'email', 'phone')

),

-- rules 1 and 2
known_identifiers as (

    select
        seen_identifiers.identifier_type,
        seen_identifiers.identifier_value,
        case
            when owned_contacts.source_customer_id is not null then 'customer_id'
            else seen_identifiers.identifier_type
        end as anchor_type,
        coalesce(owned_contacts.source_customer_id, seen_identifiers.identifier_value) as anchor_value,
        case
            when seen_identifiers.identifier_type = 'customer_id' then 'shopify_customer'
            when owned_contacts.source_customer_id is not null then 'shopify_contact'
            else 'own_anchor'
        end as resolution_rule
    from seen_identifiers
    left join owned_contacts
        on seen_identifiers.identifier_type = owned_contacts.identifier_type
        and seen_identifiers.identifier_value = owned_contacts.identifier_value

),

orders as (

    select
        order_id,
        email,
        phone,
        ordered_at
    from shopify_orders
    where ordered_at <= {{ run_end_at() }}

),

orders_matched as (

    select
        orders.*,
        by_email.anchor_type as email_anchor_type,
        by_email.anchor_value as email_anchor_value,
        by_phone.anchor_type as phone_anchor_type,
        by_phone.anchor_value as phone_anchor_value
    from orders
    left join known_identifiers as by_email
        on by_email.identifier_type = 'email' and orders.email = by_email.identifier_value
    left join known_identifiers as by_phone
        on by_phone.identifier_type = 'phone' and orders.phone = by_phone.identifier_value

),

-- rule 3
order_links as (

    -- email unknown, phone known: the order's email joins the phone's person
    select
        'email' as identifier_type,
        email as identifier_value,
        phone_anchor_type as anchor_type,
        phone_anchor_value as anchor_value,
        'order_phone' as resolution_rule,
        ordered_at,
        order_id
    from orders_matched
    where email is not null and email_anchor_value is null and phone_anchor_value is not null

    union all

    -- neither known: a guest person, anchored on the order's email, or else its phone
    select
        'email' as identifier_type,
        email as identifier_value,
        'email' as anchor_type,
        email as anchor_value,
        'order_guest' as resolution_rule,
        ordered_at,
        order_id
    from orders_matched
    where email is not null and email_anchor_value is null and phone_anchor_value is null

    union all

    select
        'phone' as identifier_type,
        phone as identifier_value,
        case when email is not null then 'email' else 'phone' end as anchor_type,
        coalesce(email, phone) as anchor_value,
        'order_guest' as resolution_rule,
        ordered_at,
        order_id
    from orders_matched
    where phone is not null and email_anchor_value is null and phone_anchor_value is null

),

order_identifiers_ranked as (

    select
        identifier_type,
        identifier_value,
        anchor_type,
        anchor_value,
        resolution_rule,
        row_number() over (
            partition by identifier_type, identifier_value
            order by ordered_at desc, order_id desc
        ) as row_rank
    from order_links

),

order_identifiers as (

    select
        identifier_type,
        identifier_value,
        anchor_type,
        anchor_value,
        resolution_rule
    from order_identifiers_ranked
    where row_rank = 1

),

contact_identifiers as (

    select * from known_identifiers
    union all
    select * from order_identifiers

),

-- rule 4: the latest event on a device token / anonymous id that names a person
latest_login_links as (

    select
        identifier_type,
        identifier_value,
        login_parent_type as parent_type,
        login_parent_value as parent_value
    from sightings
    where login_at is not null

),

device_identifiers as (

    select
        latest_login_links.identifier_type,
        latest_login_links.identifier_value,
        contact_identifiers.anchor_type,
        contact_identifiers.anchor_value,
        'latest_login' as resolution_rule
    from latest_login_links
    inner join contact_identifiers
        on latest_login_links.parent_type = contact_identifiers.identifier_type
        and latest_login_links.parent_value = contact_identifiers.identifier_value

),

resolved as (

    select
        *,
        {{ person_id('anchor_type', 'anchor_value') }} as customer_id
    from (
        select * from contact_identifiers
        union all
        select * from device_identifiers
    ) as all_identifiers

),

erased_customers as (

    select distinct resolved.customer_id
    from resolved
    inner join tombstones
        on {{ identifier_hash('resolved.identifier_type', 'resolved.identifier_value') }}
        = tombstones.identifier_hash

),

final as (

    select
        identifier_type || ':' || identifier_value as identifier_key,
        identifier_type,
        identifier_value,
        customer_id,
        anchor_type,
        anchor_value,
        case when anchor_type = 'customer_id' then anchor_value end as source_customer_id,
        resolution_rule
    from resolved
    where customer_id not in (select customer_id from erased_customers)

)

select * from final
