"""Scrub erased persons from files already written on earlier days.

An erasure request must reach every copy the pipeline owns, and earlier days' files in
out/exports/dt=*/ and out/queue/dt=*/ are copies. A row goes when any identifier in it
hashes to a tombstone (``sha256(type || ':' || normalised value)``, see hashing.py):
``email``, ``phone``, ``destination`` (email, phone or device token) and
``source_customer_id``. Hashed audience rows carry no raw identifier, so a second pass
also drops every row whose unified ``customer_id`` was matched anywhere in the first.
Aggregate files (movement, campaign results, report.html) hold no personal data.

Files are written without the persons erased by then, so only a tombstone the last scrub
did not know can be in them: out/runs/erasure-scrub.json keeps the tombstones the last
scrub applied (hashes, no personal data), and a day without new ones reads no file at all
(a year of daily exports would otherwise be re-read and re-hashed every day). Delete that
file to scrub everything again, e.g. after restoring old outputs from a backup.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from rightsend.config import Settings
from rightsend.exports._db import has_table
from rightsend.exports.hashing import tombstone_hash

_CHECKS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "phone": ("phone",),
    "destination": ("email", "phone", "device_token"),
    "source_customer_id": ("customer_id",),
    "device_token": ("device_token",),
    "push_device_token": ("device_token",),
}


class _Verdicts:
    """Whether a row names an erased identifier, each distinct (column, value) hashed once per
    scrub: the same people's addresses recur in every day's files."""

    _MAX = 2_000_000  # cached verdicts (~300 MB at most): cleared, not grown, past this

    def __init__(self, tombstones: set[str]) -> None:
        self.tombstones = tombstones
        self.cache: dict[tuple[str, str], bool] = {}

    def erased(self, row: dict[str, str]) -> bool:
        for column, types in _CHECKS.items():
            value = row.get(column)
            if not value:
                continue
            verdict = self.cache.get((column, value))
            if verdict is None:
                if len(self.cache) >= self._MAX:
                    self.cache.clear()
                verdict = any(tombstone_hash(t, value) in self.tombstones for t in types)
                self.cache[(column, value)] = verdict
            if verdict:
                return True
        return False


def _rows(path: Path) -> Iterator[dict[str, str]]:
    """A CSV's rows one at a time: a year of daily exports never has to fit in memory."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def _rewrite_csv(path: Path, keep: Callable[[dict[str, str]], bool]) -> int:
    """Rewrite ``path`` with the rows ``keep`` accepts, streaming; returns the rows dropped."""
    tmp = path.with_name(f".{path.name}.scrub-tmp")
    dropped = 0
    with (
        open(path, newline="", encoding="utf-8-sig") as src,
        open(tmp, "w", newline="", encoding="utf-8") as dst,
    ):
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=list(reader.fieldnames or []), lineterminator="\n")
        writer.writeheader()
        for row in reader:
            if keep(row):
                writer.writerow(row)
            else:
                dropped += 1
    os.replace(tmp, path)
    return dropped


def _rewrite_parquet(path: Path, drop_ids: set[str], tombstones: set[str]) -> int:
    """Queue files have a parquet twin; scrub it with DuckDB (no pyarrow here)."""
    mem = duckdb.connect()
    try:
        mem.execute("create table t as select * from read_parquet(?)", [str(path)])
        cols = {r[0] for r in mem.execute("describe t").fetchall()}
        mem.execute("create table h(hash varchar)")
        mem.execute("insert into h select unnest(?::varchar[])", [sorted(tombstones)])
        mem.execute("create table d(id varchar)")
        mem.execute("insert into d select unnest(?::varchar[])", [sorted(drop_ids)])
        tests = []
        for column, types in _CHECKS.items():
            if column in cols:
                for t in types:
                    value = f"lower(trim({column}))" if t == "email" else f"trim({column}::varchar)"
                    tests.append(f"sha256('{t}:' || {value}) in (select hash from h)")
        if "customer_id" in cols:
            tests.append("customer_id::varchar in (select id from d)")
        if not tests:
            return 0
        removed = mem.execute(f"delete from t where {' or '.join(tests)}").fetchone()[0]
        if removed:
            tmp = path.with_name(f".{path.name}.scrub-tmp")
            mem.execute(f"copy t to '{tmp}' (format parquet)")
            os.replace(tmp, path)
        return int(removed)
    finally:
        mem.close()


def scrub_erased_from_outputs(settings: Settings, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Remove erased persons' rows from every earlier exports/queue file; returns counts."""
    stats = {"files_scanned": 0, "files_changed": 0, "rows_removed": 0}
    if not has_table(con, "ops.erasure_tombstones"):
        return stats
    tombstones = {r[0] for r in con.execute("select identifier_hash from ops.erasure_tombstones").fetchall()}
    state = settings.output_dir / "runs" / "erasure-scrub.json"
    if not tombstones or tombstones <= _applied(state):
        return stats
    roots = [settings.output_dir / "exports", settings.output_dir / "queue"]
    csvs = sorted(p for root in roots if root.is_dir() for p in root.glob("dt=*/**/*.csv"))
    verdicts = _Verdicts(tombstones)
    # Two streaming passes, one row in memory at a time: the unified ids an identifier erases
    # anywhere, then every row of those ids or with such an identifier goes (files with none
    # are only read). Holding every file's rows at once took 7 GB at 1M customers after a
    # single day of exports.
    erased_ids = {
        row["customer_id"]
        for path in csvs
        for row in _rows(path)
        if row.get("customer_id") and verdicts.erased(row)
    }

    def keep(row: dict[str, str]) -> bool:
        return not (row.get("customer_id") in erased_ids or verdicts.erased(row))

    for path in csvs:
        stats["files_scanned"] += 1
        if all(keep(row) for row in _rows(path)):
            continue
        stats["files_changed"] += 1
        stats["rows_removed"] += _rewrite_csv(path, keep)
    for path in sorted(p for root in roots if root.is_dir() for p in root.glob("dt=*/**/*.parquet")):
        stats["files_scanned"] += 1
        removed = _rewrite_parquet(path, erased_ids, tombstones)
        if removed:
            stats["files_changed"] += 1
            stats["rows_removed"] += removed
    _record_applied(state, tombstones)
    return stats


def _applied(state: Path) -> set[str]:
    """The tombstones the last completed scrub applied (none if it never ran)."""
    try:
        return set(json.loads(state.read_text())["tombstones"])
    except (OSError, ValueError, KeyError):
        return set()


def _record_applied(state: Path, tombstones: set[str]) -> None:
    state.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.with_name(f".{state.name}.tmp")
    tmp.write_text(json.dumps({"tombstones": sorted(tombstones)}) + "\n")
    os.replace(tmp, state)
