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


def test_batches_are_validated_without_hashing_the_frame() -> None:
    """GX's frame fingerprint (a hash of every value, 2/3 of a chunk's validation) is off, and
    the results are those GX gives with it on."""
    import pandas as pd
    from great_expectations.execution_engine import pandas_execution_engine

    from rightsend.ingest.validation import MIN_TS, _suite, _validate_chunk

    gx, suite = _suite("web")
    frame = pd.DataFrame(
        {
            "event_id": ["w1", None, "w3"],
            "event_type": ["search", "search", "teleport"],
            "occurred_at": pd.to_datetime(["2026-11-19 10:00", "1999-01-01 00:00", "2026-11-19 11:00"]),
            "anonymous_id": ["a", "b", None],
            "session_id": [None, None, None],
            "price": [1.0, -2.0, None],
        }
    )
    params = {"min_ts": MIN_TS, "max_ts": pd.Timestamp("2026-11-22")}
    batch = gx.batch_definition.get_batch(batch_parameters={"dataframe": frame})
    assert "pandas_data_fingerprint" not in batch.batch_markers
    results = _validate_chunk(gx, suite, frame, params)
    before, pandas_execution_engine.HASH_THRESHOLD = pandas_execution_engine.HASH_THRESHOLD, 1e9
    try:
        fingerprinted = gx.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        assert "pandas_data_fingerprint" in fingerprinted.batch_markers  # GX's default, for contrast
        assert _validate_chunk(gx, suite, frame, params) == results
    finally:
        pandas_execution_engine.HASH_THRESHOLD = before
    failed = {(r[0], r[1]): r[4]["unexpected_count"] for r in results if not r[3]}
    assert failed == {
        ("expect_column_values_to_not_be_null", "event_id"): 1,
        ("expect_column_values_to_not_be_null", "anonymous_id"): 1,
        ("expect_column_values_to_be_in_set", "event_type"): 1,
        ("expect_column_values_to_be_between", "price"): 1,
        ("expect_column_values_to_be_between", "occurred_at"): 1,
    }
