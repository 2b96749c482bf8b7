"""Read a landed file: bytes -> text -> records (CSV rows or JSON objects) with line numbers.

A problem that makes the whole file unreadable raises ``FileProblem`` (the file is then
recorded as failed); a problem with one record is yielded as a bad record (quarantined)
so the rest of the file still loads.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

csv.field_size_limit(64 * 1024 * 1024)


class FileProblem(Exception):
    """The file cannot be read at all (message says what is wrong)."""


@dataclass(slots=True)
class Record:
    line: int  # physical line where the record starts (CSV header = 1); 1-based index in a JSON array
    fields: dict[str, Any]  # canonical key -> value
    extra: dict[str, Any] | None  # fields the contract does not name, kept in _extra
    raw: str | list[str] | None = None  # original text (CSV: its physical lines), for quarantine
    error: str | None = None  # set when the record itself is malformed


def decode(data: bytes, gzipped: bool) -> str:
    if gzipped:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise FileProblem(f"truncated or corrupt gzip ({exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    if not text.strip():
        raise FileProblem("empty file")
    return text


def header_key(name: str) -> str:
    """CSV headers match case- and spacing-insensitively ('Created at' == 'Created At')."""
    return re.sub(r"\s+", " ", name).strip().lower()


class _LineTap:
    """Feeds csv.reader one physical line at a time and remembers the current record's lines."""

    __slots__ = ("_it", "buf")

    def __init__(self, text: str) -> None:
        # newline="" keeps \r\n inside quoted fields and splits physical lines on \n, \r\n or \r
        self._it = iter(io.StringIO(text, newline=""))
        self.buf: list[str] = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._it)
        self.buf.append(line)
        return line


def csv_records(text: str, known: dict[str, str], required: tuple[str, ...]) -> Iterator[Record]:
    """CSV rows as records. ``known`` maps header_key -> canonical field name."""
    tap = _LineTap(text)
    reader = csv.reader(tap)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileProblem(f"no CSV header ({exc})") from None
    keys = [header_key(h) for h in header]
    missing = [name for name in required if header_key(name) not in keys]
    if missing:
        raise FileProblem(f"missing required column(s): {', '.join(missing)}")
    positions: list[tuple[int, str]] = []
    extras: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, (key, original) in enumerate(zip(keys, header, strict=True)):
        if key in known and known[key] not in seen:
            positions.append((i, known[key]))
            seen.add(known[key])
        else:
            extras.append((i, original.strip()))
    width = len(header)
    tap.buf.clear()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            start = reader.line_num - len(tap.buf) + 1
            yield Record(start, {}, None, "".join(tap.buf).rstrip("\r\n"), f"malformed CSV record ({exc})")
            tap.buf.clear()
            continue
        start = reader.line_num - len(tap.buf) + 1
        raw_lines = tap.buf
        tap.buf = []
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) > width:
            yield Record(start, {}, None, "".join(raw_lines).rstrip("\r\n"), "wrong number of fields")
            continue
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        fields = {name: row[i] for i, name in positions}
        extra = {name: row[i] for i, name in extras if row[i] != ""} or None
        yield Record(start, fields, extra, raw_lines)  # lines joined only if quarantined


def raw_text(rec: Record) -> str:
    raw = rec.raw
    if isinstance(raw, list):
        return "".join(raw).rstrip("\r\n")
    if raw is None:
        return json.dumps({**rec.fields, **(rec.extra or {})}, ensure_ascii=False, default=str)
    return raw


def json_values(text: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line or array index, value, raw line) for a JSON array, one JSON value, or JSON lines.

    A value that does not parse is yielded as ``(line, None, raw)`` with the raw line."""
    stripped = text.strip()
    if stripped[0] in "[{":
        try:
            whole = _decode(stripped)
        except ValueError:
            whole = None  # not one document: read it as JSON lines
        else:
            if isinstance(whole, list):
                for i, value in enumerate(whole, start=1):
                    yield i, value, None
                return
            yield 1, whole, None
            return
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            value = _decode(line)
        except ValueError:
            yield number, _MALFORMED, line
            continue
        if isinstance(value, list):  # a webhook POST body on one line
            for item in value:
                yield number, item, json.dumps(item, ensure_ascii=False)
        else:
            yield number, value, line


_MALFORMED = object()
_fast_decode = msgspec.json.Decoder().decode
_raw_decode = json.JSONDecoder().raw_decode


def _decode(text: str) -> Any:
    """``json.loads`` of stripped text, exactly: msgspec first (3x faster), Python's json for
    what msgspec refuses but json takes (NaN, Infinity, 1e400, lone surrogates), so a value
    parses, or is malformed (ValueError), just as with json alone. Both give the same values
    where both parse (the parity test in tests/ingest/test_ingest_parsers.py)."""
    try:
        return _fast_decode(text)
    except msgspec.MsgspecError:
        # json.loads without its wrapper: the text is stripped, so no whitespace can lead or
        # trail the value, and anything after it is the same "Extra data" error
        value, end = _raw_decode(text)
        if end != len(text):
            raise ValueError("extra data") from None
        return value


def json_records(text: str, known: frozenset[str]) -> Iterator[Record]:
    good = 0
    first_error: str | None = None
    pending: list[Record] = []
    for line, value, raw in json_values(text):
        if value is _MALFORMED:
            rec = Record(line, {}, None, raw, "malformed JSON line")
            first_error = first_error or f"line {line}"
        elif not isinstance(value, dict):
            rec = Record(line, {}, None, raw or json.dumps(value), "not a JSON object")
        else:
            good += 1
            # unknown fields in the order they came (a set difference would follow string hashes,
            # which differ from process to process)
            extra = None if known.issuperset(value) else {k: v for k, v in value.items() if k not in known}
            rec = Record(line, value, extra, raw)
        if good == 0:
            pending.append(rec)  # hold back until we know the file is JSON at all
            continue
        if pending:
            yield from pending
            pending = []
        yield rec
    if good == 0 and first_error:
        raise FileProblem(f"not JSON (no line parses; first bad at {first_error})")
    yield from pending
