"""Normalise values at the edge: UTC timestamps, emails, E.164 phones, numbers, flags.

Every function takes the raw value as the vendor sent it and either returns the
normalised value (None for blank) or raises ``Reject`` with a categorical reason, which
the loader turns into a quarantine row. The reason names the field, never the value, so
reasons can be counted; the offending value goes into the quarantine row's detail.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import phonenumbers

DEFAULT_COUNTRY_ENV = "RIGHTSEND_DEFAULT_COUNTRY"
_EPOCH = datetime(1970, 1, 1)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TRUE = frozenset({"true", "yes", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "n", "f", "0"})
_MAX_AMOUNT = 1e15  # decimal(18, 2) holds 16 integer digits


class Reject(Exception):  # noqa: N818 - a verdict on a row, not a program error
    """A row breaks the contract: quarantine it with ``reason`` (categorical) and ``detail``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def default_region() -> str:
    return os.environ.get(DEFAULT_COUNTRY_ENV, "US").strip().upper() or "US"


def text(value: Any) -> str | None:
    """A field as trimmed text; blank and null become None, JSON values are kept as JSON."""
    if value.__class__ is str:  # the hot path: most fields are plain text
        value = value.strip()
        return value or None
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def require(value: Any, field: str) -> str:
    out = text(value)
    if out is None:
        raise Reject(f"missing required field {field}")
    return out


def email(value: Any) -> str | None:
    out = text(value)
    return out.lower() if out else None


def timestamp(value: Any, field: str) -> datetime | None:
    """ISO 8601 (offset or Z; naive is taken as UTC), Shopify ``2026-11-21 14:03:11 +0100``
    or RFC 2822 (Twilio) -> naive UTC datetime."""
    s = text(value)
    if s is None:
        return None
    try:
        parsed = datetime.fromisoformat(s)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            raise Reject(f"bad timestamp in {field}", f"{field}={s!r}") from None
    if parsed.tzinfo is not None:
        # "Z" (the usual case) needs no conversion, only dropping the zone
        parsed = (parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)).replace(tzinfo=None)
    return parsed


def unix_timestamp(value: Any, field: str) -> datetime | None:
    """SendGrid's unix seconds (number or numeric string) -> naive UTC datetime."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        seconds = float(value)
        if not math.isfinite(seconds):
            raise ValueError
        return _EPOCH + timedelta(seconds=seconds)
    except (TypeError, ValueError, OverflowError):
        raise Reject(f"bad timestamp in {field}", f"{field}={value!r}") from None


@lru_cache(maxsize=65_536)  # prices repeat (a catalog's worth): check each text once
def _amount_problem(s: str, allow_negative: bool) -> str | None:
    if not _NUMBER.fullmatch(s) or abs(float(s)) >= _MAX_AMOUNT:
        return "bad number"
    if not allow_negative and s.startswith("-") and float(s) != 0:
        return "negative amount"
    return None


def amount(value: Any, field: str, allow_negative: bool = False) -> str | None:
    """A money amount, validated here and passed on as text so DuckDB casts it exactly."""
    s = text(value)
    if s is None:
        return None
    problem = _amount_problem(s, allow_negative)
    if problem:
        raise Reject(f"{problem} in {field}", f"{field}={s!r}")
    return s


def integer(value: Any, field: str, allow_negative: bool = True) -> int | None:
    s = text(value)
    if s is None:
        return None
    if not _NUMBER.fullmatch(s) or not float(s).is_integer() or abs(float(s)) >= 2**31:
        raise Reject(f"bad integer in {field}", f"{field}={s!r}")
    out = int(float(s))
    if out < 0 and not allow_negative:
        raise Reject(f"negative amount in {field}", f"{field}={s!r}")
    return out


def boolean(value: Any, field: str) -> bool | None:
    if isinstance(value, bool):
        return value
    s = text(value)
    if s is None:
        return None
    low = s.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise Reject(f"bad boolean in {field}", f"{field}={s!r}")


def one_of(value: Any, allowed: frozenset[str], field: str, reason: str) -> str:
    """A required categorical field; values are compared lower-cased."""
    s = text(value)
    if s is None:
        raise Reject(f"missing required field {field}")
    low = s.lower()
    if low not in allowed:
        raise Reject(reason, f"{field}={s!r}")
    return low


# Parsing a phone costs ~100 us (phonenumbers is pure Python) and every customer's number comes
# back in each profile export and order: room for a million numbers (~235 B each, per process).
@lru_cache(maxsize=1_000_000)
def _e164(raw: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone(value: Any, region: str | None = None) -> str | None:
    """E.164, or None when the value is not a possible phone number.

    International forms (``+44 ...``) parse on their own; national forms need ``region``
    (customers: Default Address Country Code; elsewhere RIGHTSEND_DEFAULT_COUNTRY)."""
    s = text(value)
    if s is None:
        return None
    if s.startswith(("+", "00")):
        out = _e164(s if s.startswith("+") else "+" + s[2:], None)
        if out:
            return out
    return _e164(s, (region or default_region()).upper())
