"""When: allowed local hours on day D+1 (DST-correct via zoneinfo), the model's best hour
moved to the nearest allowed one, trigger times, and per-minute channel throughput."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rightsend.decide.rules import Rules

UTC = dt.UTC


@lru_cache(maxsize=4096)
def zone(name: object, default: str = "UTC") -> ZoneInfo:
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else ZoneInfo(default)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo(default)


def local_to_utc(day: dt.date, hour: int, tz: ZoneInfo) -> dt.datetime:
    """Local wall time ``day hour:00`` as UTC (hour 24 = next midnight). In a DST gap the
    instant is the one just after the gap; in a repeated hour, the first occurrence."""
    if hour >= 24:
        day, hour = day + dt.timedelta(days=1), hour - 24
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """Where a message may go out: [start_utc, end_utc) within local hours on the send day."""

    tz: ZoneInfo
    start_hour: int
    end_hour: int
    start_utc: dt.datetime  # already no earlier than "now"
    end_utc: dt.datetime

    def hours(self, send_day: dt.date) -> list[int]:
        """Local hours whose top-of-hour exists on the send day and is not yet past."""
        return list(_hours(self, send_day))


@lru_cache(maxsize=4096)
def _hours(window: Window, send_day: dt.date) -> tuple[int, ...]:
    # a window serves every person in its time zone: worked out once per day, not per message
    out = []
    for h in range(window.start_hour, window.end_hour):
        at = local_to_utc(send_day, h, window.tz)
        real = at.astimezone(window.tz)
        if real.date() != send_day or real.hour != h:
            continue  # hour skipped by a DST jump
        if at + dt.timedelta(hours=1) > window.start_utc:
            out.append(h)
    return tuple(out)


def allowed_hours(
    rules: Rules, channel: str, country: str | None, send_day: dt.date
) -> tuple[int, int] | str:
    """Local hours for a channel/country on the send day, or why there are none."""
    hours = rules.hours_for(channel)
    start, end = (
        max(hours.start_hour, rules.send_window.start_hour),
        min(hours.end_hour, rules.send_window.end_hour),
    )
    if channel == "sms" and isinstance(country, str) and country.upper() in rules.sms_country_rules:
        rule = rules.sms_country_rules[country.upper()]
        if send_day.weekday() in rule.blocked_weekdays:
            return f"no SMS on {send_day:%A}s in {country.upper()}"
        start = max(start, rule.start_hour if rule.start_hour is not None else start)
        end = min(end, rule.end_hour if rule.end_hour is not None else end)
    if end <= start:
        return f"no allowed {channel} hours"
    return start, end


def make_window(
    send_day: dt.date, tz: ZoneInfo, start_hour: int, end_hour: int, now: dt.datetime
) -> Window | None:
    start = max(local_to_utc(send_day, start_hour, tz), now)
    end = local_to_utc(send_day, end_hour, tz)
    if start >= end:
        return None
    return Window(tz, start_hour, end_hour, start, end)


def model_hour(
    window: Window,
    send_day: dt.date,
    best_hour: int | None,
    p_by_hour: Sequence[float | None] | None,
    default_hour: int,
) -> tuple[int, str] | None:
    """The model's best hour if allowed, else the nearest allowed hour (ties: higher p, earlier)."""
    hours = window.hours(send_day)
    if not hours:
        return None
    p = list(p_by_hour) if p_by_hour is not None else [None] * 24

    def score(h: int) -> float:
        v = p[h] if h < len(p) else None
        return -1.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    source = "the model's best hour"
    if best_hour is None and any(score(h) >= 0 for h in range(24)):
        best_hour = max(range(24), key=lambda h: (score(h), -h))
    if best_hour is None:
        best_hour, source = default_hour, "the default hour (no model score)"
    if best_hour in hours:
        return best_hour, f"{source} {best_hour:02d}:00"
    chosen = min(hours, key=lambda h: (abs(h - best_hour), -score(h), h))
    return chosen, f"{source} {best_hour:02d}:00 is quiet or already past, moved to the nearest allowed hour"


def hour_start(window: Window, send_day: dt.date, hour: int) -> dt.datetime:
    return max(local_to_utc(send_day, hour, window.tz), window.start_utc)


def trigger_time(window: Window, due_utc: dt.datetime) -> dt.datetime | None:
    """The trigger's due time, moved into the window; None when it falls after the window."""
    at = max(due_utc, window.start_utc)
    at = ceil_minute(at)
    return at if at < window.end_utc else None


def ceil_minute(at: dt.datetime) -> dt.datetime:
    floored = at.replace(second=0, microsecond=0)
    return floored if floored == at else floored + dt.timedelta(minutes=1)


class Throughput:
    """Per-channel sends per minute: a message takes the first minute with room at or after
    its wanted minute inside its window, else the latest earlier one; None when full."""

    def __init__(self, per_minute: dict[str, int]):
        self.limits = per_minute
        self.used: dict[tuple[str, int], int] = defaultdict(int)
        self.skip: dict[tuple[str, int], int] = {}  # full minute -> a later minute to try

    def _next_free(self, channel: str, minute: int) -> int:
        path = []
        while (channel, minute) in self.skip:
            path.append(minute)
            minute = self.skip[(channel, minute)]
        for m in path:  # path compression: later searches jump straight here
            self.skip[(channel, m)] = minute
        return minute

    def take(self, channel: str, want: dt.datetime, window: Window) -> dt.datetime | None:
        limit = self.limits.get(channel)
        if not limit:
            return want
        lo = math.ceil(window.start_utc.timestamp() / 60)
        hi = math.ceil(window.end_utc.timestamp() / 60)  # exclusive
        wanted = int(want.timestamp() // 60)
        minute: int | None = self._next_free(channel, wanted)
        if minute >= hi:
            minute = next((m for m in range(wanted - 1, lo - 1, -1) if self.used[(channel, m)] < limit), None)
        if minute is None:
            return None
        self.used[(channel, minute)] += 1
        if self.used[(channel, minute)] >= limit:
            self.skip[(channel, minute)] = minute + 1
        return dt.datetime.fromtimestamp(minute * 60, UTC)
