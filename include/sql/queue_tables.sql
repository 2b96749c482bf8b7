-- Decision output: the outbox (source of truth for queue/dt=D/messages.*), the
-- suppression log and the dispatch log. Written by rightsend.decide / .dispatch;
-- read back by dbt (campaign measurement) and the exports.
create schema if not exists queue;

create table if not exists queue.outbox (
    queue_date date not null,              -- the run's logical date D
    message_id varchar primary key,        -- deterministic: re-runs never duplicate
    customer_id varchar not null,
    source_customer_id varchar,
    campaign_id varchar not null,
    use_case varchar not null,
    channel varchar not null,
    destination varchar,
    send_at_utc timestamp not null,
    timezone varchar not null,
    send_at_local varchar not null,        -- ISO 8601 with offset
    priority integer not null,
    variant varchar,
    is_holdout boolean not null,
    model_version varchar,
    p_engage double precision,
    reason varchar,
    created_at timestamp not null,
    -- added by rightsend.decide (not in the queue file): the product a message is about,
    -- its trigger time (reminders, series), and the campaign's caps behaviour at queue time
    sku varchar,
    trigger_at timestamp,
    tags varchar,                          -- comma-separated campaign tags (promotional|transactional, ...)
    counts_toward_caps boolean
);

create table if not exists queue.suppression_log (
    queue_date date not null,
    customer_id varchar not null,
    campaign_id varchar not null,
    channel varchar,
    rule varchar not null,                 -- e.g. no_consent, frequency_cap, in_checkout
    detail varchar
);

create table if not exists queue.dispatch_log (
    message_id varchar primary key,        -- published at most once
    transport varchar not null,
    published_at timestamp not null,
    queue_date date,                       -- added by rightsend.dispatch
    broker_ref varchar                     -- stream entry id / file path, when the broker gives one
);
