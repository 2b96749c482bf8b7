"""Calendar, time zones and vectorised timestamp formatting for the demo simulation.

All simulation times are int64 UTC unix seconds; days are absolute epoch days. Local wall
time is converted with per-zone offset tables (built once with zoneinfo), so DST is exact
and nothing per-row goes through Python datetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

DAY = 86_400
HOUR = 3_600
MONTHS = np.array(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])
WEEKDAYS = np.array(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
# The shop's own zone: Shopify exports print times in it.
SHOP_TZ = "America/New_York"
PAD_DAYS = 3


@dataclass
class Calendar:
    """The simulated window [start_day, end_day] and offset tables for a list of zones."""

    end: date
    days: int
    zones: list[str]
    start_day: int = field(init=False)
    end_day: int = field(init=False)
    _local_off: np.ndarray = field(init=False, repr=False)  # [zone, local hour index] -> seconds
    _utc_off: np.ndarray = field(init=False, repr=False)  # [zone, utc hour index] -> seconds

    def __post_init__(self) -> None:
        self.end_day = (self.end - date(1970, 1, 1)).days
        self.start_day = self.end_day - self.days + 1
        self._base_hour = (self.start_day - PAD_DAYS) * 24
        n_hours = (self.days + 2 * PAD_DAYS) * 24
        self._local_off = np.zeros((len(self.zones), n_hours), dtype=np.int64)
        self._utc_off = np.zeros((len(self.zones), n_hours), dtype=np.int64)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        for z, name in enumerate(self.zones):
            tz = ZoneInfo(name)
            for k in range(n_hours):
                moment = epoch + timedelta(hours=self._base_hour + k)
                self._utc_off[z, k] = int(moment.astimezone(tz).utcoffset().total_seconds())
                wall = moment.replace(tzinfo=tz)  # the same digits read as local wall time
                self._local_off[z, k] = int(wall.utcoffset().total_seconds())
        self.shop_zone = self.zone_index(SHOP_TZ)

    def zone_index(self, name: str) -> int:
        return self.zones.index(name)

    @property
    def day_range(self) -> np.ndarray:
        return np.arange(self.start_day, self.end_day + 1)

    def local_to_utc(self, zone: np.ndarray, local_sec: np.ndarray) -> np.ndarray:
        """Local wall-clock seconds (as if UTC) -> true UTC seconds for each row's zone."""
        k = np.clip(local_sec // HOUR - self._base_hour, 0, self._local_off.shape[1] - 1)
        return local_sec - self._local_off[zone, k]

    def offset_at(self, zone: np.ndarray | int, utc_sec: np.ndarray) -> np.ndarray:
        k = np.clip(utc_sec // HOUR - self._base_hour, 0, self._utc_off.shape[1] - 1)
        return self._utc_off[zone, k]

    def local_parts(self, zone: np.ndarray, utc_sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(local hour 0-23, local weekday 0=Mon) of UTC instants in each row's zone."""
        local = utc_sec + self.offset_at(zone, utc_sec)
        return (local // HOUR) % 24, ((local // DAY) + 3) % 7


def day_to_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


def dt_name(day: int) -> str:
    return f"dt={day_to_date(day).isoformat()}"


def _base(sec: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DDTHH:MM:SS' strings (fast C path)."""
    return np.datetime_as_string(np.asarray(sec, dtype="datetime64[s]"), unit="s")


def _offset_text(off: np.ndarray, colon: bool) -> np.ndarray:
    sign = np.where(off < 0, "-", "+")
    a = np.abs(off)
    hh = np.strings.zfill((a // HOUR).astype(str), 2)
    mm = np.strings.zfill(((a % HOUR) // 60).astype(str), 2)
    return np.strings.add(np.strings.add(sign, hh), np.strings.add(":" if colon else "", mm))


def iso_z(sec: np.ndarray) -> np.ndarray:
    return np.strings.add(_base(sec), "Z")


def iso_local(cal: Calendar, zone: np.ndarray | int, sec: np.ndarray) -> np.ndarray:
    """ISO 8601 with the zone's offset, e.g. 2026-11-20T19:03:11-05:00."""
    off = cal.offset_at(zone, sec)
    return np.strings.add(_base(sec + off), _offset_text(off, colon=True))


def shopify(cal: Calendar, sec: np.ndarray) -> np.ndarray:
    """Shopify export form in the shop's zone: 2026-11-21 14:03:11 -0500."""
    off = cal.offset_at(cal.shop_zone, sec)
    text = np.strings.replace(_base(sec + off), "T", " ")
    return np.strings.add(np.strings.add(text, " "), _offset_text(off, colon=False))


def rfc2822(sec: np.ndarray) -> np.ndarray:
    """Twilio's form: Sat, 21 Nov 2026 14:03:11 +0000."""
    sec = np.asarray(sec, dtype=np.int64)
    base = _base(sec)
    wd = WEEKDAYS[((sec // DAY) + 3) % 7]
    mon = MONTHS[np.strings.slice(base, 5, 7).astype(int) - 1]
    parts = [
        wd,
        ", ",
        np.strings.slice(base, 8, 10),
        " ",
        mon,
        " ",
        np.strings.slice(base, 0, 4),
        " ",
        np.strings.slice(base, 11, 19),
        " +0000",
    ]
    out = parts[0]
    for p in parts[1:]:
        out = np.strings.add(out, p)
    return out
