"""Hand-written metrics against known values."""

from __future__ import annotations

import numpy as np

from models_ml import evaluate


def test_auc_matches_pairwise_definition() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.round(rng.random(200) + 0.3 * y, 1)  # ties on purpose
    pos, neg = p[y == 1], p[y == 0]
    pairwise = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (
        len(pos) * len(neg)
    )
    assert abs(evaluate.auc(y, p) - pairwise) < 1e-12


def test_log_loss_and_ece() -> None:
    y = np.array([1, 0, 1, 0])
    assert abs(evaluate.log_loss(y, np.full(4, 0.5)) - np.log(2)) < 1e-12
    assert evaluate.ece(y, np.full(4, 0.5)) < 1e-12  # perfectly calibrated in its only bin
    assert abs(evaluate.ece(np.array([1, 1]), np.array([0.6, 0.6])) - 0.4) < 1e-12


def test_platt_recovers_a_known_scaling() -> None:
    rng = np.random.default_rng(1)
    margin = rng.normal(0, 2, 20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(0.5 * margin - 1.0)))).astype(float)
    cal = evaluate.Platt.fit(margin, y)
    assert abs(cal.a - 0.5) < 0.05 and abs(cal.b + 1.0) < 0.08
    assert evaluate.ece(y, cal(margin)) < 0.02
