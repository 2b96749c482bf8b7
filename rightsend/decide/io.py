"""The thin I/O layer: read marts.*, ml.send_scores, queue history and tombstones; write
queue.outbox / queue.suppression_log (partition D replaced) and out/queue/dt=D/messages.*."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from rightsend.config import INCLUDE_DIR, Settings
from rightsend.decide import inputs as cols
from rightsend.decide.campaigns import Campaign
from rightsend.decide.core import CONTRACT_COLUMNS, EXTRA_COLUMNS, SUPPRESSION_COLUMNS, Decision
from rightsend.decide.inputs import DecisionInputs
from rightsend.decide.rules import Rules
from rightsend.warehouse import table_exists

# DuckDB's memory while decide reads its inputs: it caches the blocks it reads up to its limit
# (4-6 GB by default), and the frames read are Python's; what exceeds this spills to disk.
READ_MEMORY_LIMIT = "1GB"
# Columns added to tables that older warehouses created without them.
ADDED_COLUMNS = {
    "queue.outbox": {
        "sku": "varchar",
        "trigger_at": "timestamp",
        "tags": "varchar",
        "counts_toward_caps": "boolean",
    },
    "queue.dispatch_log": {"queue_date": "date", "broker_ref": "varchar"},
}


def ensure_queue_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute((INCLUDE_DIR / "sql" / "queue_tables.sql").read_text())
    for table, added in ADDED_COLUMNS.items():
        for name, typ in added.items():
            con.execute(f"alter table {table} add column if not exists {name} {typ}")


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column -> data type."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return dict(rows)


def _selected(column: str, data_type: str) -> str:
    # A list with nulls (p_by_hour's quiet hours) comes over as a numpy masked array, ~1 KB a
    # row; with NaN in their place, as a plain float array (~0.3 KB): 1.1 GB less at 1M people.
    if data_type.upper() in ("DOUBLE[]", "FLOAT[]"):
        return f"list_transform({column}, x -> coalesce(x::double, 'NaN'::double)) as {column}"
    return column


def _read(
    con: duckdb.DuckDBPyConnection,
    qualified: str,
    wanted: list[str],
    where: str = "",
    params: list | None = None,
) -> pd.DataFrame | None:
    """The wanted columns that exist (others are filled with nulls later); None if no table."""
    schema, table = qualified.split(".")
    if not table_exists(con, schema, table):
        return None
    types = _columns(con, schema, table)
    have = [_selected(c, types[c]) for c in wanted if c in types]
    if not have:
        return None
    # Sorted by every column: the decision must not depend on the order a table is scanned
    # in, which differs between DuckDB and Postgres (ties, e.g. an order's lines, break the same).
    sql = (
        f"select {', '.join(have)} from {qualified}" + (f" where {where}" if where else "") + " order by all"
    )
    result = con.execute(sql, params or [])
    shared: dict[str, dict[str, str]] = {}
    chunks = [_shared_strings(result.fetch_df_chunk(CHUNK_VECTORS), shared)]
    while len(chunk := result.fetch_df_chunk(CHUNK_VECTORS)):
        chunks.append(_shared_strings(chunk, shared))
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


# Vectors of 2,048 rows fetched at once. DuckDB hands every text cell over as a string of its
# own, which _shared_strings swaps for one shared copy: fetched whole, all of a table's cells
# would exist at once first; a chunk at a time, only one chunk's do. (An estimate, not measured:
# ~1.4 GB for the web-event window at 1M people; at 100k the peak was the same either way.)
CHUNK_VECTORS = 128


def _shared_strings(df: pd.DataFrame, shared: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """Each text column with one Python string per distinct value, not per row - the same
    object in every chunk of a table (``shared``: column -> value -> its object).

    A channel name or customer id repeated on millions of rows would otherwise cost ~60
    bytes each time. The values and the dtype are unchanged."""
    shared = {} if shared is None else shared
    for col in df.columns:
        s = df[col]
        if not isinstance(s.dtype, pd.StringDtype):
            continue
        codes, uniques = pd.factorize(s)
        known = shared.setdefault(col, {})
        canonical = np.array([known.setdefault(u, u) for u in uniques], dtype=object)
        out = np.full(len(s), None, dtype=object)
        present = codes >= 0
        out[present] = canonical[codes[present]]
        df[col] = pd.Series(out, index=s.index, dtype=s.dtype)
    return df


def load_inputs(
    con: duckdb.DuckDBPyConnection, run_date: dt.date, rules: Rules, campaigns: list[Campaign]
) -> DecisionInputs:
    now = pd.Timestamp(run_date) + pd.Timedelta(days=1)  # naive UTC, as the marts store it
    lookback_h = max(
        [c.audience.trigger.lookback_hours for c in campaigns if c.audience.trigger] + [24 * 14],
        default=24 * 14,
    )
    web_since = now - pd.Timedelta(hours=lookback_h)
    order_since = now - pd.Timedelta(days=max(90, rules.bought_product_days, lookback_h / 24))
    customers = _read(con, "marts.dim_customers", cols.CUSTOMER_COLUMNS)
    if customers is None:
        raise RuntimeError("marts.dim_customers is missing: build the marts before deciding")
    score_where = "score_date = (select max(score_date) from ml.send_scores where score_date <= ?)"
    sat = rules.saturation
    inputs = DecisionInputs(
        run_date=run_date,
        customers=customers,
        web_events=_read(con, "marts.fct_web_events", cols.WEB_COLUMNS, "occurred_at >= ? and occurred_at < ?", [web_since, now]),
        order_lines=_read(con, "marts.fct_order_lines", cols.ORDER_LINE_COLUMNS, "ordered_at >= ? and ordered_at < ?", [order_since, now]),
        products=_read(con, "marts.dim_products", cols.PRODUCT_COLUMNS),
        scores=_read(con, "ml.send_scores", cols.SCORE_COLUMNS, score_where, [run_date]),
        history=_read(
            con, "queue.outbox", cols.HISTORY_COLUMNS, "queue_date < ? and queue_date >= ?",
            [run_date, run_date - dt.timedelta(days=rules.history_days)],
        ),
        engagement=_read(con, "marts.mart_customer_channel_engagement", cols.ENGAGEMENT_COLUMNS),
        message_events=_read(
            con, "marts.fct_message_events", cols.EVENT_COLUMNS,
            "event_type in ('send', 'unsubscribe', 'complaint') and occurred_at >= ? and occurred_at < ?",
            [now - pd.Timedelta(days=sat.lookback_days + sat.burst_days), now],
        ),
        tombstones=_read(con, "ops.erasure_tombstones", cols.TOMBSTONE_COLUMNS),
    )  # fmt: skip
    return inputs.normalise()  # here, so the frames as read are freed before deciding


def _naive_utc(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, utc=True).dt.tz_convert("UTC").dt.tz_localize(None)


def write_tables(con: duckdb.DuckDBPyConnection, run_date: dt.date, decision: Decision) -> None:
    """Replace partition D of queue.outbox and queue.suppression_log in one transaction."""
    out = decision.outbox.copy()
    out.insert(0, "queue_date", run_date)
    out["send_at_utc"] = _naive_utc(out["send_at_utc"])
    out["trigger_at"] = _naive_utc(out["trigger_at"])
    out["created_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)  # audit only, never logic
    supp = decision.suppressions.copy()
    supp.insert(0, "queue_date", run_date)
    out_cols = ["queue_date", *CONTRACT_COLUMNS, "created_at", *EXTRA_COLUMNS]
    supp_cols = ["queue_date", *SUPPRESSION_COLUMNS]
    con.register("_outbox_new", out[out_cols])
    con.register("_supp_new", supp[supp_cols])
    try:
        con.execute("begin")
        con.execute("delete from queue.outbox where queue_date = ?", [run_date])
        con.execute("delete from queue.suppression_log where queue_date = ?", [run_date])
        con.execute(f"insert into queue.outbox ({', '.join(out_cols)}) select * from _outbox_new")
        con.execute(f"insert into queue.suppression_log ({', '.join(supp_cols)}) select * from _supp_new")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_outbox_new")
        con.unregister("_supp_new")


def contract_frame(outbox: pd.DataFrame) -> pd.DataFrame:
    """Exactly the queue-file columns, as text the contract specifies."""
    df = outbox[CONTRACT_COLUMNS].copy()
    df["send_at_utc"] = pd.to_datetime(df["send_at_utc"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    df["is_holdout"] = df["is_holdout"].astype(bool)
    df["priority"] = df["priority"].astype("int64")
    df["p_engage"] = pd.to_numeric(df["p_engage"], errors="coerce").astype("float64")
    return df


def write_files(settings: Settings, run_date: str, outbox: pd.DataFrame) -> list[str]:
    """messages.csv and messages.parquet, each written to a temp file then renamed."""
    folder = settings.queue_dir(run_date)
    folder.mkdir(parents=True, exist_ok=True)
    df = contract_frame(outbox)
    csv_path, pq_path = folder / "messages.csv", folder / "messages.parquet"
    text = df.assign(is_holdout=df["is_holdout"].map({True: "true", False: "false"}))
    tmp = csv_path.with_name(".messages.csv.tmp")
    text.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, csv_path)
    _write_parquet(df, pq_path)
    return [str(csv_path), str(pq_path)]


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(".messages.parquet.tmp")
    con = duckdb.connect()  # in-memory: no warehouse lock needed to write a file
    try:
        con.register("messages", df)
        casts = ", ".join(
            f"cast({c} as {'boolean' if c == 'is_holdout' else 'integer' if c == 'priority' else 'double' if c == 'p_engage' else 'varchar'}) as {c}"
            for c in CONTRACT_COLUMNS
        )
        con.execute(f"copy (select {casts} from messages) to '{tmp}' (format parquet)")
    finally:
        con.close()
    os.replace(tmp, path)
