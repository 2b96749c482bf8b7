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


def local_days(history: pd.DataFrame) -> pd.Series:
    """Each queued message's local calendar day (of send_at_local, 'YYYY-MM-DDTHH:MM:SS+hh:mm')
    where known, else its UTC day, as datetime64 midnights: parsed column-wise, not row by row."""
    local = history["send_at_local"]
    known = local.map(lambda v: isinstance(v, str) and v != "").astype(bool)
    text = local.where(known)
    if not known.all():  # the UTC time as text only where needed (rare; to text, it is slow)
        text = text.fillna(history.loc[~known, "send_at_utc"].astype(str))
    return pd.to_datetime(text.astype(str).str[:10], format="%Y-%m-%d")


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
        tag_sets: dict[str, frozenset[str]] = {}
        columns = ("customer_id", "campaign_id", "channel", "tags", "counts_toward_caps")
        for (cid, campaign_id, channel, tags, counts), day in zip(
            zip(*(history[c] for c in columns), strict=True), local_days(history).dt.date, strict=True
        ):
            known = campaigns.get(campaign_id)
            if not (isinstance(tags, str) and tags):
                tags = ",".join(known.tags) if known else "promotional"
            if counts is None or pd.isna(counts):
                counts = known.counts if known else True
            if tags not in tag_sets:
                tag_sets[tags] = frozenset(tags.split(","))
            self.sent[cid].append(Sent(day, channel, tag_sets[tags], bool(counts)))

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
