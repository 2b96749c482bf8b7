"""One file's text -> a batch of good rows (with line and _extra) and quarantined records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rightsend.ingest.normalize import Reject
from rightsend.ingest.reading import Record, csv_records, header_key, json_records, raw_text
from rightsend.ingest.source import Source


@dataclass(slots=True)
class Bad:
    line: int
    raw_text: str
    reason: str
    detail: str | None


@dataclass
class Batch:
    source: Source
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    extras: list[str | None] = field(default_factory=list)
    bad: list[Bad] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


def records(source: Source, text: str) -> Any:
    if source.fmt == "csv":
        known = {header_key(name): header_key(name) for name in source.fields}
        return csv_records(text, known, source.required)
    return json_records(text, frozenset(source.fields))


def parse_text(source: Source, text: str) -> Batch:
    """Parse and normalise every record; raises reading.FileProblem if the file is unreadable."""
    batch = Batch(source)
    state: dict[str, Any] = {}
    parse = source.parse
    rows, lines, extras = batch.rows, batch.lines, batch.extras
    rec: Record
    for rec in records(source, text):
        if rec.error:
            batch.bad.append(Bad(rec.line, raw_text(rec), rec.error, None))
            continue
        try:
            values = parse(rec.fields, state)
        except Reject as exc:
            state.pop("_invalid", None)
            batch.bad.append(Bad(rec.line, raw_text(rec), exc.reason, exc.detail or None))
            continue
        extra = rec.extra
        invalid = state.pop("_invalid", None)  # an unparseable phone is kept as sent, not lost
        if invalid:
            extra = {**(extra or {}), **{f"invalid_{k}": v for k, v in invalid.items()}}
        rows.append(values)
        lines.append(rec.line)
        extras.append(json.dumps(extra, ensure_ascii=False, default=str) if extra else None)
    return batch
