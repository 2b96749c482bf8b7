"""The DuckDB-only SQL scanner that explains Postgres parity failures (fast, no services)."""

from __future__ import annotations

import importlib.util

from rightsend.config import INCLUDE_DIR

_spec = importlib.util.spec_from_file_location(
    "dbt_portability", INCLUDE_DIR / "deploy" / "dbt_portability.py"
)
portability = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(portability)


def test_finds_duckdb_only_constructs():
    sql = """
    select customer_id, cast(x as double) as rate, isodow(sent_at) as dow, hour(sent_at) as h,
           json_extract_string(_extra, '$.campaign_id') as campaign_id,
           date_diff('day', a, b) as days, sha256(email) as hashed
    from events
    where sent_at > d - interval 30 day
    qualify row_number() over (partition by customer_id order by sent_at desc) = 1
    """
    found = set(portability.scan_sql(sql))
    assert {
        "QUALIFY",
        "type DOUBLE",
        "isodow()",
        "hour()",
        "json_extract_string()",
        "date_diff()",
        "sha256() (Postgres: bytea in, bytea out)",
        "unquoted interval literal (interval 30 day)",
    } <= found


def test_portable_sql_passes():
    sql = """
    with ranked as (
        select customer_id, cast(x as double precision) as rate, date_part('isodow', sent_at) as dow,
               _extra ->> 'campaign_id' as campaign_id, md5(email) as hashed,
               row_number() over (partition by customer_id order by sent_at desc) as rn
        from events as e
        where sent_at > d - interval '30 days'
    )
    select * from (select * from ranked) as r where rn = 1
    """
    assert portability.scan_sql(sql) == {}


def test_subquery_without_alias_is_found():
    assert "subquery in FROM without an alias" in portability.scan_sql(
        "select max(snapshot_date) from (select distinct snapshot_date from products)"
    )
