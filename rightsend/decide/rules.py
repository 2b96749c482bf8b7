"""Decision rules from include/config/rules.yaml (``send_window`` + the ``decide`` section).

Validated on load so a typo in a cap fails the run loudly instead of silently sending more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rightsend.config import INCLUDE_DIR

Channel = Literal["email", "sms", "push"]
CHANNELS: tuple[str, ...] = ("email", "sms", "push")
RULES_PATH = INCLUDE_DIR / "config" / "rules.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hours(_Strict):
    """Local hours [start_hour, end_hour) in which a message may go out."""

    start_hour: int = Field(8, ge=0, le=23)
    end_hour: int = Field(21, ge=1, le=24)

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.end_hour <= self.start_hour:
            raise ValueError(f"end_hour ({self.end_hour}) must be after start_hour ({self.start_hour})")
        return self


class CountryRule(_Strict):
    start_hour: int | None = Field(None, ge=0, le=23)
    end_hour: int | None = Field(None, ge=1, le=24)
    blocked_weekdays: tuple[int, ...] = ()


class Cap(_Strict):
    name: str
    tags: tuple[str, ...] = ("promotional",)
    channels: tuple[Channel, ...] | None = None  # None: across every channel
    days: int = Field(ge=1, le=60)
    max: int = Field(ge=0)


class Saturation(_Strict):
    min_sends_30d: int = 6
    engagement_drop_ratio: float = Field(0.5, ge=0, le=1)
    burst_sends: int = 3
    burst_days: int = 7
    lookback_days: int = 30
    tightened_caps: dict[str, int] = Field(default_factory=dict)


class Rules(_Strict):
    send_window: Hours = Hours()
    default_holdout_share: float = Field(0.10, ge=0, le=0.9)
    default_local_hour: int = Field(10, ge=0, le=23)
    default_timezone: str = "UTC"
    active_session_minutes: int = Field(30, ge=0)
    checkout_minutes: int = Field(120, ge=0)
    bought_product_days: int = Field(30, ge=0)
    history_days: int = Field(60, ge=7)
    one_off_categories: tuple[str, ...] = ()
    caps: tuple[Cap, ...] = ()
    saturation: Saturation = Saturation()
    channel_hours: dict[Channel, Hours] = Field(default_factory=dict)
    sms_country_rules: dict[str, CountryRule] = Field(default_factory=dict)
    throughput_per_minute: dict[Channel, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_caps(self) -> Rules:
        names = [c.name for c in self.caps]
        if len(set(names)) != len(names):
            raise ValueError(f"cap names must be unique, got {names}")
        unknown = set(self.saturation.tightened_caps) - set(names)
        if unknown:
            raise ValueError(f"saturation.tightened_caps names unknown caps {sorted(unknown)}")
        return self

    def hours_for(self, channel: str) -> Hours:
        return self.channel_hours.get(channel, self.send_window)  # type: ignore[call-overload]


class DispatchConfig(_Strict):
    batch_size: int = Field(1000, ge=1)
    redis_stream: str = "rightsend:messages"
    redis_published_set: str = "rightsend:published"
    amqp_queue: str = "rightsend.messages"


class RulesError(ValueError):
    pass


def _read(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: cannot read rules: {exc}") from exc


def load_rules(path: Path = RULES_PATH) -> Rules:
    raw = _read(path)
    data = dict(raw.get("decide") or {})
    if "send_window" in raw:
        data["send_window"] = raw["send_window"]
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesError(f"{path}: invalid decide rules:\n{_format(exc)}") from exc


def load_dispatch_config(path: Path = RULES_PATH) -> DispatchConfig:
    try:
        return DispatchConfig.model_validate(_read(path).get("dispatch") or {})
    except ValidationError as exc:
        raise RulesError(f"{path}: invalid dispatch settings:\n{_format(exc)}") from exc


def _format(exc: ValidationError) -> str:
    return "\n".join(
        f"  field '{'.'.join(str(p) for p in err['loc']) or '<root>'}': {err['msg']}"
        + (f" (got {err['input']!r})" if err["type"] != "missing" else "")
        for err in exc.errors()
    )
