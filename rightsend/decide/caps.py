"""Frequency caps: every matching rule applies, the most restrictive wins.

Counts what the person was queued on earlier days (queue.outbox history, holdout rows
included - a control person's slot is used as if treated, so the control group never gets
a different message instead) plus what was accepted earlier in this run.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from rightsend.decide.campaigns import Campaign
from rightsend.decide.rules import Cap, Rules


@dataclass(frozen=True)
class Sent:
    local_day: dt.date
    channel: str
    tags: frozenset[str]
    counts: bool


class CapBook:
    def __init__(
        self, rules: Rules, history: pd.DataFrame, campaigns: dict[str, Campaign], saturated: dict[str, str]
    ):
        self.rules = rules
        self.saturated = saturated
        self.sent: dict[str, list[Sent]] = defaultdict(list)
        for r in history.itertuples():
            known = campaigns.get(r.campaign_id)
            tags = (
                r.tags
                if isinstance(r.tags, str) and r.tags
                else (",".join(known.tags) if known else "promotional")
            )
            counts = r.counts_toward_caps
            if counts is None or pd.isna(counts):
                counts = known.counts if known else True
            local = str(r.send_at_local)[:10] if isinstance(r.send_at_local, str) else None
            day = dt.date.fromisoformat(local) if local else r.send_at_utc.date()
            self.sent[r.customer_id].append(Sent(day, r.channel, frozenset(tags.split(",")), bool(counts)))

    def _applies(self, cap: Cap, tags: frozenset[str], channel: str) -> bool:
        return bool(tags & set(cap.tags)) and (cap.channels is None or channel in cap.channels)

    def blocked(
        self, customer_id: str, campaign: Campaign, channel: str, day: dt.date
    ) -> tuple[str, str] | None:
        """(rule, detail) of the first cap this message would break, or None."""
        if campaign.overrides_caps:
            return None
        tags = frozenset(campaign.tags)
        sat = self.saturated.get(customer_id)
        for cap in self.rules.caps:
            if not self._applies(cap, tags, channel):
                continue
            first = day - dt.timedelta(days=cap.days - 1)
            used = sum(
                1
                for s in self.sent[customer_id]
                if s.counts and first <= s.local_day <= day and self._applies(cap, s.tags, s.channel)
            )
            limit = cap.max
            tight = self.rules.saturation.tightened_caps.get(cap.name) if sat else None
            if tight is not None and tight < limit and used >= tight:
                return f"saturation_cap:{cap.name}", f"{used} sent, saturated limit {tight} ({sat})"
            if used >= limit:
                return (
                    f"frequency_cap:{cap.name}",
                    f"{used} of {limit} in {cap.days} local day(s) already used",
                )
        return None

    def add(self, customer_id: str, campaign: Campaign, channel: str, day: dt.date) -> None:
        self.sent[customer_id].append(Sent(day, channel, frozenset(campaign.tags), campaign.counts))
