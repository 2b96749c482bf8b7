"""Great Expectations on the newly loaded batch: failures are reported with their numbers."""

from __future__ import annotations

from collections.abc import Callable

from rightsend.config import Settings
from rightsend.ingest import run

WEB = (
    '{"event_id": "w1", "event_type": "search", "occurred_at": "2026-11-19T10:00:00Z", "anonymous_id": "a"}\n'
    '{"event_id": "w2", "event_type": "search", "occurred_at": "1999-12-31T23:00:00Z", "anonymous_id": "a"}\n'
    '{"event_id": "w3", "event_type": "search", "occurred_at": "2026-11-19T11:00:00Z", "anonymous_id": "b"}\n'
    '{"event_id": "w4", "event_type": "search", "occurred_at": "2026-11-25T00:00:00Z", "anonymous_id": "b"}\n'
)
PUSH = (
    '{"event_id": "p1", "event_type": "send", "occurred_at": "2026-11-19T10:00:00Z", "device_token": "t1", "platform": "ios"}\n'
    '{"event_id": "p2", "event_type": "send", "occurred_at": "2026-11-19T10:00:00Z", "device_token": "t2", "platform": "blackberry"}\n'
)


def test_failed_expectations_reported_with_numbers(
    make_landing: Callable, tmp_path: object, land: Callable, query: Callable
) -> None:
    settings: Settings = make_landing(tmp_path, None)
    land(settings, "web/dt=2026-11-20/web.ndjson", WEB)
    land(settings, "push/dt=2026-11-20/push.ndjson", PUSH)
    result = run(settings, "2026-11-20")

    assert result["rows"]["web"]["loaded"] == 4  # parseable, so loaded: GX judges plausibility
    web = result["validation"]["web"]
    assert web["success"] is False and web["rows"] == 4 and web["expectations"] == 8
    assert web["failed"] == [
        {
            "expectation": "expect_column_values_to_be_between",
            "column": "occurred_at",
            "observed": "2 of 4 unexpected (50.00%)",  # before 2000 and after D + 2 days
            "element_count": 4,
            "unexpected_count": 2,
            "missing_count": 0,
            "partial_unexpected_list": ["1999-12-31 23:00:00", "2026-11-25 00:00:00"],
        }
    ]
    push = result["validation"]["push"]
    assert push["success"] is False
    assert [(f["column"], f["unexpected_count"], f["element_count"]) for f in push["failed"]] == [
        ("platform", 1, 2)
    ]

    stored = query(
        settings,
        "select source, expectation, column_name, observed from ops.validation_results "
        "where not success order by source",
    )
    assert stored == [
        ("push", "expect_column_values_to_be_in_set", "platform", "1 of 2 unexpected (50.00%)"),
        ("web", "expect_column_values_to_be_between", "occurred_at", "2 of 4 unexpected (50.00%)"),
    ]
    assert query(
        settings, "select count(*), count(*) filter (where success) from ops.validation_results"
    ) == [(16, 14)]

    # only new batches are validated: a re-run validates nothing
    assert run(settings, "2026-11-20")["validation"] == {}
