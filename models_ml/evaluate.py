"""Metrics and calibration in numpy/scipy (no scikit-learn), and the offline policy replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

EPS = 1e-7


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula; ties get average ranks."""
    y = np.asarray(y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata  # here, not at import: scoring needs only Platt (scipy ~1.5 s)

    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def ece(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error: |mean p - mean y| per equal-width bin, weighted by bin size."""
    if len(y) == 0:
        return float("nan")
    idx = np.minimum((p * bins).astype(int), bins - 1)
    count = np.bincount(idx, minlength=bins)
    sum_p = np.bincount(idx, weights=p, minlength=bins)
    sum_y = np.bincount(idx, weights=y, minlength=bins)
    nz = count > 0
    return float(np.sum(np.abs(sum_p[nz] - sum_y[nz])) / len(y))


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Reliability table on equal-count bins: mean predicted vs observed rate (for the report)."""
    if len(y) == 0:
        return []
    order = np.argsort(p, kind="stable")
    out = []
    for part in np.array_split(order, min(bins, len(order))):
        out.append(
            {
                "mean_p": round(float(p[part].mean()), 5),
                "observed": round(float(y[part].mean()), 5),
                "n": int(len(part)),
            }
        )
    return out


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "auc": round(auc(y, p), 5),
        "log_loss": round(log_loss(y, p), 5),
        "ece": round(ece(y, p), 5),
        "base_rate": round(float(np.mean(y)), 5) if len(y) else float("nan"),
        "mean_p": round(float(np.mean(p)), 5) if len(p) else float("nan"),
        "n": int(len(y)),
    }


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Platt:
    """p = sigmoid(a * margin + b) on LightGBM's raw margin.

    Chosen over isotonic because it is monotone and affine in the margin: ranking (AUC) is kept
    and pred_contrib contributions, which live in margin space, stay proportional (reasons).
    """

    a: float = 1.0
    b: float = 0.0

    @classmethod
    def fit(cls, margin: np.ndarray, y: np.ndarray) -> Platt:
        if len(y) == 0 or y.min() == y.max():
            return cls()

        def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
            z = theta[0] * margin + theta[1]
            # log(1+e^z) - y z, stable
            loss = np.logaddexp(0.0, z) - y * z
            g = _sigmoid(z) - y
            return float(loss.sum()), np.array([float((g * margin).sum()), float(g.sum())])

        from scipy.optimize import minimize

        res = minimize(nll, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
        return cls(float(res.x[0]), float(res.x[1]))

    def __call__(self, margin: np.ndarray) -> np.ndarray:
        return _sigmoid(self.a * np.asarray(margin, dtype=np.float64) + self.b)

    def as_dict(self) -> dict[str, float]:
        return {"a": self.a, "b": self.b}


REPLAY_METHOD = (
    "Replay (Li et al., 2011) on the held-out period: each policy picks, for every person, a channel "
    "and local hour per weekday from what was known at the validation cutoff (the model: highest "
    "expected value p*value-cost from features as of the cutoff; 'global_best_hour': the single "
    "(channel, hour) with the best engagement rate before the cutoff; 'modal_past_hour': the "
    "person's most frequent past engagement channel and local hour, else global; 'random': uniform "
    "over channels and allowed hours, seeded). A held-out send 'matches' a policy when its actual "
    "channel equals the policy's and its local hour is within +-{tol} h of the policy's hour; the "
    "policy's replay value is the engagement rate of its matched sends (reported with the count). "
    "It is unbiased only if the logged (channel, hour) was chosen independently of the person's "
    "outcome; historical campaigns were not randomised, so read it with the counts. "
    "'model_estimate' is the direct-method value: the mean calibrated p the model assigns to each "
    "policy's choice for the same people (biased toward the model; shown for comparison)."
)


def replay(
    held_channel: np.ndarray,
    held_hour: np.ndarray,
    held_label: np.ndarray,
    choices: dict[str, tuple[np.ndarray, np.ndarray]],
    tol: int,
) -> dict[str, Any]:
    """choices[policy] = (channel[n_sends], hour[n_sends]): the policy's pick for each held-out send."""
    out: dict[str, Any] = {
        "held_out_sends": int(len(held_label)),
        "held_out_rate": round(float(np.mean(held_label)), 5) if len(held_label) else None,
    }
    for name, (ch, hr) in choices.items():
        diff = np.abs(held_hour - hr)
        match = (held_channel == ch) & (np.minimum(diff, 24 - diff) <= tol)
        n = int(match.sum())
        out[name] = {
            "matched_sends": n,
            "engaged": int(held_label[match].sum()),
            "rate": round(float(held_label[match].mean()), 5) if n else None,
        }
    return out
