"""Record framing: physical line numbers through quoted multi-line CSV fields; JSON shapes."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsend.ingest.reading import FileProblem, csv_records, decode, json_records

# line breaks inside quoted fields as exports write them (\n or \r\n; a lone \r is not kept by csv)
cell = st.lists(st.sampled_from(["a", "b", " ", ",", '"', "\n", "\r\n", "\t", "é"]), max_size=6).map("".join)


@settings(max_examples=60, deadline=None, database=None)  # nothing written to .hypothesis/
@given(st.lists(st.tuples(cell, cell), min_size=1, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_csv_line_is_physical_start_line(rows: list[tuple[str, str]], newline: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=newline).writerows([("Id", "Note"), *rows])
    text = buffer.getvalue()
    records = list(csv_records(text, {"id": "id", "note": "note"}, ("Id",)))
    expected, line = [], 2
    for row in rows:
        one = io.StringIO(newline="")
        csv.writer(one, lineterminator=newline).writerow(row)
        physical = len(io.StringIO(one.getvalue(), newline="").readlines())
        expected.append((line, row[0], row[1]))
        line += physical
    assert [(r.line, r.fields["id"], r.fields["note"]) for r in records] == expected


def test_json_array_lines_and_single_object() -> None:
    known = frozenset({"a"})
    assert [(r.line, r.fields) for r in json_records('[{"a": 1}, {"a": 2}]', known)] == [
        (1, {"a": 1}),
        (2, {"a": 2}),
    ]
    assert [(r.line, r.error) for r in json_records('{"a": 1}\n\n{"a": 2, "b": 3}\n{oops\n', known)] == [
        (1, None),
        (3, None),
        (4, "malformed JSON line"),
    ]
    assert [r.line for r in json_records('[{"a": 1}]\n[{"a": 2}, {"a": 3}]\n', known)] == [
        1,
        2,
        2,
    ]  # POST bodies
    assert next(iter(json_records('{"a": 1, "b": 2}', known))).extra == {"b": 2}


def test_decode_rejects_what_cannot_be_read() -> None:
    assert decode(b"\xef\xbb\xbfId\n1\n", gzipped=False) == "Id\n1\n"  # BOM dropped
    with pytest.raises(FileProblem, match="empty file"):
        decode(b" \n", gzipped=False)
    with pytest.raises(FileProblem, match=r"not UTF-8 \(invalid byte 0xff at offset 1\)"):
        decode(b"a\xff", gzipped=False)
    with pytest.raises(FileProblem, match="truncated or corrupt gzip"):
        decode(b"\x1f\x8b\x08\x00", gzipped=True)
