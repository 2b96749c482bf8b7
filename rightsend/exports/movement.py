"""segment_movement.csv: how many people moved between segments since yesterday and since last week.

Reads marts.mart_customer_segments_daily. A person absent from the earlier snapshot comes
from '(new)'; one absent today went to '(gone)' (erased, or merged into another id). A
comparison whose earlier snapshot does not exist yet has no rows: no history, no movement.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from rightsend.exports._db import fetch, has_table
from rightsend.exports._io import write_csv

COLUMNS = ("comparison", "base_date", "snapshot_date", "dimension", "from_segment", "to_segment", "customers")
COMPARISONS = (("since_yesterday", 1), ("since_last_week", 7))
DIMENSIONS = ("rfm_segment", "lifecycle_state")


def movement_rows(con: duckdb.DuckDBPyConnection, run_date: str) -> list[tuple]:
    if not has_table(con, "marts.mart_customer_segments_daily"):
        return []
    today = date.fromisoformat(run_date)
    out: list[tuple] = []
    if not con.execute(
        "select count(*) from marts.mart_customer_segments_daily where snapshot_date = ?::date", [run_date]
    ).fetchone()[0]:
        return out  # today's snapshot missing: comparing would call everyone '(gone)'
    for comparison, days in COMPARISONS:
        base = (today - timedelta(days=days)).isoformat()
        has_base = con.execute(
            "select count(*) from marts.mart_customer_segments_daily where snapshot_date = ?::date", [base]
        ).fetchone()[0]
        if not has_base:
            continue
        for dim in DIMENSIONS:
            # dim is one of two fixed column names, never user input
            _, rows = fetch(
                con,
                f"""
                with a as (select customer_id, {dim} as seg from marts.mart_customer_segments_daily where snapshot_date = $base::date),
                     b as (select customer_id, {dim} as seg from marts.mart_customer_segments_daily where snapshot_date = $today::date)
                select case when a.customer_id is null then '(new)' else coalesce(a.seg, '(none)') end as from_segment,
                       case when b.customer_id is null then '(gone)' else coalesce(b.seg, '(none)') end as to_segment,
                       count(*) as customers
                from a full outer join b on a.customer_id = b.customer_id
                group by all order by from_segment, to_segment
                """,
                {"base": base, "today": run_date},
            )
            out.extend((comparison, base, run_date, dim, *r) for r in rows)
    return out


def export(con: duckdb.DuckDBPyConnection, run_date: str, out_dir: Path) -> int:
    return write_csv(out_dir / "segment_movement.csv", COLUMNS, movement_rows(con, run_date))
