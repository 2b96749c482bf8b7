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


def _score_bucket(people: int, seconds: float) -> dict:
    return {
        "model_version": "v1",
        "score_date": "2026-11-20",
        "people_scored": people,
        "rows": people * 2,
        "personal": people - 1,
        "fallback": 1,
        "best_channel_mix": {"email": people - 1, "sms": 1, "push": 0},
        "validation": {"auc": 0.8, "n": 100},
        "lift": {"replay_vs_random": 0.5},
        "trained_first": None,
        "seconds_by_step": {"features": seconds, "write": 0.5},
    }


def test_buckets_of_a_mapped_stage_add_up_and_a_rerun_replaces_one_bucket(settings) -> None:
    day = "2026-11-20"
    for bucket, people in enumerate((10, 20, 30)):
        summary.record_bucket(settings, day, "score", bucket, 3, _score_bucket(people, 1.0), 2.0)
    summary.record_bucket(settings, day, "score", 1, 3, _score_bucket(25, 1.0), 3.0)  # bucket 1 again
    data = summary.load(settings, day)
    score = data["score"]
    assert score["people_scored"] == 65 and score["rows"] == 130 and score["fallback"] == 3
    assert score["best_channel_mix"] == {"email": 62, "sms": 3, "push": 0}
    assert score["validation"] == {"auc": 0.8, "n": 100}  # shared facts kept once, not added up
    assert score["lift"] == {"replay_vs_random": 0.5} and score["model_version"] == "v1"
    assert score["seconds_by_step"] == {"features": 3.0, "write": 1.5}
    assert data["timings_seconds"]["score"] == 7.0
    assert sorted(data["buckets"]["score"]["done"]) == ["0", "1", "2"]
    assert "scored 65 people in 3 buckets: 62 personal, 3 fallback" in summary.describe(data)

    # another number of buckets starts over; a run over everybody replaces the buckets
    summary.record_bucket(settings, day, "score", 0, 2, _score_bucket(7, 1.0), 1.0)
    data = summary.load(settings, day)
    assert data["score"]["people_scored"] == 7
    assert "scored 7 people in 1 of 2 buckets" in summary.describe(data)
    summary.record(settings, day, "score", _score_bucket(70, 1.0), 4.0)
    data = summary.load(settings, day)
    assert data["score"]["people_scored"] == 70 and "score" not in data["buckets"]
    assert "scored 70 people: " in summary.describe(data)


def test_run_stage_with_a_bucket_passes_it_on_and_records_the_bucket(settings) -> None:
    def stage(s, d, *, bucket, buckets):
        return {"published": bucket + 1, "already_published": 0, "transport": "file", "messages": bucket + 1}

    for bucket in range(4):
        summary.run_stage("dispatch", stage, "2026-11-22", settings, bucket=bucket, buckets=4)
    data = summary.load(settings, "2026-11-22")
    assert data["dispatch"] == {"published": 10, "already_published": 0, "transport": "file", "messages": 10}
    assert "10 published via file, 0 already published in 4 buckets" in summary.describe(data)
