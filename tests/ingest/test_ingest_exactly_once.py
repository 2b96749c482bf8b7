"""Each landed file is loaded exactly once; late files are picked up; changed files are flagged."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rightsend.config import Settings
from rightsend.ingest import run

LATE = (
    '{"event_id": "w90", "event_type": "session_start", "occurred_at": "2026-11-14T10:00:00Z", "anonymous_id": "z"}\n'
    '{"event_id": "w91", "event_type": "search", "occurred_at": "2026-11-14T10:01:00Z", "anonymous_id": "z"}\n'
)


def test_load_reload_late_file_future_file(
    good: Settings, land: Callable, counts: Callable, query: Callable
) -> None:
    first = run(good, "2026-11-20")
    assert len(first["files"]["loaded"]) == 10
    assert sum(counts(good).values()) == 38

    again = run(good, "2026-11-20")
    assert again["files"] == {"loaded": [], "skipped_already_loaded": 10, "failed": [], "changed": []}
    assert sum(r["loaded"] for r in again["rows"].values()) == 0
    assert sum(counts(good).values()) == 38

    land(good, "web/dt=2026-11-15/late_upload.ndjson", LATE)  # lands late, into an old dt=
    land(good, "web/dt=2026-11-21/tomorrow.ndjson", LATE.replace("w9", "w8"))  # after D: not yet
    late = run(good, "2026-11-20")
    assert late["files"]["loaded"] == ["web/dt=2026-11-15/late_upload.ndjson"]
    assert late["files"]["skipped_already_loaded"] == 10
    assert late["rows"]["web"] == {
        "files": 1, "loaded": 2, "quarantined": 0, "erased": 0, "quarantine_reasons": {}
    }  # fmt: skip
    assert counts(good)["web_events"] == 6

    nxt = run(good, "2026-11-21")
    assert nxt["files"]["loaded"] == ["web/dt=2026-11-21/tomorrow.ndjson"]
    assert nxt["files"]["skipped_already_loaded"] == 11
    assert counts(good)["web_events"] == 8
    assert query(good, "select count(*), count(distinct path) from ops.manifest where status = 'loaded'") == [
        (12, 12)
    ]


def test_changed_checksum_is_flagged_not_reloaded(good: Settings, counts: Callable, query: Callable) -> None:
    run(good, "2026-11-20")
    rel = "customers/dt=2026-11-18/customers_export.csv"
    path = good.landing_dir / rel
    path.write_bytes(path.read_bytes().replace(b"Ann,Lee", b"Anne,Lee"))  # same size or not: bytes differ

    result: dict[str, Any] = run(good, "2026-11-20")
    assert [c["path"] for c in result["files"]["changed"]] == [rel]
    assert "content changed" in result["files"]["changed"][0]["error"]
    assert result["files"]["loaded"] == [] and result["files"]["skipped_already_loaded"] == 9
    assert counts(good)["customers"] == 4
    assert query(good, "select first_name from raw.customers where customer_id = '1001'") == [("Ann",)]
    assert query(good, "select status, rows_loaded from ops.manifest where path = ?", [rel]) == [
        ("changed", 4)
    ]

    later = run(good, "2026-11-20")  # flagged once; still never reloaded
    assert later["files"]["changed"] == [] and later["files"]["skipped_already_loaded"] == 10
    assert counts(good)["customers"] == 4


def test_known_files_are_checked_by_size_and_mtime_then_by_bytes(good: Settings, query: Callable) -> None:
    run(good, "2026-11-20")
    rel = "customers/dt=2026-11-18/customers_export.csv"
    path = good.landing_dir / rel
    recorded = "select mtime_ns from ops.manifest where path = ?"
    assert query(good, recorded, [rel]) == [(path.stat().st_mtime_ns,)]  # taken when first read

    later = path.stat().st_mtime_ns + 2_000_000_000
    os.utime(path, ns=(later, later))  # touched, same bytes: hashed once, not flagged
    touched = run(good, "2026-11-20")
    assert touched["files"]["changed"] == [] and touched["files"]["skipped_already_loaded"] == 10
    assert query(good, recorded, [rel]) == [(later,)]

    data = path.read_bytes()
    path.write_bytes(data.replace(b"Ann,Lee", b"Ann,Lea"))  # same size, other bytes, new mtime
    assert path.stat().st_size == len(data)
    os.utime(path, ns=(later + 1_000_000_000,) * 2)
    rewritten = run(good, "2026-11-20")
    assert [c["path"] for c in rewritten["files"]["changed"]] == [rel]
