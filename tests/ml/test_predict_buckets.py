"""Scoring in buckets of people: together the buckets write exactly the unbucketed scores."""

from __future__ import annotations

import duckdb
import pandas as pd
from pandas.testing import assert_frame_equal

from models_ml import predict, train
from rightsend.buckets import bucket_of

from .conftest import SynthWarehouse


def _scores(synth: SynthWarehouse) -> pd.DataFrame:
    con = duckdb.connect(str(synth.settings.warehouse_path), read_only=True)
    try:
        return con.execute(
            "select * exclude (p_by_hour), p_by_hour::varchar as p_by_hour from ml.send_scores "
            "where score_date = ? order by customer_id, channel",
            [synth.run_date],
        ).df()
    finally:
        con.close()


def test_buckets_together_equal_the_unbucketed_run_row_for_row(synth: SynthWarehouse) -> None:
    s, day = synth.settings, synth.run_date
    assert train.run(s, day)["trained"]
    whole = predict.run(s, day)
    expected = _scores(synth)
    assert len(expected) == whole["rows"] > 0

    con = duckdb.connect(str(s.warehouse_path))
    con.execute("delete from ml.send_scores")
    con.close()
    parts = [predict.run(s, day, bucket=b, buckets=3) for b in range(3)]
    got = _scores(synth)
    assert_frame_equal(got, expected, check_exact=True)
    assert sum(p["people_scored"] for p in parts) == whole["people_scored"]
    assert sum(p["rows"] for p in parts) == whole["rows"]
    assert all(p["people_scored"] > 0 for p in parts)
    for b in range(3):  # each bucket scored exactly its own people
        people = set(got["customer_id"])
        assert parts[b]["people_scored"] == sum(bucket_of(c, 3) == b for c in people)

    # re-running one bucket replaces its rows, never doubles them, and leaves the others alone
    again = predict.run(s, day, bucket=1, buckets=3)
    assert again["rows"] == parts[1]["rows"]
    assert_frame_equal(_scores(synth), expected, check_exact=True)

    # a later run over everybody (or with another number of buckets) still covers everybody once
    predict.run(s, day, bucket=0, buckets=2)
    predict.run(s, day, bucket=1, buckets=2)
    assert_frame_equal(_scores(synth), expected, check_exact=True)
    predict.run(s, day)
    assert_frame_equal(_scores(synth), expected, check_exact=True)
