"""segments/rfm_<slug>.csv and segments/lifecycle_<state>.csv: upload-ready lists for email/SMS tools."""

from __future__ import annotations

from pathlib import Path

import duckdb

from rightsend.exports import customers
from rightsend.exports._db import fetch
from rightsend.exports._io import slug, write_csv

COLUMNS = (
    "customer_id",
    "source_customer_id",
    "email",
    "phone",
    "rfm_segment",
    "r_score",
    "f_score",
    "m_score",
    "lifecycle_state",
    "preferred_channel",
    "best_channel",
    "best_local_hour",
    "timezone",
)
# Every lifecycle state gets a file, even an empty one, so a marketer's saved upload never 404s.
LIFECYCLE_STATES = ("new", "active", "lapsing", "silent", "never_engaged")


def export(con: duckdb.DuckDBPyConnection, run_date: str, out_dir: Path) -> dict[str, int]:
    sql = f"select {', '.join(COLUMNS)} from ({customers.view_sql(con)}) order by customer_id"
    _, rows = fetch(con, sql, {"run_date": run_date})
    seg_i, life_i = COLUMNS.index("rfm_segment"), COLUMNS.index("lifecycle_state")
    groups: dict[str, list[tuple]] = {f"segments/lifecycle_{s}.csv": [] for s in LIFECYCLE_STATES}
    for row in rows:
        if row[seg_i] is not None:  # people without a counted order have no RFM segment
            groups.setdefault(f"segments/rfm_{slug(row[seg_i])}.csv", []).append(row)
        if row[life_i] is not None:
            groups.setdefault(f"segments/lifecycle_{slug(row[life_i])}.csv", []).append(row)
    return {name: write_csv(out_dir / name, COLUMNS, members) for name, members in sorted(groups.items())}
