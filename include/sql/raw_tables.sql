-- Raw layer: one table per landing source, written only by rightsend.ingest.
-- Values are normalised at the edge (timestamps UTC, emails lower-cased and trimmed,
-- phones E.164) and every source field is kept: unknown fields go to _extra (JSON).
-- Lineage on every row: _file (path under the landing dir), _line (1-based line of the
-- record in the file; element index for a JSON array), _dt (delivery date from dt=),
-- _loaded_at (UTC). dbt reads these tables as sources; nothing else writes them.
create schema if not exists raw;

create table if not exists raw.customers (
    customer_id varchar not null,          -- Shopify "Customer ID"
    first_name varchar,
    last_name varchar,
    email varchar,
    accepts_email_marketing boolean,
    phone varchar,                         -- E.164, via Default Address Country Code
    accepts_sms_marketing boolean,
    city varchar,
    province_code varchar,
    country_code varchar,
    total_spent decimal(18, 2),
    total_orders integer,
    tags varchar,
    created_at timestamp,
    updated_at timestamp,                  -- optional "Updated At"; wins over file order
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);

create table if not exists raw.orders (
    order_id varchar not null,             -- Shopify "Id"
    order_name varchar,
    email varchar,
    phone varchar,
    financial_status varchar,              -- null on non-first line items
    created_at timestamp,
    cancelled_at timestamp,
    currency varchar,
    subtotal decimal(18, 2),
    discount_amount decimal(18, 2),
    total decimal(18, 2),
    refunded_amount decimal(18, 2),
    lineitem_quantity integer,
    lineitem_name varchar,
    lineitem_price decimal(18, 2),
    lineitem_sku varchar,
    vendor varchar,
    source varchar,
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);

create table if not exists raw.catalog (
    handle varchar not null,
    title varchar,                         -- inherited from the handle's first row
    product_type varchar,                  -- Shopify "Type": the category
    variant_sku varchar,
    variant_price decimal(18, 2),
    variant_compare_at_price decimal(18, 2),
    variant_inventory_qty integer,
    published boolean,
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);

create table if not exists raw.email_events (
    sg_event_id varchar not null,
    email varchar,
    event varchar not null,
    occurred_at timestamp not null,        -- from unix "timestamp"
    sg_message_id varchar,
    categories varchar[],                  -- "category": string or array
    url varchar,
    useragent varchar,
    ip varchar,
    reason varchar,
    bounce_type varchar,                   -- "type": bounce | blocked
    bounce_classification varchar,
    sg_machine_open boolean,
    campaign_id varchar,
    message_id varchar,
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);

create table if not exists raw.sms_messages (
    sid varchar not null,
    from_number varchar,                   -- E.164
    to_number varchar,                     -- E.164
    body varchar,
    status varchar not null,
    sent_at timestamp,
    direction varchar not null,
    num_segments integer,
    error_code varchar,
    price decimal(18, 5),
    price_unit varchar,
    keyword varchar,                       -- inbound only: 'opt_out' (STOP...) | 'opt_in' (START...)
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);

create table if not exists raw.sms_clicks (
    event_type varchar not null,
    sms_sid varchar,
    to_number varchar,
    from_number varchar,
    link varchar,
    clicked_at timestamp not null,
    user_agent varchar,
    messaging_service_sid varchar,
    account_sid varchar,
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);

create table if not exists raw.push_events (
    event_id varchar not null,
    event_type varchar not null,
    occurred_at timestamp not null,
    customer_id varchar,
    email varchar,
    device_token varchar,
    platform varchar,
    timezone varchar,
    campaign_id varchar,
    message_id varchar,
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);

create table if not exists raw.web_events (
    event_id varchar not null,
    event_type varchar not null,
    occurred_at timestamp not null,
    anonymous_id varchar,
    session_id varchar,
    customer_id varchar,
    email varchar,
    sku varchar,
    category varchar,
    price decimal(18, 2),
    timezone varchar,
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);

create table if not exists raw.consent_requests (
    request_id varchar not null,
    occurred_at timestamp not null,
    customer_id varchar,
    email varchar,
    phone varchar,                         -- E.164
    request_type varchar not null,         -- "type": opt_in | opt_out | erasure
    channel varchar,                       -- email | sms | push | all
    _file varchar not null, _line integer not null, _dt date not null,
    _loaded_at timestamp not null, _extra json
);
