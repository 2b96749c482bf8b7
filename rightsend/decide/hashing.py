"""Deterministic ids and draws: the same inputs give the same message id, holdout and variant."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def digest(*parts: object) -> str:
    return hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


def unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from the parts."""
    return int(digest(*parts)[:15], 16) / 16**15


def message_id(run_date: str, campaign_id: str, customer_id: str, channel: str) -> str:
    return digest("message", run_date, campaign_id, customer_id, channel)[:32]


def is_holdout(campaign_id: str, customer_id: str, share: float) -> bool:
    # Per campaign, not per day: a person stays in (or out of) a campaign's control group,
    # so reminders and series stay consistent and lift can be measured over time.
    return unit("holdout", campaign_id, customer_id) < share


def pick_variant(campaign_id: str, customer_id: str, variants: Sequence[tuple[str, float]]) -> str:
    draw = unit("variant", campaign_id, customer_id)  # independent of the holdout draw
    cumulative = 0.0
    for name, split in variants:
        cumulative += split
        if draw < cumulative:
            return name
    return variants[-1][0]
