"""Parsing in worker processes, in chunks, and validating in chunks change nothing: the same
rows, quarantine records, manifest, tombstones and validation results as one process and
one batch (the fixtures are small, so the pool and the chunking are forced here)."""

from __future__ import annotations

import gc
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rightsend import warehouse
from rightsend.config import Settings
from rightsend.ingest import run, stage, validation
from rightsend.ingest.validation import _gx_context, _merge, _record, _validate_chunk, load_suite

ERASE_BY_EMAIL = (
    '{"request_id": "del-1", "occurred_at": "2026-11-19T12:00:00Z", "email": "ann@example.com", '
    '"type": "erasure", "channel": "email"}\n'
)
LOAD_TIMES = {"_loaded_at", "quarantined_at", "loaded_at", "erased_at", "validated_at"}
TABLES = (
    "raw.customers", "raw.orders", "raw.catalog", "raw.email_events", "raw.sms_messages", "raw.sms_clicks",
    "raw.push_events", "raw.web_events", "raw.consent_requests", "ops.quarantine", "ops.manifest",
    "ops.erasure_tombstones", "ops.validation_results",
)  # fmt: skip


def _contents(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every ingest table, load times left out, in a fixed order."""
    out = {}
    with warehouse.connect(settings, read_only=True) as con:
        for table in TABLES:
            schema, name = table.split(".")
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
                if c not in LOAD_TIMES
            ]
            listed = ", ".join(f'"{c}"::varchar' for c in columns)
            out[table] = con.execute(f"select {listed} from {table} order by all").fetchall()
    return out


def _pool(monkeypatch: pytest.MonkeyPatch, workers: int = 2) -> list[str]:
    """Force the worker pool; returns the files the workers were given, as they go."""
    monkeypatch.setenv(stage.WORKERS_ENV, str(workers))
    monkeypatch.setattr(stage, "POOL_MIN_BYTES", 0)
    submitted: list[str] = []

    class Counted(stage.ProcessPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            landed = args[0] if args and hasattr(args[0], "rel") else None
            submitted.append(landed.rel if landed else fn.__name__)  # a file, or GX work
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(stage, "ProcessPoolExecutor", Counted)
    return submitted


@pytest.mark.parametrize("fixture", ["good", "bad"])
def test_worker_pool_and_chunks_load_what_one_process_loads(
    fixture: str, make_landing: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"  # staging and validation chunks go to the temp dir: this one
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv(stage.WORKERS_ENV, "0")
    alone = make_landing(tmp_path / "alone", fixture)
    thresholds = gc.get_threshold()
    expected = run(alone, "2026-11-20")
    assert gc.get_threshold() == thresholds  # parsing here collects less often, then puts it back

    chunk_rows = stage.CHUNK_ROWS
    monkeypatch.setattr(stage, "CHUNK_ROWS", 2)  # several Parquet parts per file
    chunked = make_landing(tmp_path / "chunked", fixture)
    assert run(chunked, "2026-11-20") == expected

    monkeypatch.setattr(stage, "CHUNK_ROWS", chunk_rows)  # workers chunk as they were told at import
    submitted = _pool(monkeypatch)
    pooled = make_landing(tmp_path / "pooled", fixture)
    assert run(pooled, "2026-11-20") == expected
    files = len(expected["files"]["loaded"]) + len(expected["files"]["failed"])
    assert len(submitted) == files + 2 + len(expected["validation"])
    # each file, then GX warmed up in both workers, then one chunk a source to validate
    assert submitted[files:] == ["warm_up"] * 2 + ["validate_part"] * len(expected["validation"])

    assert _contents(chunked) == _contents(alone)
    assert _contents(pooled) == _contents(alone)
    assert list(scratch.iterdir()) == []  # staged parts and chunks cleaned up


def test_erased_people_dropped_at_load_by_the_pool_too(
    good: Settings, land: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # workers return each file's identifiers; a file carrying an erased one is filtered here
    land(good, "consent/dt=2026-11-20/erasure.ndjson", ERASE_BY_EMAIL)
    run(good, "2026-11-20")
    submitted = _pool(monkeypatch, workers=1)
    land(good, "sms/dt=2026-11-22/sms.csv",
         "Sid,From,To,Body,Status,SentDate,Direction\n"
         "SM9,+15005550006,+14155550101,Hi,sent,2026-11-21T10:00:00Z,outbound-api\n"
         "SM10,+15005550006,+12125550199,Hi,sent,2026-11-21T10:00:00Z,outbound-api\n"
         "SM11,+15005550006,+14155550101,Hi,sent,not a date,outbound-api\n")  # fmt: skip
    land(good, "web/dt=2026-11-22/web.ndjson",
         '{"event_id": "w7", "event_type": "search", "occurred_at": "2026-11-21T10:00:00Z", "anonymous_id": "zz"}\n')  # fmt: skip
    later = run(good, "2026-11-22")
    assert submitted[:3] == ["sms/dt=2026-11-22/sms.csv", "web/dt=2026-11-22/web.ndjson", "warm_up"]
    assert (later["rows"]["sms"]["loaded"], later["rows"]["sms"]["erased"]) == (1, 2)
    assert (later["rows"]["web"]["loaded"], later["rows"]["web"]["erased"]) == (1, 0)
    with warehouse.connect(good, read_only=True) as con:
        assert con.execute(
            "select count(*) from raw.sms_messages where to_number = '+14155550101'"
        ).fetchall() == [(0,)]
        assert con.execute(
            "select count(*) from ops.quarantine where raw_text like '%4155550101%'"
        ).fetchall() == [(0,)]


def test_validation_in_chunks_gives_one_batch_result(
    make_landing: Callable, tmp_path: Path, land: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        json.dumps(
            {
                "event_id": f"w{i}",
                "event_type": "search",
                "occurred_at": "1999-12-31T23:00:00Z" if i % 3 == 0 else "2026-11-19T10:00:00Z",
                "anonymous_id": None if i % 4 == 0 else "a",
            }
        )
        + "\n"
        for i in range(1, 31)
    ]
    settings = {}
    for name in ("one", "chunks"):
        (tmp_path / name).mkdir()
        settings[name] = make_landing(tmp_path / name, None)
        for day in range(10):  # ten files of three rows
            land(
                settings[name], f"web/dt=2026-11-{10 + day}/web.ndjson", "".join(rows[3 * day : 3 * day + 3])
            )
    whole = run(settings["one"], "2026-11-20")
    monkeypatch.setattr(validation, "CHUNK_ROWS", 7)  # files never split: chunks of 6 rows
    chunked = run(settings["chunks"], "2026-11-20")
    assert chunked["validation"] == whole["validation"]
    assert whole["validation"]["web"]["failed"][0]["unexpected_count"] == 10
    assert (
        _contents(settings["chunks"])["ops.validation_results"]
        == _contents(settings["one"])["ops.validation_results"]
    )


def test_merged_chunks_equal_gx_on_the_whole_frame() -> None:
    # sms to_number: a regex with mostly=0.99, with nulls, and misses in one chunk
    spec = load_suite("sms")
    frame = pd.DataFrame(
        {
            "sid": [f"SM{i}" for i in range(300)],
            "from_number": "+15005550006",
            "to_number": [
                None if i % 7 == 0 else ("12345" if i in (97, 194) else "+14155550101") for i in range(300)
            ],
            "body": None,
            "status": ["sent" if i % 50 else "lost" for i in range(300)],
            "sent_at": pd.Timestamp("2026-11-19 10:00:00"),
            "direction": "outbound-api",
            "num_segments": 1,
            "error_code": None,
            "price": None,
            "price_unit": "USD",
            "keyword": None,
            "_file": "f",
            "_line": range(300),
            "_dt": "2026-11-19",
        }
    )
    frame["sent_at"] = frame["sent_at"].astype("datetime64[ns]")
    gx = _gx_context()
    suite = gx.context.suites.add(
        gx.module.ExpectationSuite(name="merge_test", expectations=spec["expectations"])
    )
    parameters = {"min_ts": pd.Timestamp("2000-01-01"), "max_ts": pd.Timestamp("2026-11-22")}
    records: dict[str, list[tuple[Any, ...]]] = {}
    for name, cuts in (("whole", [0, 300]), ("chunks", [0, 90, 91, 200, 300])):
        outcomes: list[Any] = []
        for start, end in zip(cuts, cuts[1:], strict=False):
            part = frame.iloc[start:end].reset_index(drop=True)
            _merge(outcomes, _validate_chunk(gx, suite, part, parameters))
        records[name] = []
        _record("sms", 300, outcomes, "2026-11-20", pd.Timestamp("2026-11-20").to_pydatetime(), records[name])
    assert records["chunks"] == records["whole"]
    observed = {r[3]: (r[4], r[5]) for r in records["whole"]}
    # 2 misses in 257 numbers pass mostly=0.99 over the whole; the chunk holding both alone would not
    assert observed["to_number"] == (True, "2 of 300 unexpected (0.78%)")
    assert observed["status"] == (False, "6 of 300 unexpected (2.00%)")
