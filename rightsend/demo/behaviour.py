"""The engagement model of the simulation: the single function both the simulation and
``DemoTruth`` call, so the truth is exactly the probability that drew the events.

p(person, channel, local hour h, weekday w, day d) =
    min(P_MAX, base * activity(d) * affinity[channel] * hour_factor(h) * weekday_factor(w))

It is the probability that a message sent at local hour h is engaged with (email: human open
or click; sms: link click; push: open).
"""

from __future__ import annotations

import numpy as np

CHANNELS = ("email", "sms", "push")
ARCHETYPES = ("champion", "loyal", "new", "at_risk", "gone_silent", "never_engaged")
CHAMPION, LOYAL, NEW, AT_RISK, GONE_SILENT, NEVER = range(6)

P_MAX = 0.95
HOUR_FLOOR = 0.12  # off-peak hours still engage a little
SILENT_ACTIVITY = 0.01  # gone-silent people after they went quiet
DECLINE_DAYS = 60  # at-risk people fade linearly over this many days
DECLINE_FLOOR = 0.2
NO_DAY = 10**9  # "never" for silent/decline days


def hour_factor(local_hour: np.ndarray, peak: np.ndarray, width: np.ndarray) -> np.ndarray:
    d = np.abs(np.asarray(local_hour, dtype=float) - peak)
    d = np.minimum(d, 24 - d)
    return HOUR_FLOOR + (1 - HOUR_FLOOR) * np.exp(-0.5 * (d / width) ** 2)


def weekday_factor(weekday: np.ndarray, lift: np.ndarray) -> np.ndarray:
    # Mean over the week stays ~1: weekends get 1+lift, the 5 weekdays give back 2/5 of it.
    weekend = np.asarray(weekday) >= 5
    return np.where(weekend, 1 + lift, 1 - lift * 2 / 5)


def activity(day: np.ndarray, silent_day: np.ndarray, decline_day: np.ndarray) -> np.ndarray:
    """How engaged the person still is on absolute epoch `day` (1 = as ever)."""
    day = np.asarray(day)
    fading = np.clip(1 - (day - decline_day) / DECLINE_DAYS, DECLINE_FLOOR, 1.0)
    act = np.where(day > decline_day, fading, 1.0)
    return np.where(day >= silent_day, SILENT_ACTIVITY, act)


def engage_probability(
    base: np.ndarray,
    affinity: np.ndarray,
    peak: np.ndarray,
    width: np.ndarray,
    lift: np.ndarray,
    silent_day: np.ndarray,
    decline_day: np.ndarray,
    local_hour: np.ndarray,
    weekday: np.ndarray,
    day: np.ndarray | int,
) -> np.ndarray:
    """Vectorised p; `affinity` is the person's affinity for the row's channel."""
    p = (
        base
        * activity(day, silent_day, decline_day)
        * affinity
        * hour_factor(local_hour, peak, width)
        * weekday_factor(weekday, lift)
    )
    return np.minimum(p, P_MAX)
