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
from dataclasses import dataclass
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

    _MAX = 1_000_000  # cached verdicts (~250 B each): cleared, not grown, past this

    def __init__(self, tombstones: set[str]) -> None:
        self.tombstones = tombstones
        self.cache: dict[tuple[str, str], bool] = {}

    def erased(self, row: list[str], checks: list[tuple[str, int]]) -> bool:
        for column, i in checks:
            value = row[i] if i < len(row) else ""
            if not value:
                continue
            verdict = self.cache.get((column, value))
            if verdict is None:
                if len(self.cache) >= self._MAX:
                    self.cache.clear()
                verdict = any(tombstone_hash(t, value) in self.tombstones for t in _CHECKS[column])
                self.cache[(column, value)] = verdict
            if verdict:
                return True
        return False


@dataclass
class _File:
    """A CSV read one row at a time (a year of daily exports never has to fit in memory), with
    the positions of its customer_id and identifier columns."""

    path: Path
    header: list[str]
    customer_id: int | None
    checks: list[tuple[str, int]]

    @classmethod
    def open(cls, path: Path) -> _File:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
        position = {name: i for i, name in enumerate(header)}  # a repeated name: its last, as csv.DictReader
        checks = [(column, position[column]) for column in _CHECKS if column in position]
        return cls(path, header, position.get("customer_id"), checks)

    def rows(self) -> Iterator[list[str]]:
        with open(self.path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row in reader:
                if row:  # a blank line is no row
                    yield row

    def id_of(self, row: list[str]) -> str:
        i = self.customer_id
        return row[i] if i is not None and i < len(row) else ""


def _rewrite_csv(f: _File, drop: Callable[[_File, list[str]], bool]) -> int:
    """Rewrite the file without the rows ``drop`` flags, streaming; returns the rows dropped."""
    tmp = f.path.with_name(f".{f.path.name}.scrub-tmp")
    dropped = 0
    width = len(f.header)
    with open(tmp, "w", newline="", encoding="utf-8") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(f.header)
        for row in f.rows():
            if drop(f, row):
                dropped += 1
            else:
                writer.writerow(row + [""] * (width - len(row)))  # a short row padded, as csv.DictWriter did
    os.replace(tmp, f.path)
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
    files = [_File.open(path) for path in csvs]
    # Two streaming passes, one row in memory at a time: the unified ids an identifier erases
    # anywhere, then every row of those ids or with such an identifier goes (a file with none
    # is only read). Holding every file's rows at once took 7-9 GB at 1M customers after one
    # or two days of exports.
    erased_ids = {
        f.id_of(row)
        for f in files
        if f.customer_id is not None and f.checks
        for row in f.rows()
        if f.id_of(row) and verdicts.erased(row, f.checks)
    }

    def drop(f: _File, row: list[str]) -> bool:
        return f.id_of(row) in erased_ids or verdicts.erased(row, f.checks)

    for f in files:
        stats["files_scanned"] += 1
        if (f.customer_id is not None or f.checks) and any(drop(f, row) for row in f.rows()):
            stats["files_changed"] += 1
            stats["rows_removed"] += _rewrite_csv(f, drop)
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
