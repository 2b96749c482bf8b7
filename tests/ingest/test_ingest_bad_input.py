"""The bad-input corpus (tests/fixtures/landing/bad plus two binary faults made here):
every bad row is quarantined with its reason, every unreadable file fails with a clear
error naming it, and every good row still loads."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import pytest

from rightsend.config import Settings
from rightsend.ingest import run

CATALOG_HEADER = (
    "Handle,Title,Type,Variant SKU,Variant Price,Variant Compare At Price,Variant Inventory Qty,Published\n"
)
PUSH_LINE = (
    '{"event_id": "p%d", "event_type": "send", "occurred_at": "2026-11-18T10:00:00Z", "device_token": "t"}\n'
)


@pytest.fixture
def result(bad: Settings, land: Callable) -> dict[str, Any]:
    whole = gzip.compress("".join(PUSH_LINE % i for i in range(50)).encode(), mtime=0)
    land(bad, "push/dt=2026-11-19/push.ndjson.gz", whole[: len(whole) // 2])  # upload cut short
    land(
        bad,
        "catalog/dt=2026-11-19/products.csv",
        (CATALOG_HEADER + "cafe,Café,Mugs,M1,9,,1,true\n").encode("latin-1"),
    )
    return run(bad, "2026-11-20")


def test_unreadable_files_fail_with_file_and_problem(
    result: dict[str, Any], query: Callable, bad: Settings
) -> None:
    failed = {f["path"]: f["error"] for f in result["files"]["failed"]}
    assert failed == {
        "catalog/dt=2026-11-19/products.csv": "catalog/dt=2026-11-19/products.csv: not UTF-8 (invalid byte 0xe9 at offset 109)",
        "consent/dt=2026-11-19/empty.ndjson": "consent/dt=2026-11-19/empty.ndjson: empty file",
        "customers/dt=2026-11-19/customers_no_email.csv":
            "customers/dt=2026-11-19/customers_no_email.csv: missing required column(s): Email",
        "email/dt=2026-11-19/not_json.json":
            "email/dt=2026-11-19/not_json.json: not JSON (no line parses; first bad at line 1)",
        "push/dt=2026-11-19/push.ndjson.gz": failed["push/dt=2026-11-19/push.ndjson.gz"],
    }  # fmt: skip
    assert failed["push/dt=2026-11-19/push.ndjson.gz"].startswith(
        "push/dt=2026-11-19/push.ndjson.gz: truncated or corrupt gzip"
    )
    rows = query(
        bad, "select status, rows_loaded, error is not null from ops.manifest where status = 'failed'"
    )
    assert rows == [("failed", 0, True)] * 5
    assert query(bad, "select count(*) from raw.push_events") == [(0,)]  # nothing half-loaded


def test_bad_rows_quarantined_good_rows_loaded(
    result: dict[str, Any], query: Callable, bad: Settings
) -> None:
    assert sorted(result["files"]["loaded"]) == [
        "consent/dt=2026-11-19/consent_mixed.ndjson",
        "email/dt=2026-11-19/sendgrid_mixed.json",
        "orders/dt=2026-11-19/orders_mixed.csv",
        "sms/dt=2026-11-19/sms_mixed.csv",
        "web/dt=2026-11-19/web_mixed.ndjson",
    ]
    rows = result["rows"]
    assert {s: (r["loaded"], r["quarantined"]) for s, r in rows.items() if r["files"]} == {
        "customers": (0, 0), "orders": (3, 4), "catalog": (0, 0), "email": (1, 3), "sms": (1, 3),
        "push": (0, 0), "web": (2, 6), "consent": (1, 2),
    }  # fmt: skip
    assert rows["web"]["quarantine_reasons"] == {
        "bad timestamp in occurred_at": 1, "unknown event type": 1, "missing required field event_id": 1,
        "malformed JSON line": 1, "negative amount in price": 1, "not a JSON object": 1,
    }  # fmt: skip
    quarantine = query(bad, "select source, line, reason from ops.quarantine order by source, line")
    assert quarantine == [
        ("consent", 1, "missing identifier (customer_id, email or phone)"),
        ("consent", 2, "unknown request type"),
        ("email", 2, "unknown event type"),
        ("email", 3, "missing required field sg_event_id"),
        ("email", 4, "bad timestamp in timestamp"),
        ("orders", 4, "unknown financial status"),
        ("orders", 5, "negative amount in Total"),
        ("orders", 6, "bad timestamp in Created at"),
        ("orders", 9, "wrong number of fields"),  # after a record spanning lines 7-8
        ("sms", 3, "unknown status"),
        ("sms", 4, "bad timestamp in SentDate"),
        ("sms", 5, "missing required field Sid"),
        ("web", 2, "bad timestamp in occurred_at"),
        ("web", 3, "unknown event type"),
        ("web", 4, "missing required field event_id"),
        ("web", 5, "malformed JSON line"),
        ("web", 6, "negative amount in price"),
        ("web", 7, "not a JSON object"),
    ]
    detail = query(bad, "select raw_text, detail from ops.quarantine where source = 'web' and line = 2")
    assert detail == [
        (
            '{"event_id": "w2", "event_type": "product_view", "occurred_at": "2026-13-45T00:00:00Z", '
            '"anonymous_id": "a1", "session_id": "s1"}',
            "occurred_at='2026-13-45T00:00:00Z'",
        )
    ]
    assert query(bad, "select raw_text from ops.quarantine where source = 'orders' and line = 6")[0][
        0
    ].startswith("6004,#2004,d@example.com")
    assert query(bad, "select order_id, lineitem_name, _line from raw.orders order by _line") == [
        ("6001", "Cap", 2),
        ("6001", "Pin", 3),
        ("6005", "Gift card\n(printed)", 7),
    ]
    assert query(bad, "select event_id, occurred_at::varchar from raw.web_events order by _line") == [
        ("w1", "2026-11-18 10:00:00"),
        ("w8", "2026-11-18 09:00:00"),
    ]
