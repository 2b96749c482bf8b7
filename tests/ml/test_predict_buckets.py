"""Scoring in buckets of people: together the buckets write exactly the unbucketed scores, all
with the model version the run pinned."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from models_ml import predict, registry, train
from models_ml.config import DEFAULT_CONFIG
from rightsend.buckets import bucket_of

from .conftest import SynthWarehouse

# Another model than the default one, from the same data: one stump.
STUMP = replace(DEFAULT_CONFIG, num_boost_round=1, lgb_params={**DEFAULT_CONFIG.lgb_params, "num_leaves": 2})


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


def test_a_pinned_bucket_keeps_its_model_version_after_a_promotion(synth: SynthWarehouse) -> None:
    """The daily DAG's plan pins the champion for every score bucket: a bucket scored after
    another model is promoted still uses (and records) the pinned version, with its scores."""
    s, day = synth.settings, synth.run_date
    first = train.run(s, day)
    assert first["promoted"]
    pinned = registry.champion(s).version
    assert pinned == first["version"]
    predict.run(s, day, bucket=0, buckets=2, model_version=pinned)
    before = _scores(synth)

    # another model (a different one: a single stump) becomes the champion mid-run
    other = train.run(s, day, force=True, cfg=STUMP)
    assert other["trained"] and other["version"] != pinned
    registry.promote(s, registry.load(s, other["version"]), "promoted while the buckets run")
    assert registry.champion(s).version == other["version"]

    again = predict.run(s, day, bucket=0, buckets=2, model_version=pinned)
    assert again["model_version"] == pinned
    assert_frame_equal(_scores(synth), before, check_exact=True)  # same model, same scores
    assert set(before["model_version"]) == {pinned}

    # unpinned, scoring uses the champion of the moment (as before pinning existed), which
    # scores differently: the pin above is what kept bucket 0 on the first model
    latest = predict.run(s, day, bucket=1, buckets=2)
    assert latest["model_version"] == other["version"]
    predict.run(s, day, bucket=0, buckets=2)
    unpinned = _scores(synth)
    assert set(unpinned["model_version"]) == {other["version"]}
    bucket_0 = before[["customer_id", "channel"]].merge(unpinned, on=["customer_id", "channel"])
    assert len(bucket_0) == len(before)
    assert not np.allclose(bucket_0["p_engage"], before["p_engage"])


def test_a_pinned_version_missing_from_the_registry_is_an_error(synth: SynthWarehouse) -> None:
    assert train.run(synth.settings, synth.run_date)["promoted"]
    with pytest.raises(RuntimeError, match="not in the registry"):
        predict.run(synth.settings, synth.run_date, bucket=0, buckets=2, model_version="1999-01-01-00000000")
