"""Fixtures for the exports tests: the hand-made warehouse of exports_world.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from exports_world import build_warehouse

from rightsend.config import Settings


@pytest.fixture(autouse=True)
def _own_campaigns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Campaign files under include/ are another team's and change: tests use their own (none)."""
    from rightsend.exports import audiences

    (tmp_path / "campaigns").mkdir()
    monkeypatch.setattr(audiences, "CAMPAIGNS_DIR", tmp_path / "campaigns")


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    s = Settings(
        landing_dir=tmp_path / "landing",
        output_dir=tmp_path / "out",
        warehouse_path=tmp_path / "wh" / "w.duckdb",
    )
    build_warehouse(s)
    return s
