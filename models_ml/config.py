"""Model settings: what the send-time model learns from and how it is judged.

Business knobs (send window, channel economics) are read from include/config/rules.yaml
so marketers change them in one place; the ML knobs live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rightsend.config import INCLUDE_DIR

CHANNELS: tuple[str, ...] = ("email", "sms", "push")
RULES_PATH = INCLUDE_DIR / "config" / "rules.yaml"


@dataclass(frozen=True)
class ChannelEconomics:
    engagement_value: float
    cost_per_message: float


@dataclass(frozen=True)
class Rules:
    start_hour: int  # first allowed local hour (inclusive)
    end_hour: int  # exclusive
    channels: dict[str, ChannelEconomics]

    @property
    def allowed_hours(self) -> list[int]:
        return list(range(self.start_hour, self.end_hour))


@lru_cache(maxsize=4)
def _load_rules(path: str, mtime: float) -> Rules:
    import yaml

    raw: dict[str, Any] = yaml.safe_load(Path(path).read_text())
    window = raw["send_window"]
    chans = {
        name: ChannelEconomics(float(v["engagement_value"]), float(v["cost_per_message"]))
        for name, v in raw["channels"].items()
        if name in CHANNELS
    }
    return Rules(int(window["start_hour"]), int(window["end_hour"]), chans)


def load_rules(path: Path = RULES_PATH) -> Rules:
    """rules.yaml, re-read when it changes ("changes apply on the next run")."""
    return _load_rules(str(path), path.stat().st_mtime)


@dataclass(frozen=True)
class ModelConfig:
    engagement_window_hours: int = 24  # label: human engagement within this many hours of the send
    decay_days: float = 30.0  # e-folding time of the recency-weighted counts
    window_days: int = 90  # plain (undecayed) look-back window, besides all-time counts
    validation_fraction: float = 0.2  # newest share of sends held out for every reported metric
    calibration_fraction: float = 0.1  # the slice just before validation: early stopping + Platt fit
    retrain_every_days: int = 7
    # Training reads the newest labelled sends up to this many (the features still see all of
    # each person's history): a large list trains in bounded time and memory (60k customers
    # x 120 days is 1.9M sends, 93 s); the demo is far below it.
    max_training_sends: int = 2_000_000
    auc_tolerance: float = 0.005  # challenger promoted unless its AUC is worse by more than this
    min_sends_personal: int = 5  # fewer past sends -> is_personal false (population/segment fallback)
    batch_size: int = 50_000  # people per scoring batch
    reason_trees: int = 30  # TreeSHAP over the first N trees for lower-ranked channels (speed)
    policy_eval_max_people: int = 10_000  # cap on people replayed in the offline policy evaluation
    seed: int = 42
    num_threads: int = 2
    # capped: scoring cost (and TreeSHAP reasons) grows with the number of trees
    num_boost_round: int = 150
    early_stopping_rounds: int = 20
    lgb_params: dict[str, Any] = field(
        default_factory=lambda: {
            "objective": "binary",
            "learning_rate": 0.1,
            # shallow trees: as accurate here and ~3x cheaper TreeSHAP (pred_contrib) for the reasons
            "num_leaves": 12,
            "max_depth": 4,
            "min_data_in_leaf": 20,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "max_bin": 127,
            "verbose": -1,
        }
    )

    def params(self) -> dict[str, Any]:
        # deterministic=True + fixed threads + seeds: same data -> byte-identical model.txt
        return {
            **self.lgb_params,
            "seed": self.seed,
            "bagging_seed": self.seed,
            "feature_fraction_seed": self.seed,
            "data_random_seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
        }


DEFAULT_CONFIG = ModelConfig()
