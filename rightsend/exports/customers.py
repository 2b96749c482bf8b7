"""customers.csv: the unified customer view for marketers (landing contract, section 3).

The marts already leave erased persons out; the exports check the tombstones again
because a file that leaves the warehouse cannot be recalled.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from rightsend.exports._db import fetch, has_table
from rightsend.exports._io import write_csv

COLUMNS = (
    "customer_id",
    "source_customer_id",
    "timezone",
    "order_count",
    "net_revenue",
    "last_order_at",
    "recency_days",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "lifecycle_state",
    "preferred_channel",
    "email",
    "phone",
    "best_channel",
    "best_local_hour",
)


def _best_channel_sql(con: duckdb.DuckDBPyConnection) -> str:
    if not has_table(con, "ml.send_scores"):
        return "select null::varchar as customer_id, null::varchar as best_channel, null::integer as best_local_hour where false"
    # channel_rank = 1 should be unique per person; the tie-break keeps the file one row per person regardless.
    return """
        select customer_id, channel as best_channel, best_local_hour::integer as best_local_hour
        from ml.send_scores
        where score_date = $run_date::date and channel_rank = 1
        qualify row_number() over (partition by customer_id order by p_engage desc nulls last, channel) = 1
    """


_IDENTIFIERS = (
    ("email", "lower(trim(p.email))"),
    ("phone", "trim(p.phone)"),
    ("customer_id", "trim(p.source_customer_id)"),
    ("device_token", "trim(p.push_device_token)"),
)


def not_erased_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A predicate on alias ``c``: the person matches no erasure tombstone.

    One hash join per identifier type, so the cost grows with customers plus tombstones,
    not with their product (a correlated NOT EXISTS over computed hashes does).
    """
    if not has_table(con, "ops.erasure_tombstones"):
        return "true"
    erased = " union ".join(
        f"select p.customer_id from marts.dim_customers p join ops.erasure_tombstones t "
        f"on t.identifier_hash = sha256('{kind}:' || {expression})"
        for kind, expression in _IDENTIFIERS
    )
    return f"c.customer_id not in ({erased})"


def view_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Every person with consented contact points only, plus today's best channel and hour.

    The statement takes the named parameter ``$run_date``; segments and audiences select from it.
    """
    return f"""
        with best as ({_best_channel_sql(con)})
        select
            c.customer_id, c.source_customer_id, c.timezone,
            c.order_count::bigint as order_count,
            round(c.net_revenue::decimal(18, 2), 2) as net_revenue,
            c.last_order_at, c.recency_days::integer as recency_days,
            c.r_score::integer as r_score, c.f_score::integer as f_score, c.m_score::integer as m_score,
            c.rfm_segment, c.lifecycle_state, c.preferred_channel,
            case when c.is_email_reachable then nullif(lower(trim(c.email)), '') end as email,
            case when c.is_sms_reachable then nullif(trim(c.phone), '') end as phone,
            b.best_channel, b.best_local_hour
        from marts.dim_customers c
        left join best b on b.customer_id = c.customer_id
        where {not_erased_sql(con)}
    """


def export(con: duckdb.DuckDBPyConnection, run_date: str, out_dir: Path) -> int:
    sql = f"select {', '.join(COLUMNS)} from ({view_sql(con)}) order by customer_id"
    _, rows = fetch(con, sql, {"run_date": run_date})
    return write_csv(out_dir / "customers.csv", COLUMNS, rows)
