"""Mutable simulation state shared by the channel, commerce and web simulators.

Consent and order totals change at event times; those changes are logged per UTC day and
applied when that day is finalised, so a customers snapshot for dt=D states the flags and
totals as of the end of D (the contract's meaning), while campaigns react with the lag a real
ESP sync has.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from rightsend.demo.clock import DAY, Calendar
from rightsend.demo.landing import Landing
from rightsend.demo.population import Population

# change kinds
EMAIL_OK, SMS_OK, PUSH_OK, ORDER_COUNT, ORDER_CENTS = range(5)


@dataclass
class World:
    cal: Calendar
    pop: Population
    landing: Landing
    seed: int
    email_ok: np.ndarray = field(init=False)
    sms_ok: np.ndarray = field(init=False)
    push_ok: np.ndarray = field(init=False)
    hard_bounced: np.ndarray = field(init=False)
    erased: np.ndarray = field(init=False)
    total_orders: np.ndarray = field(init=False)
    total_spent: np.ndarray = field(init=False)
    device_token: np.ndarray = field(init=False)
    device_active: np.ndarray = field(init=False)
    order_counter: int = 0

    def __post_init__(self) -> None:
        p = self.pop
        self.email_ok = p.accepts_email.copy()
        self.sms_ok = p.accepts_sms.copy()
        self.push_ok = np.ones(p.n, dtype=bool)
        self.hard_bounced = np.zeros(p.n, dtype=bool)
        self.erased = np.zeros(p.n, dtype=bool)
        self.total_orders = p.prior_orders.astype(np.int64).copy()
        self.total_spent = np.round(p.prior_spent * 100).astype(np.int64)  # cents
        self.device_token = np.full(p.n, "", dtype=object)
        self.device_active = np.zeros(p.n, dtype=bool)
        self._changes: dict[int, list[tuple[np.ndarray, int, np.ndarray, np.ndarray]]] = defaultdict(list)
        self._dirty: dict[int, list[np.ndarray]] = defaultdict(list)
        self._conversions: dict[int, list[tuple[np.ndarray, np.ndarray, int]]] = defaultdict(list)

    def rng(self, *key: int) -> np.random.Generator:
        """An independent stream per (purpose, day): adding a source never shifts another."""
        return np.random.default_rng([self.seed, *key])

    def alive(self, day: int) -> np.ndarray:
        """Customers that exist (created by the start of `day`) and are not erased."""
        return (self.pop.created_sec < day * DAY) & ~self.erased

    def change(self, kind: int, idx: np.ndarray, ts: np.ndarray, value: np.ndarray | int | bool) -> None:
        idx = np.asarray(idx)
        if not len(idx):
            return
        ts = np.asarray(ts, dtype=np.int64)
        value = np.broadcast_to(np.asarray(value), idx.shape)
        for day in np.unique(ts // DAY):
            m = ts // DAY == day
            self._changes[int(day)].append((ts[m], kind, idx[m], value[m]))
            self._dirty[int(day)].append(idx[m])

    def note_engagement(self, idx: np.ndarray, ts: np.ndarray, channel: int) -> None:
        """Some engagements turn into an order within 3 days (campaign attribution)."""
        if not len(idx):
            return
        rng = self.rng(77, int(ts.min()) % 1_000_003, len(idx), channel)
        buy = rng.random(len(idx)) < 0.06
        when = ts[buy] + rng.integers(300, 3 * DAY, int(buy.sum()))
        for day in np.unique(when // DAY):
            m = when // DAY == day
            self._conversions[int(day)].append((idx[buy][m], when[m], channel))

    def take_conversions(self, upto_day: int) -> tuple[np.ndarray, np.ndarray]:
        """Pending conversion orders (person, UTC time) due by the end of `upto_day`."""
        got = [c for d in sorted(self._conversions) if d <= upto_day for c in self._conversions.pop(d)]
        if not got:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
        return np.concatenate([g[0] for g in got]), np.concatenate([g[1] for g in got])

    def mark_dirty(self, day: int, idx: np.ndarray) -> None:
        self._dirty[day].append(np.asarray(idx))

    def finalise(self, day: int) -> np.ndarray:
        """Apply the changes of UTC `day`, return the customers touched that day."""
        changes = self._changes.pop(day, [])
        for kind in (EMAIL_OK, SMS_OK, PUSH_OK, ORDER_COUNT, ORDER_CENTS):
            mine = [c for c in changes if c[1] == kind]
            if not mine:
                continue
            ts = np.concatenate([c[0] for c in mine])
            idx = np.concatenate([c[2] for c in mine])
            value = np.concatenate([c[3] for c in mine])
            if kind == ORDER_COUNT:
                np.add.at(self.total_orders, idx, value.astype(np.int64))
            elif kind == ORDER_CENTS:
                np.add.at(self.total_spent, idx, value.astype(np.int64))
            else:  # the latest change per person wins
                rev = np.argsort(ts, kind="stable")[::-1]
                _, first = np.unique(idx[rev], return_index=True)
                keep = rev[first]
                target = {EMAIL_OK: self.email_ok, SMS_OK: self.sms_ok, PUSH_OK: self.push_ok}[kind]
                target[idx[keep]] = value[keep].astype(bool)
        dirty = self._dirty.pop(day, [])
        return np.unique(np.concatenate(dirty)) if dirty else np.array([], dtype=np.int64)
