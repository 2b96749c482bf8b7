"""A warehouse with a decided outbox for day D, and a transport wrapper that crashes."""

from __future__ import annotations

import pandas as pd
import pytest

from rightsend import decide
from rightsend.decide import samples as s
from rightsend.dispatch.transports import Outcome, Transport
from rightsend.warehouse import connect

D = "2026-11-20"


class Crash(RuntimeError):
    pass


class CrashingTransport:
    """Publishes the first ``after`` messages through ``inner``, then dies - after the broker
    took them but before dispatch could record them (the worst moment)."""

    def __init__(self, inner: Transport, after: int):
        self.inner, self.left, self.name = inner, after, inner.name

    def publish(self, batch):  # noqa: ANN001
        if self.left <= 0:
            raise Crash("crashed before publishing")
        part = list(batch[: self.left])
        outcomes: list[Outcome] = self.inner.publish(part)
        self.left -= len(part)
        if len(part) < len(batch) or self.left == 0:
            raise Crash(f"crashed after publishing {len(part)} of a batch of {len(batch)}")
        return outcomes

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def decided(settings):
    """~40 people, every one reachable: the outbox for D holds queued and held-out rows."""
    people = [s.customer(f"c{i:02d}", lifecycle_state=["active", "silent"][i % 2]) for i in range(40)]
    inp = s.inputs(D, people, scores=[s.score(p["customer_id"], "email") for p in people])
    with connect(settings) as con:
        s.seed_warehouse(con, inp)
    result = decide.run(settings, D)
    assert result["queued"] >= 30 and result["held_out"] >= 1
    return settings


def queued_ids(settings) -> list[str]:
    with connect(settings, read_only=True) as con:
        return [
            r[0]
            for r in con.execute(
                "select message_id from queue.outbox where queue_date = ? and not is_holdout", [D]
            ).fetchall()
        ]


def logged_ids(settings) -> list[str]:
    with connect(settings, read_only=True) as con:
        return [r[0] for r in con.execute("select message_id from queue.dispatch_log").fetchall()]


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)
