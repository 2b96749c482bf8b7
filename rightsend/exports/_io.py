"""File plumbing shared by every export: CSV formatting, atomic writes, slugs."""

from __future__ import annotations

import csv
import functools
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def fmt_value(value: Any) -> str:
    """One CSV cell. Booleans as true/false and timestamps as ISO 8601 UTC 'Z', as in the queue files."""
    kind = type(value)
    if kind is str:  # most cells: ids, names, segments (an export writes millions of them)
        return value
    if kind is int:  # exactly int: a bool is an int too, and is formatted below
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value != value:  # NaN: an absent number, not a value
            return ""
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and rows (UTF-8, no BOM, \\n line ends); returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([fmt_value(v) for v in row])
            count += 1
    return count


@functools.lru_cache(maxsize=4096)  # called per exported row, on a handful of segment names
def slug(name: str | None) -> str:
    """File-name-safe, lower-case name of a segment ('Can't Lose Them' -> 'cant_lose_them')."""
    text = re.sub(r"['’]", "", (name or "none").strip().lower())
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "none"


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield a temp dir beside ``final``; on success swap it in whole, so readers never see half a day.

    Re-running a date replaces the partition, which makes the stage idempotent.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    tmp = final.parent / f".{final.name}.tmp-{token}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = final.parent / f".{final.name}.old-{token}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
