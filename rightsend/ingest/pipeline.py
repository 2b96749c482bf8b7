"""The ingest stage: landing zone -> raw.* exactly once, with quarantine, erasure and GX checks."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from rightsend import warehouse
from rightsend.config import Settings
from rightsend.ingest.erasure import TombstoneFilter, apply_tombstones
from rightsend.ingest.landing import LandedFile, discover, sha256_of
from rightsend.ingest.load import FileResult, ParsedFile, parse_file, write_files
from rightsend.ingest.sources import SOURCES
from rightsend.ingest.validation import validate_batches

log = logging.getLogger(__name__)
GROUP_ROWS = 1_000_000  # files of one dt commit together, up to about this many rows


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Project DDL plus ingest's one addition: the offending value of a quarantined row,
    kept apart from the categorical reason so reasons can be counted."""
    warehouse.bootstrap(con)
    con.execute("alter table ops.quarantine add column if not exists detail varchar")


def _check_known(
    con: duckdb.DuckDBPyConnection, files: list[LandedFile]
) -> tuple[list[LandedFile], int, list[dict[str, str]]]:
    """Split discovered files into new ones and known ones; flag known paths whose bytes
    changed (files are immutable once landed: a changed one is reported, never reloaded)."""
    known = {
        path: (sha, size, status)
        for path, sha, size, status in con.execute(
            "select path, sha256, size_bytes, status from ops.manifest"
        ).fetchall()
    }
    new, skipped, changed = [], 0, []
    for f in files:
        if f.rel not in known:
            new.append(f)
            continue
        sha, size, status = known[f.rel]
        if status == "changed" or sha is None:
            skipped += 1
            continue
        current_size = f.path.stat().st_size
        current = sha256_of(f.path) if current_size == size else None
        if current == sha:
            skipped += 1
            continue
        error = (
            f"{f.rel}: content changed since it was {status} (sha256 {sha[:12]}.. -> "
            f"{(current or sha256_of(f.path))[:12]}..; {size} -> {current_size} bytes); not reloaded"
        )
        con.execute(
            "update ops.manifest set status = 'changed', error = ? where path = ?",
            [error, f.rel],
        )
        changed.append({"path": f.rel, "error": error})
    return new, skipped, changed


def _flush(
    con: duckdb.DuckDBPyConnection, group: list[ParsedFile], run_date: str, loaded_at: datetime
) -> None:
    write_files(con, group, run_date, loaded_at)
    for parsed in group:
        if parsed.result.error:
            log.warning("ingest: %s", parsed.result.error)
        parsed.batch = None  # written: free the rows


def run(settings: Settings, run_date: str) -> dict[str, Any]:
    """Load every landed file with dt <= run_date not loaded yet; return the run's summary."""
    date.fromisoformat(run_date)  # fail fast on a malformed logical date
    loaded_at = datetime.now(UTC).replace(tzinfo=None)  # metadata only, never used for logic
    with warehouse.connect(settings) as con:
        ensure_tables(con)
        files = discover(settings.landing_dir, run_date)
        new, skipped, changed = _check_known(con, files)
        tombstones = TombstoneFilter.load(con)
        done: list[ParsedFile] = []
        group: list[ParsedFile] = []
        for f in new:
            if group and (f.dt != group[0].result.file.dt or sum(p.rows for p in group) > GROUP_ROWS):
                _flush(con, group, run_date, loaded_at)
                done += group
                group = []
            group.append(parse_file(f, tombstones))
        _flush(con, group, run_date, loaded_at)
        results = [p.result for p in done + group]
        erasure = apply_tombstones(con, loaded_at)
        loaded_files: dict[str, list[str]] = {}
        for r in results:
            if r.status == "loaded" and r.loaded:
                loaded_files.setdefault(r.file.source.name, []).append(r.file.rel)
        validation = validate_batches(con, run_date, loaded_files, loaded_at)
    return _summary(results, skipped, changed, erasure, validation)


def _summary(
    results: list[FileResult],
    skipped: int,
    changed: list[dict[str, str]],
    erasure: dict[str, Any],
    validation: dict[str, Any],
) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    for name in SOURCES:
        mine = [r for r in results if r.file.source.name == name]
        reasons: Counter[str] = Counter()
        for r in mine:
            reasons.update(r.reasons)
        rows[name] = {
            "files": len(mine),
            "loaded": sum(r.loaded for r in mine),
            "quarantined": sum(r.quarantined for r in mine),
            "erased": sum(r.erased for r in mine),
            "quarantine_reasons": dict(reasons.most_common()),
        }
    return {
        "files": {
            "loaded": [r.file.rel for r in results if r.status == "loaded"],
            "skipped_already_loaded": skipped,
            "failed": [{"path": r.file.rel, "error": r.error} for r in results if r.status == "failed"],
            "changed": changed,
        },
        "rows": rows,
        "erasure": {**erasure, "rows_erased_at_load": sum(r.erased for r in results)},
        "validation": validation,
    }
