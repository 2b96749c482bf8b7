"""End to end through the warehouse: marts + scores in a tmp DuckDB -> decide.run ->
queue.outbox / suppression_log and out/queue/dt=D/messages.{csv,parquet}."""

from __future__ import annotations

import csv

import duckdb
import numpy as np
import pandas as pd
import pytest

from rightsend import decide
from rightsend.decide import io
from rightsend.decide import samples as s
from rightsend.decide.core import CONTRACT_COLUMNS
from rightsend.ingest import identifier_hash
from rightsend.warehouse import connect

from .helpers import D

ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Paris"]


@pytest.fixture
def seeded(settings):
    people = [
        s.customer(f"c{i:02d}", timezone=ZONES[i % 4], lifecycle_state=["active", "silent", "lapsing"][i % 3],
                   created_at=pd.Timestamp("2026-11-19 09:00") if i % 7 == 0 else pd.Timestamp("2025-01-01"))
        for i in range(30)
    ]  # fmt: skip
    people.append(s.customer("erased", email="erased@example.com"))
    web = [s.web(f"c{i:02d}", "add_to_cart", "2026-11-20 09:00", "A") for i in range(0, 30, 4)]
    web += [s.web(f"c{i:02d}", "product_view", "2026-11-19 09:00", "B") for i in range(1, 30, 5)]
    inp = s.inputs(
        D, people, web_events=web, products=[s.product("A"), s.product("B", is_price_drop=True, price=30.0)],
        order_lines=[s.order_line("c05", "o1", "2026-11-17 12:00", "A")],
        scores=[s.score(p["customer_id"], ch, rank=k + 1) for p in people for k, ch in enumerate(["push", "email", "sms"])],
    )  # fmt: skip
    with connect(settings) as con:
        s.seed_warehouse(con, inp)
        con.execute(
            "insert into ops.erasure_tombstones values (?, 'email', 'r1', '2026-11-20')",
            [identifier_hash("email", "erased@example.com")],
        )
    return settings


def outbox(settings, day=D):
    with connect(settings, read_only=True) as con:
        return con.execute(
            "select * exclude (created_at) from queue.outbox where queue_date = ? order by message_id", [day]
        ).df()


def test_run_writes_tables_and_files_per_contract(seeded):
    result = decide.run(seeded, D)
    assert result["queued"] > 0 and result["held_out"] >= 0
    erased = result["suppressed"]["erased"]  # one per (person, campaign) it would have had
    assert erased == 2  # flash sale (lifecycle active) and the newsletter
    assert set(result["by_campaign"]) >= {"abandoned_cart", "win_back"}
    assert sum(v["queued"] for v in result["by_campaign"].values()) == result["queued"]
    folder = seeded.queue_dir(D)
    assert result["files"] == [str(folder / "messages.csv"), str(folder / "messages.parquet")]
    with open(folder / "messages.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == CONTRACT_COLUMNS
    assert len(rows) == result["queued"] + result["held_out"]
    assert {r["is_holdout"] for r in rows} <= {"true", "false"}
    assert all(r["send_at_utc"].endswith("Z") and r["send_at_local"][-6] in "+-" for r in rows)
    assert "erased" not in {r["customer_id"] for r in rows}
    pq = duckdb.sql(
        f"select * from read_parquet('{folder / 'messages.parquet'}', hive_partitioning=false)"
    ).df()
    assert list(pq.columns) == CONTRACT_COLUMNS
    assert sorted(pq.message_id) == sorted(r["message_id"] for r in rows)
    assert not list(folder.glob(".*tmp"))
    with connect(seeded, read_only=True) as con:
        n_supp = con.execute(
            "select count(*) from queue.suppression_log where queue_date = ?", [D]
        ).fetchone()[0]
        assert (
            con.execute("select count(*) from queue.suppression_log where customer_id = 'erased'").fetchone()[
                0
            ]
            == 0
        )
    assert n_supp == sum(result["suppressed"].values()) - erased  # erased: counted, never logged


def test_rerun_gives_the_identical_queue_and_no_duplicates(seeded):
    decide.run(seeded, D)
    first = outbox(seeded)
    csv1 = (seeded.queue_dir(D) / "messages.csv").read_text()
    decide.run(seeded, D)
    pd.testing.assert_frame_equal(first, outbox(seeded))
    assert (seeded.queue_dir(D) / "messages.csv").read_text() == csv1
    with connect(seeded, read_only=True) as con:
        assert con.execute("select count(*) = count(distinct message_id) from queue.outbox").fetchone()[0]


def test_next_day_caps_and_series_read_the_outbox_history(seeded):
    decide.run(seeded, D)
    day1 = outbox(seeded)
    decide.run(seeded, "2026-11-21")
    day2 = outbox(seeded, "2026-11-21")
    # Win-back is once per person; the cart reminder's second step waits 24 h after the first.
    assert not set(day1[day1.campaign_id == "win_back"].customer_id) & set(
        day2[day2.campaign_id == "win_back"].customer_id
    )
    reminded = set(day1[day1.campaign_id == "abandoned_cart"].customer_id)
    carts = day2[(day2.campaign_id == "abandoned_cart") & day2.customer_id.isin(reminded)]
    assert len(carts) and carts.reason.str.contains("reminder 2 of at most 2").all()
    # Re-running day 1 afterwards does not change it (history is only of earlier dates).
    decide.run(seeded, D)
    pd.testing.assert_frame_equal(day1, outbox(seeded))


def test_text_columns_share_one_string_per_value_and_keep_their_values():
    con = duckdb.connect()
    con.execute(
        "create table t as select * from (values ('push', 'c1', 1), ('push', 'c2', 2), (null, 'c1', 3), ('email', 'c3', 4)) v(channel, customer_id, n)"
    )
    plain = con.execute("select * from t order by n").df()
    shared = io._shared_strings(con.execute("select * from t order by n").df())
    pd.testing.assert_frame_equal(shared, plain)  # values, nulls and dtypes unchanged
    channels, customers = shared["channel"].array, shared["customer_id"].array
    assert channels[0] is channels[1] and customers[0] is customers[2]  # one object per value
    assert plain["channel"].array[0] is not plain["channel"].array[1]  # DuckDB makes one per cell


def test_reads_in_chunks_share_strings_across_chunks_and_hour_lists_carry_nan(monkeypatch):
    monkeypatch.setattr(io, "CHUNK_VECTORS", 1)  # 2,048 rows a chunk: three chunks below
    con = duckdb.connect()
    con.execute("create schema ml")
    con.execute(
        "create table ml.s as select range as n, 'c' || (range % 7) as customer_id, "
        "case when range % 2 = 0 then [0.5::float, null, 0.25::float] end as p_by_hour from range(5000)"
    )
    df = io._read(con, "ml.s", ["n", "customer_id", "p_by_hour", "not_there"])
    assert list(df.columns) == ["n", "customer_id", "p_by_hour"] and list(df["n"]) == list(range(5000))
    ids = df["customer_id"].array
    assert ids[0] is ids[4998] and ids[4998] == "c0"  # first and third chunk: one object
    hours = df["p_by_hour"]
    assert pd.isna(hours[1])  # a null list stays null
    assert type(hours[0]) is np.ndarray and hours[0].dtype == np.float64  # not a masked array
    np.testing.assert_array_equal(hours[4998], [0.5, np.nan, 0.25])
