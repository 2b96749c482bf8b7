"""report.html: one self-contained page (inline CSS and SVG, no scripts, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from rightsend.config import Settings
from rightsend.exports.report import charts, data
from rightsend.exports.report.fmt import environment


def build(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_date: str,
    summary: dict[str, Any],
    movements: list[tuple],
    campaign_rows: list[dict],
    export_files: dict[str, int],
) -> str:
    """Render the report; the caller writes it into the day's staged export folder."""
    ctx: dict[str, Any] = {
        "run_date": run_date,
        "queue": data.queue_section(con, run_date),
        "segments": data.segments_section(con, run_date),
        "movement": data.movement_section(movements),
        "channels": data.channel_section(con),
        "hours": data.hours_section(con, run_date),
        "suppression": data.suppression_section(con, run_date, summary),
        "model": data.model_section(settings),
        "campaigns": campaign_rows,
        "quality": data.data_quality_section(con, run_date, summary),
        "export_files": export_files,
    }
    ctx["charts"] = charts.build_all(ctx)
    return environment().get_template("report.html.j2").render(**ctx)


def write(path: Path, html: str) -> None:
    path.write_text(html, encoding="utf-8")
