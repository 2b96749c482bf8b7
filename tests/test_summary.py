"""runs/dt=D/summary.json: stages merge, re-runs replace, and it reads well in words."""

from __future__ import annotations

import json

from rightsend import summary


def test_stages_merge_and_a_rerun_replaces_its_section(settings) -> None:
    summary.record(settings, "2026-11-20", "ingest", {"files": {"loaded": ["a", "b"]}}, 1.5)
    summary.record(settings, "2026-11-20", "decide", {"queued": 7}, 0.25)
    summary.record(settings, "2026-11-20", "ingest", {"files": {"loaded": []}}, 0.5)
    data = json.loads(summary.summary_path(settings, "2026-11-20").read_text())
    assert data["run_date"] == "2026-11-20"
    assert data["ingest"] == {"files": {"loaded": []}}
    assert data["decide"] == {"queued": 7}
    assert data["timings_seconds"] == {"ingest": 0.5, "decide": 0.25}


def test_describe_names_failed_files_and_quarantine_reasons(settings) -> None:
    data = {
        "run_date": "2026-11-20",
        "ingest": {
            "files": {
                "loaded": ["email/dt=2026-11-20/a.json"],
                "skipped_already_loaded": 3,
                "failed": [{"path": "sms/dt=2026-11-20/x.csv.gz", "error": "truncated gzip"}],
            },
            "rows": {
                "email": {"loaded": 1200, "quarantined": 2, "quarantine_reasons": {"bad timestamp": 2}},
                "sms": {"loaded": 30, "quarantined": 1, "quarantine_reasons": {"unknown status": 1}},
            },
            "validation": {
                "email": {"success": False, "expectations": 9, "failed": ["timestamp out of bounds: 3 rows"]},
                "sms": {"success": True, "expectations": 8, "failed": []},
            },
            "erasure": {
                "requests": 2,
                "identifiers_tombstoned": 5,
                "rows_deleted": {"raw.orders": 3, "raw.web": 4},
            },
        },
        "decide": {"queued": 1500, "held_out": 150, "suppressed": {"frequency_cap": 40, "no_consent": 9}},
        "timings_seconds": {"ingest": 2.0},
    }
    text = summary.describe(data, settings)
    assert "1 files loaded, 3 already loaded, 1 failed; 1,230 rows loaded, 3 quarantined" in text
    assert "failed file sms/dt=2026-11-20/x.csv.gz: truncated gzip" in text
    assert "bad timestamp 2, unknown status 1" in text
    assert (
        "1,500 messages queued to send, 150 more held out as control; suppressed: frequency_cap 40, no_consent 9"
        in text
    )
    assert (
        "Great Expectations: 2 batches, 17 expectations, 1 FAILED: email: timestamp out of bounds: 3 rows"
        in text
    )
    assert "erasure: 2 requests, 5 identifiers tombstoned, 7 raw rows removed" in text
    assert str(settings.queue_dir("2026-11-20")) in text


def test_run_stage_records_result_and_timing(settings) -> None:
    result = summary.run_stage("score", lambda s, d: {"people_scored": 3, "date": d}, "2026-11-21", settings)
    assert result == {"people_scored": 3, "date": "2026-11-21"}
    data = summary.load(settings, "2026-11-21")
    assert data["score"]["people_scored"] == 3
    assert data["timings_seconds"]["score"] >= 0


def test_describe_states_model_lift_against_each_baseline_in_words() -> None:
    data = {
        "run_date": "2026-11-20",
        "train": {
            "trained": True,
            "version": "2026-11-20-abc",
            "metrics": {"auc": 0.8461, "n": 1789.0},
            "lift": {
                "replay_vs_global_best_hour": 0.41,
                "estimate_vs_global_best_hour": 0.65,
                "replay_vs_random": 0.88,
            },
        },
    }
    text = summary.describe(data)
    assert "2026-11-20-abc (trained this run); auc 0.846, n 1,789" in text
    assert "one global best hour +41% (replay), +65% (model estimate); a random hour +88% (replay)" in text
