"""Campaign definitions: include/campaigns/*.yaml, validated on load.

A campaign says who (audience: segments, lifecycle states or a behavioural trigger), on
which channels, with what priority, content variants, holdout share and caps behaviour.
Errors name the file, the field and what was expected, and list every problem at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rightsend.config import INCLUDE_DIR
from rightsend.decide.rules import Channel, _format

CAMPAIGNS_DIR = INCLUDE_DIR / "campaigns"
TriggerType = Literal[
    "cart_abandoned", "browse_abandoned", "price_drop", "low_stock", "post_purchase", "signup"
]
Lifecycle = Literal["new", "active", "lapsing", "silent", "never_engaged"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Strict):
    """A behavioural trigger. Parameters a trigger type does not use are ignored."""

    type: TriggerType
    delay_hours: float = Field(0, ge=0)  # earliest send after the trigger event
    lookback_hours: float = Field(72, gt=0)  # events older than this do not trigger
    max_reminders: int = Field(1, ge=1)  # cart: first reminder + at most (n-1) more
    reminder_interval_hours: float = Field(24, gt=0)
    steps_days: tuple[int, ...] = (0,)  # signup series: days after sign-up of each step
    stock_threshold: int = Field(5, ge=1)  # low_stock: 1..threshold units left
    send_at_trigger_time: bool = False  # True: trigger time + delay; False: model's best hour

    @field_validator("steps_days")
    @classmethod
    def _increasing(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or list(v) != sorted(set(v)) or v[0] < 0:
            raise ValueError("must be a non-empty list of increasing day offsets >= 0")
        return v


class Audience(_Strict):
    all_customers: bool = False
    rfm_segments: tuple[str, ...] = ()
    lifecycle_states: tuple[Lifecycle, ...] = ()
    trigger: Trigger | None = None

    @model_validator(mode="after")
    def _something(self) -> Audience:
        if not (self.all_customers or self.rfm_segments or self.lifecycle_states or self.trigger):
            raise ValueError("needs all_customers: true, rfm_segments, lifecycle_states or a trigger")
        return self


class Channels(_Strict):
    allowed: tuple[Channel, ...] = Field(min_length=1)
    default: Channel
    # fixed: only the default; fallback: allowed in order (default first) until one is
    # reachable; model: the model's best reachable channel among allowed.
    selection: Literal["fixed", "fallback", "model"] = "model"

    @model_validator(mode="after")
    def _default_allowed(self) -> Channels:
        if len(set(self.allowed)) != len(self.allowed):
            raise ValueError(f"allowed channels repeat: {list(self.allowed)}")
        if self.default not in self.allowed:
            raise ValueError(f"default channel '{self.default}' is not in allowed {list(self.allowed)}")
        return self

    def preference(self) -> list[str]:
        if self.selection == "fixed":
            return [self.default]
        return [self.default] + [c for c in self.allowed if c != self.default]


class Variant(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    split: float = Field(gt=0, le=1)
    template: str | None = None


class Incentive(_Strict):
    type: Literal["percent_off", "amount_off", "free_shipping", "gift"]
    value: float = Field(0, ge=0)
    code: str | None = None

    def describe(self) -> str:
        if self.type == "percent_off":
            return f"{self.value:g}% off"
        if self.type == "amount_off":
            return f"{self.value:g} off"
        return self.type.replace("_", " ")


class Active(_Strict):
    start: dt.date
    end: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Active:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Campaign(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str | None = None
    use_case: str = Field(min_length=1)
    priority: int = Field(ge=0, le=1000)  # higher wins
    audience: Audience
    channels: Channels
    variants: tuple[Variant, ...] = (Variant(id="default", split=1.0),)
    holdout_share: float | None = Field(None, ge=0, le=0.9)  # None: rules' default (10%)
    active: Active
    incentive: Incentive | None = None
    tags: tuple[str, ...] = ("promotional",)
    counts_toward_caps: bool | None = None  # None: promotional counts, transactional not
    overrides_caps: bool = False
    max_sends_per_person: int | None = Field(None, ge=1)  # over the outbox history
    min_days_between_sends: int | None = Field(None, ge=1)
    send_weekdays: tuple[int, ...] = ()  # weekdays (0=Mon) of D+1 it runs on; empty = every day
    pauses_other_promotions: bool = False  # win-back: its audience gets no other promotions

    @field_validator("tags")
    @classmethod
    def _one_kind(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        kinds = {"promotional", "transactional"} & set(v)
        if len(kinds) != 1:
            raise ValueError("must contain exactly one of 'promotional' or 'transactional'")
        return v

    @field_validator("send_weekdays")
    @classmethod
    def _weekdays(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(d not in range(7) for d in v):
            raise ValueError("weekdays are 0 (Monday) .. 6 (Sunday)")
        return v

    @model_validator(mode="after")
    def _splits(self) -> Campaign:
        total = sum(v.split for v in self.variants)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"variants' split must add up to 1, got {total:g}")
        ids = [v.id for v in self.variants]
        if len(set(ids)) != len(ids):
            raise ValueError(f"variant ids repeat: {ids}")
        return self

    @property
    def is_transactional(self) -> bool:
        return "transactional" in self.tags

    @property
    def kind(self) -> str:
        return "transactional" if self.is_transactional else "promotional"

    @property
    def counts(self) -> bool:
        return (not self.is_transactional) if self.counts_toward_caps is None else self.counts_toward_caps

    @property
    def has_limits(self) -> bool:
        """Whether earlier sends of this campaign limit the next (max sends, days apart)."""
        return bool(self.max_sends_per_person or self.min_days_between_sends)

    @property
    def label(self) -> str:
        return self.name or self.id

    def holdout(self, default: float) -> float:
        return default if self.holdout_share is None else self.holdout_share

    def is_active(self, send_day: dt.date) -> bool:
        if send_day < self.active.start or (self.active.end and send_day > self.active.end):
            return False
        return not self.send_weekdays or send_day.weekday() in self.send_weekdays


class CampaignError(ValueError):
    pass


def parse_campaign(data: object, source: str) -> Campaign:
    if not isinstance(data, dict):
        raise CampaignError(f"{source}: expected a mapping of campaign fields, got {type(data).__name__}")
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        raise CampaignError(f"{source}: invalid campaign:\n{_format(exc)}") from exc


def load_campaigns(directory: Path = CAMPAIGNS_DIR) -> list[Campaign]:
    """Every *.yaml/*.yml in ``directory``; all problems of all files reported together."""
    campaigns: list[Campaign] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            campaign = parse_campaign(yaml.safe_load(path.read_text()), str(path))
        except yaml.YAMLError as exc:
            errors.append(f"{path}: not valid YAML: {exc}")
            continue
        except CampaignError as exc:
            errors.append(str(exc))
            continue
        if campaign.id in seen:
            errors.append(f"{path}: field 'id': '{campaign.id}' is already used by {seen[campaign.id]}")
            continue
        seen[campaign.id] = str(path)
        campaigns.append(campaign)
    if errors:
        raise CampaignError("\n".join(errors))
    return sorted(campaigns, key=lambda c: (-c.priority, c.id))
