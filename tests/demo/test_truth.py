"""DemoTruth is the probability the simulation drew engagement with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rightsend.demo import DemoTruth
from rightsend.demo.__main__ import main


def test_peak_hour_and_channels(demo, read) -> None:
    _, truth = demo
    people = truth.people[truth.people["archetype"].isin(["champion", "loyal"])].head(20)
    for _, person in people.iterrows():
        sid = person["source_customer_id"]
        by_hour = [truth.true_engage_probability(sid, "email", h, 2) for h in range(24)]
        assert int(np.argmax(by_hour)) == person["peak_hour"]
        by_channel = {
            c: truth.true_engage_probability(sid, c, int(person["peak_hour"]), 2)
            for c in ("email", "sms", "push")
        }
        assert max(by_channel, key=by_channel.get) == person["preferred_channel"]
        assert len(set(by_channel.values())) == 3
    silent = truth.people[truth.people["archetype"] == "gone_silent"].iloc[0]
    assert (
        truth.true_engage_probability(silent["source_customer_id"], "email", int(silent["peak_hour"]), 2)
        < 0.02
    )
    assert np.isnan(truth.true_engage_probability("nobody", "email", 9, 0))


def test_truth_roundtrip(demo, tmp_path: Path) -> None:
    _, truth = demo
    truth.write(tmp_path / "t.csv")
    back = DemoTruth.read(tmp_path / "t.csv")
    frame = pd.DataFrame(
        {
            "source_customer_id": np.repeat(truth.people["source_customer_id"].to_numpy()[:50], 3),
            "channel": ["email", "sms", "push"] * 50,
            "local_hour": np.arange(150) % 24,
            "weekday": np.arange(150) % 7,
        }
    )
    assert np.array_equal(truth.true_p(frame), back.true_p(frame))
    assert {"timezone", "preferred_channel", "peak_hour", "archetype"} <= set(back.people.columns)


def test_observed_email_engagement_matches_truth(demo, read) -> None:
    root, truth = demo
    email = read(root, "email").drop_duplicates("sg_event_id")
    email = email[pd.to_numeric(email["timestamp"], errors="coerce").notna()]
    sends = email[email["event"] == "delivered"][["email", "timestamp", "sg_message_id"]]
    machine = email["sg_machine_open"].eq(True)
    human = email[(email["event"] == "click") | ((email["event"] == "open") & ~machine)]
    sends = sends.assign(engaged=sends["sg_message_id"].isin(set(human["sg_message_id"])))
    ppl = truth.people.set_index("email")
    sends = sends[sends["email"].isin(ppl.index)]
    ts = pd.to_datetime(sends["timestamp"].astype("int64"), unit="s", utc=True)
    tz = ppl.loc[sends["email"], "timezone"].to_numpy()
    local = [t.tz_convert(z) for t, z in zip(ts, tz, strict=True)]
    frame = pd.DataFrame(
        {
            "source_customer_id": ppl.loc[sends["email"], "source_customer_id"].to_numpy(),
            "channel": "email",
            "local_hour": [t.hour for t in local],
            "weekday": [t.weekday() for t in local],
        }
    )
    days = [t.date().isoformat() for t in local]
    p = np.array([truth.true_p(frame.iloc[[i]], on=d)[0] for i, d in enumerate(days)])
    observed = sends["engaged"].sum()
    # Delivery is seconds after the send, so the send's hour and day are the delivery's.
    assert abs(observed - p.sum()) < 4 * np.sqrt(p.sum()) + 10
    hi = p > np.quantile(p, 0.75)
    lo = p < np.quantile(p, 0.25)
    assert sends["engaged"].to_numpy()[hi].mean() > 2 * sends["engaged"].to_numpy()[lo].mean()


def test_cli(tmp_path: Path, capsys) -> None:
    assert (
        main(
            [
                "--customers",
                "40",
                "--days",
                "8",
                "--landing",
                str(tmp_path / "l"),
                "--truth",
                str(tmp_path / "t.csv"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "customers" in out and "rows" in out
    assert DemoTruth.read(tmp_path / "t.csv").people.shape[0] == 40
    assert main(["--if-empty", "--landing", str(tmp_path / "l")]) == 0
