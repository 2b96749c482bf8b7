"""Point-in-time features: nothing at or after a send's sent_at may change its features."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from models_ml import features, synthetic

CUTOFF = "2026-11-21"


def _matrix(con: duckdb.DuckDBPyConnection, priors: features.Priors, vocab: dict) -> pd.DataFrame:
    sends, state, ph, pdw = features.training_frame(con, CUTOFF)
    x = features.training_matrix(sends, state, ph, pdw, priors, vocab)
    x.index = sends["send_id"].to_numpy()
    x["_ts"] = sends["ts"].to_numpy()
    return x


def _fixture() -> tuple[duckdb.DuckDBPyConnection, features.Priors, dict, pd.DataFrame]:
    con = duckdb.connect()
    synthetic.create_marts(con, customers=120, days=40, sends_per_day=0.6, seed=3)
    con.execute(
        "create table marts.mart_customer_segments_daily as select date '2026-10-25' as snapshot_date, "
        "customer_id, 'mid' as rfm_segment, 'active' as lifecycle_state from marts.dim_customers"
    )
    # priors and vocab fixed across runs: the test is about the SQL windows
    priors = features.Priors({"email": 0.1, "sms": 0.1, "push": 0.1}, 0.1)
    vocab = {
        "country": ["GB", "JP", "US"],
        "push_platform": ["android", "ios"],
        "timezone_source": ["browser", "device", "region"],
        "lifecycle_state": ["active"],
        "rfm_segment": ["mid"],
    }
    return con, priors, vocab, _matrix(con, priors, vocab)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(a) > 100
    b = b.loc[a.index]
    cols = features.FEATURES
    np.testing.assert_allclose(
        a[cols].to_numpy(np.float64), b[cols].to_numpy(np.float64), rtol=1e-6, atol=1e-9, equal_nan=True
    )


def test_features_ignore_everything_after_the_send() -> None:
    con, priors, vocab, base = _fixture()
    t0 = base["_ts"].sort_values().iloc[len(base) // 2]
    before = base[base["_ts"] < t0]
    # remove every event at or after t0 (sends, engagements of earlier sends, orders, snapshots)
    con.execute("delete from marts.fct_sends where sent_at >= ?", [t0])
    con.execute("update marts.fct_sends set first_engaged_at = null where first_engaged_at >= ?", [t0])
    con.execute("delete from marts.fct_orders where ordered_at >= ?", [t0])
    _same(before, _matrix(con, priors, vocab))
    # add a burst of engaged sends and orders after t0 for everybody
    con.execute(
        """
        insert into marts.fct_sends by name
        select send_id || '-late' as send_id, customer_id, channel, sent_at + interval 3 days as sent_at,
               campaign_id, message_id, timezone, sent_local_at + interval 3 days as sent_local_at,
               sent_local_hour, (sent_local_weekday + 3) % 7 as sent_local_weekday, sent_hour_of_week,
               sent_at + interval 3 days + interval 5 minutes as first_engaged_at, is_delivered
        from marts.fct_sends where sent_at >= ?::timestamp - interval 3 days
        """,
        [t0],
    )
    con.execute(
        "insert into marts.fct_orders by name select order_id || '-late' as order_id, customer_id, "
        "ordered_at + interval 30 days as ordered_at, is_cancelled, net_total from marts.fct_orders"
    )
    _same(before, _matrix(con, priors, vocab))


def test_a_sends_own_outcome_does_not_leak() -> None:
    con, priors, vocab, base = _fixture()
    # flip the outcome of each person's latest send (engaged a minute later <-> not engaged):
    # no send of theirs comes later, so every feature row must stay identical
    con.execute(
        """
        update marts.fct_sends set first_engaged_at =
            case when first_engaged_at is null then sent_at + interval 1 minute end
        where send_id in (select arg_max(send_id, sent_at) from marts.fct_sends group by customer_id)
        """
    )
    _same(base, _matrix(con, priors, vocab))
    # while the earlier sends of a person do see a flipped engagement when it is before them
    con.execute("update marts.fct_sends set first_engaged_at = sent_at + interval 1 minute")
    after = _matrix(con, priors, vocab)
    assert not np.allclose(base["tot_rate_all"], after.loc[base.index, "tot_rate_all"])


def test_scoring_path_matches_training_path() -> None:
    """Train/serve skew check: a send's training row equals the scoring candidate built as of
    its sent_at for the same person, channel, local hour and weekday."""
    con, priors, vocab, base = _fixture()
    sends = con.execute(
        "select send_id, customer_id, sent_at, channel, sent_local_hour, sent_local_weekday "
        "from marts.fct_sends where sent_at < '2026-11-15' order by sent_at desc, send_id limit 5"
    ).fetchall()
    for send_id, cust, sent_at, channel, hour, weekday in sends:
        con.execute(f"create or replace temp table _one as select '{cust}' as customer_id")
        state, ph, pdw = features.scoring_state(con, str(sent_at), "select customer_id from _one")
        x, _, _ = features.candidates(
            state, ph, pdw, np.array([0]), np.array([channel]), [hour], np.array([weekday]), priors, vocab
        )
        np.testing.assert_allclose(
            x[0].astype(np.float64),
            base.loc[send_id, features.FEATURES].to_numpy(np.float64),
            rtol=1e-5,
            atol=1e-6,
            equal_nan=True,
            err_msg=send_id,
        )


def test_training_reads_the_newest_sends_up_to_the_cap() -> None:
    from dataclasses import replace

    from models_ml.config import DEFAULT_CONFIG

    con, priors, vocab, base = _fixture()
    everything = features.training_queries(con, CUTOFF, DEFAULT_CONFIG)
    assert len(everything) == len(base) > 300
    capped = features.training_queries(con, CUTOFF, replace(DEFAULT_CONFIG, max_training_sends=300))
    newest = everything.sort_values(["ts", "send_id"]).tail(300)
    assert capped["qid"].tolist() == list(range(300))  # numbered in time order, as uncapped
    assert capped["send_id"].tolist() == newest["send_id"].tolist()
    assert capped["label"].tolist() == newest["label"].tolist()
    # the features of a kept send are the same whether or not older sends were read too
    sends, state, ph, pdw = features.training_frame(
        con, CUTOFF, replace(DEFAULT_CONFIG, max_training_sends=300)
    )
    x = features.training_matrix(sends, state, ph, pdw, priors, vocab)
    x.index = sends["send_id"].to_numpy()
    _same(x, base)
