"""One file's text -> batches of good rows (with line and _extra) and quarantined records."""

from __future__ import annotations

import json
from collections.abc import Iterator
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


_EXTRA_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
_json_string = json.encoder.encode_basestring  # the string encoder json.dumps uses when not ensure_ascii


def extra_json(extra: dict[str, Any]) -> str:
    """``json.dumps(extra, ensure_ascii=False, default=str)``, the same text: the usual
    all-text dict is spelled here, 2-4x faster than the encoder (a unit test compares them);
    any other value goes through the encoder."""
    try:
        return "{" + ", ".join([_json_string(k) + ": " + _json_string(v) for k, v in extra.items()]) + "}"
    except TypeError:  # a value that is not a string
        return _EXTRA_JSON.encode(extra)


def records(source: Source, text: str) -> Any:
    if source.fmt == "csv":
        known = {header_key(name): header_key(name) for name in source.fields}
        return csv_records(text, known, source.required)
    return json_records(text, frozenset(source.fields))


def parse_chunks(source: Source, text: str, chunk_rows: int) -> Iterator[Batch]:
    """Parse and normalise every record, ``chunk_rows`` good rows per batch (in file order;
    quarantined records go with the batch they were met in). The last batch may be empty.
    Raises reading.FileProblem if the file is unreadable - always before the first batch."""
    batch = Batch(source)
    state: dict[str, Any] = {}  # per file: orders/catalog carry values from row to row
    parse = source.parse
    rows, lines, extras, bad = batch.rows, batch.lines, batch.extras, batch.bad
    rec: Record
    for rec in records(source, text):
        if rec.error:
            bad.append(Bad(rec.line, raw_text(rec), rec.error, None))
            continue
        try:
            values = parse(rec.fields, state)
        except Reject as exc:
            state.pop("_invalid", None)
            bad.append(Bad(rec.line, raw_text(rec), exc.reason, exc.detail or None))
            continue
        extra = rec.extra
        invalid = state.pop("_invalid", None)  # an unparseable phone is kept as sent, not lost
        if invalid:
            extra = {**(extra or {}), **{f"invalid_{k}": v for k, v in invalid.items()}}
        rows.append(values)
        lines.append(rec.line)
        extras.append(extra_json(extra) if extra else None)
        if len(rows) >= chunk_rows:
            yield batch
            batch = Batch(source)
            rows, lines, extras, bad = batch.rows, batch.lines, batch.extras, batch.bad
    yield batch


def parse_text(source: Source, text: str) -> Batch:
    """The whole file as one batch; raises reading.FileProblem if the file is unreadable."""
    whole = Batch(source)
    for batch in parse_chunks(source, text, 1 << 62):
        whole.rows += batch.rows
        whole.lines += batch.lines
        whole.extras += batch.extras
        whole.bad += batch.bad
    return whole
