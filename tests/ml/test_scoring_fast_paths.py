"""Scoring's grouped person state at the cutoff against training's window SQL (the reference)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_ml import features, synthetic
from models_ml.config import CHANNELS, DEFAULT_CONFIG, load_rules

AS_OF = "2026-11-21"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    synthetic.create_marts(con, customers=150, days=120, sends_per_day=0.6, seed=4)
    con.execute(
        "create table marts.mart_customer_segments_daily as select date '2026-10-25' as snapshot_date, "
        "customer_id, 'mid' as rfm_segment, 'active' as lifecycle_state from marts.dim_customers"
    )
    # edges of the windows: a send exactly window_days before the cutoff (in the 90-day window),
    # one just before that (not in it), one exactly at the cutoff (not before it: left out), and
    # a person with no history at all
    first = con.execute("select min(customer_id) from marts.fct_sends").fetchone()[0]
    since = f"timestamp '{AS_OF}' - interval {DEFAULT_CONFIG.window_days} days"
    for i, at in enumerate((since, f"{since} - interval 1 second", f"timestamp '{AS_OF}'")):
        con.execute(
            f"insert into marts.fct_sends select * replace ('edge-{i}' as send_id, {at} as sent_at) "
            "from marts.fct_sends where customer_id = ? limit 1",
            [first],
        )
    con.execute(
        "insert into marts.dim_customers by name select 'no-history' as customer_id, 'Europe/Paris' as timezone, "
        "'FR' as country_code, true as is_email_reachable"
    )
    return con


def _matrix(state: pd.DataFrame, ph: dict, pdw: dict) -> np.ndarray:
    n = len(state)
    rows = np.repeat(np.arange(n), len(CHANNELS))
    channels = np.tile(np.array(CHANNELS), n)
    priors = features.Priors({"email": 0.12, "sms": 0.08, "push": 0.05}, 0.1)
    vocab = {
        "country": ["DE", "FR", "GB", "JP", "US"],
        "push_platform": ["android", "ios"],
        "timezone_source": ["browser", "device", "region"],
        "lifecycle_state": ["active"],
        "rfm_segment": ["mid"],
    }
    hours = load_rules().allowed_hours
    x, _, _ = features.candidates(state, ph, pdw, rows, channels, hours, np.full(len(rows), 5), priors, vocab)
    return x


def test_grouped_cutoff_state_equals_the_window_sql(con: duckdb.DuckDBPyConnection) -> None:
    people = "select customer_id from marts.dim_customers"
    ref, ref_h, ref_d = features.scoring_state(con, AS_OF, people, windows=True)
    got, got_h, got_d = features.scoring_state(con, AS_OF, people)
    assert len(ref) > 150 and list(got.columns) == list(ref.columns)
    assert (got.dtypes == ref.dtypes).all()
    assert (ref["r_send_email"] + ref["r_send_sms"] + ref["r_send_push"] > 0).any()
    assert ref.loc[ref["customer_id"] == "no-history", "n_send_email"].item() == 0
    for col in ref.columns:
        if ref[col].dtype.kind == "f" and col not in features._WINDOWED_STATE:
            # sums: only the order of the additions differs
            np.testing.assert_allclose(got[col], ref[col], rtol=1e-12, atol=1e-12, err_msg=col)
        else:  # counts, last event times, attributes, the sin/cos sums: exactly
            pd.testing.assert_series_equal(got[col], ref[col], check_exact=True)
    for ref_p, got_p in ((ref_h, got_h), (ref_d, got_d)):
        for key in ref_p:
            np.testing.assert_allclose(got_p[key], ref_p[key], rtol=1e-12, atol=0, err_msg=key)
    # the model's inputs (float32) are the same, bit for bit
    np.testing.assert_array_equal(_matrix(got, got_h, got_d), _matrix(ref, ref_h, ref_d))
