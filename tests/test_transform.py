"""rightsend.transform: dbt in-process must not change the caller's environment.

A test session (or `make stack`) that runs dbt in-process for one warehouse and then starts
`rightsend run` for another must not hand the first one's settings to the second.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rightsend import transform
from rightsend.config import Settings


def test_dbt_sets_the_settings_for_its_call_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("RIGHTSEND_TARGET", raising=False)
    monkeypatch.setenv("RIGHTSEND_WAREHOUSE", "/elsewhere/rightsend.duckdb")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    settings = Settings(tmp_path / "landing", tmp_path / "out", tmp_path / "warehouse" / "rightsend.duckdb")

    transform.dbt(["parse", "--quiet"], settings)

    assert (tmp_path / "dbt-target" / "manifest.json").is_file()
    assert os.environ["RIGHTSEND_WAREHOUSE"] == "/elsewhere/rightsend.duckdb"
    assert "RIGHTSEND_TARGET" not in os.environ


def test_duckdb_memory_is_bounded_for_the_stages_and_for_dbt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """One setting bounds DuckDB's memory in every stage's connection and in dbt's profile."""
    from rightsend import warehouse

    monkeypatch.setenv("RIGHTSEND_DUCKDB_MEMORY", "1536MB")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    settings = Settings(tmp_path / "landing", tmp_path / "out", tmp_path / "warehouse" / "rightsend.duckdb")
    settings.warehouse_path.parent.mkdir(parents=True)
    with warehouse.connect(settings) as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit == "1.4 GiB"  # 1536 MB, as DuckDB reports it (in GiB, rounded down)
    shown = transform.dbt(
        ["show", "--inline", "select current_setting('memory_limit') as m", "--quiet"], settings
    )
    assert list(shown.result.results[0].agate_table.rows[0]) == [limit]  # dbt's own connection
