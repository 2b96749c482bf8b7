"""Ingest tests run the real stage against a real DuckDB file in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rightsend import warehouse
from rightsend.config import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "landing"
RAW_TABLES = (
    "customers", "orders", "catalog", "email_events", "sms_messages", "sms_clicks", "push_events",
    "web_events", "consent_requests",
)  # fmt: skip


def make_settings(tmp_path: Path, fixture: str | None) -> Settings:
    landing = tmp_path / "landing"
    if fixture:
        shutil.copytree(FIXTURES / fixture, landing)
    else:
        landing.mkdir()
    return Settings(landing_dir=landing, output_dir=tmp_path / "out", warehouse_path=tmp_path / "w.duckdb")


@pytest.fixture(scope="session")
def make_landing() -> Callable[[Path, str | None], Settings]:
    """Settings over a copy of a fixture landing zone ("good", "bad" or None for empty)."""
    return make_settings


@pytest.fixture
def good(tmp_path: Path) -> Settings:
    """A copy of the clean-but-messy vendor-format landing zone (files may be added)."""
    return make_settings(tmp_path, "good")


@pytest.fixture
def bad(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, "bad")


def _write(settings: Settings, rel: str, content: str | bytes) -> Path:
    path = settings.landing_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def land() -> Callable[[Settings, str, str | bytes], Path]:
    """Drop a file into a landing zone: land(settings, "web/dt=.../x.ndjson", text)."""
    return _write


@pytest.fixture
def query() -> Callable[..., list[tuple[Any, ...]]]:
    def run(settings: Settings, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with warehouse.connect(settings, read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    return run


def _counts(settings: Settings) -> dict[str, int]:
    with warehouse.connect(settings, read_only=True) as con:
        return {t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for t in RAW_TABLES}


@pytest.fixture
def counts() -> Callable[[Settings], dict[str, int]]:
    """Row count of every raw table."""
    return _counts
