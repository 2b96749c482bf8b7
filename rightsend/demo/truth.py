"""The simulation's ground truth: who each person is and the engagement probability used."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from rightsend.demo import behaviour as bh
from rightsend.demo.clock import day_to_date, iso_z
from rightsend.demo.population import Population

_EPOCH = date(1970, 1, 1)


def _day_text(days: np.ndarray) -> np.ndarray:
    return np.array(["" if d >= bh.NO_DAY else day_to_date(d).isoformat() for d in days], dtype=object)


def _text_day(values: pd.Series) -> np.ndarray:
    return np.array(
        [bh.NO_DAY if not v else (date.fromisoformat(v) - _EPOCH).days for v in values], dtype=np.int64
    )


def people_frame(pop: Population, zones: list[str], erased: np.ndarray, end_date: str) -> pd.DataFrame:
    tz = np.array(zones)
    return pd.DataFrame(
        {
            "source_customer_id": pop.cust_id.astype(str),
            "email": pop.email,
            "phone": pop.phone,
            "country_code": pop.country,
            "province_code": pop.province,
            "region_timezone": tz[pop.region_zone],
            "timezone": tz[pop.zone],
            "archetype": np.array(bh.ARCHETYPES)[pop.archetype],
            "preferred_channel": np.array(bh.CHANNELS)[pop.preferred],
            "peak_hour": pop.peak_hour,
            "peak_width": pop.peak_width,
            "weekend_lift": pop.weekend_lift,
            "base_propensity": pop.base,
            "affinity_email": pop.affinity[:, 0],
            "affinity_sms": pop.affinity[:, 1],
            "affinity_push": pop.affinity[:, 2],
            "silent_since": _day_text(pop.silent_day),
            "decline_from": _day_text(pop.decline_day),
            "created_at": iso_z(pop.created_sec),
            "has_app": pop.has_app,
            "apple_proxy": pop.apple_proxy,
            "erased": erased,
            "as_of": end_date,
        }
    )


@dataclass
class DemoTruth:
    """Ground truth. `people` has one row per Shopify customer (see `people_frame`).

    p is "the probability that a message on `channel` sent at `local_hour` on `weekday`
    (0 = Monday) is engaged with", as the simulation drew it; by default as of end_date (what a
    send on the next day would face), or on another day with `on`.
    """

    people: pd.DataFrame
    stats: dict = field(default_factory=dict)  # rows/files per source and seconds, not persisted

    def __post_init__(self) -> None:
        self._index = pd.Index(self.people["source_customer_id"].astype(str))
        self._silent = _text_day(self.people["silent_since"].fillna(""))
        self._decline = _text_day(self.people["decline_from"].fillna(""))
        aff = self.people[["affinity_email", "affinity_sms", "affinity_push"]].to_numpy(dtype=float)
        self._affinity = aff

    @property
    def end_date(self) -> str:
        return str(self.people["as_of"].iloc[0]) if len(self.people) else ""

    def true_p(self, frame: pd.DataFrame, on: str | None = None) -> np.ndarray:
        """Vectorised p for columns source_customer_id, channel, local_hour, weekday (NaN if unknown)."""
        pos = self._index.get_indexer(frame["source_customer_id"].astype(str))
        chan = pd.Index(bh.CHANNELS).get_indexer(frame["channel"])
        ok = (pos >= 0) & (chan >= 0)
        i, c = np.where(ok, pos, 0), np.where(ok, chan, 0)
        day = (date.fromisoformat(on or self.end_date) - _EPOCH).days
        ppl = self.people
        p = bh.engage_probability(
            ppl["base_propensity"].to_numpy(dtype=float)[i],
            self._affinity[i, c],
            ppl["peak_hour"].to_numpy(dtype=float)[i],
            ppl["peak_width"].to_numpy(dtype=float)[i],
            ppl["weekend_lift"].to_numpy(dtype=float)[i],
            self._silent[i],
            self._decline[i],
            frame["local_hour"].to_numpy(),
            frame["weekday"].to_numpy(),
            day,
        )
        return np.where(ok, p, np.nan)

    def true_engage_probability(
        self, source_customer_id: str, channel: str, local_hour: int, weekday: int, on: str | None = None
    ) -> float:
        row = pd.DataFrame(
            {
                "source_customer_id": [source_customer_id],
                "channel": [channel],
                "local_hour": [local_hour],
                "weekday": [weekday],
            }
        )
        return float(self.true_p(row, on)[0])

    def write(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.people.to_csv(path, index=False, lineterminator="\n")

    @classmethod
    def read(cls, path: Path) -> DemoTruth:
        people = pd.read_csv(
            path,
            dtype={
                "source_customer_id": str,
                "email": str,
                "phone": str,
                "province_code": str,
                "silent_since": str,
                "decline_from": str,
            },
            keep_default_na=False,
        )
        return cls(people)
