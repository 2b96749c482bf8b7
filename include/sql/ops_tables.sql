-- Operational tables: what was loaded, what was rejected, who was erased.
create schema if not exists ops;

-- One row per landed file ever seen. A path in here is never loaded again.
create table if not exists ops.manifest (
    path varchar primary key,              -- relative to the landing dir
    source varchar not null,
    dt date not null,
    size_bytes bigint,
    sha256 varchar,
    status varchar not null,               -- loaded | failed | changed
    rows_loaded integer not null default 0,
    rows_quarantined integer not null default 0,
    rows_erased integer not null default 0,
    error varchar,
    run_date date not null,
    loaded_at timestamp not null,
    mtime_ns bigint                        -- modification time when read: unchanged size and
                                           -- mtime mean unchanged bytes, without re-reading
);

-- Rows that could not be parsed or break the contract. Never silently dropped.
create table if not exists ops.quarantine (
    source varchar not null,
    file varchar not null,
    line integer,
    raw_text varchar,
    reason varchar not null,             -- countable category, e.g. 'bad timestamp in occurred_at'
    detail varchar,                      -- the offending value
    run_date date not null,
    quarantined_at timestamp not null
);

-- Right-to-be-forgotten: SHA-256 of every identifier of an erased person
-- (email, phone, Shopify id, device token, anonymous id). Personal data is gone;
-- the hashes keep the person from being loaded or messaged again.
create table if not exists ops.erasure_tombstones (
    identifier_hash varchar primary key,
    identifier_type varchar not null,
    request_id varchar not null,
    erased_at timestamp not null
);

-- When each erasure pass completed: the next ingest run checks only rows loaded since.
create table if not exists ops.erasure_passes (
    applied_at timestamp not null
);

-- Great Expectations results, one row per expectation per validated batch.
create table if not exists ops.validation_results (
    run_date date not null,
    source varchar not null,
    expectation varchar not null,
    column_name varchar,
    success boolean not null,
    observed varchar,
    details varchar,
    validated_at timestamp not null
);
