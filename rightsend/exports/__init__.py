"""Marketers' daily exports and the HTML report: out/exports/dt=D/.

``run(settings, run_date)`` is the Airflow task (the last of ``rightsend_daily``). It reads
the warehouse read-only, writes every file into a temp folder and swaps it in whole, so a
re-run for the same date replaces that day's files (idempotent), and it scrubs erased
persons from earlier days' exports and queue files.

Files (all UTF-8 CSV with a header):
- customers.csv                        one row per person (landing contract, section 3)
- segments/rfm_<slug>.csv, segments/lifecycle_<state>.csv   upload lists for email/SMS tools
- audiences/rfm_<slug>.csv, audiences/suppression_recent_buyers.csv   hashed, for ad platforms
- segment_movement.csv, campaign_results.csv, report.html
"""

from __future__ import annotations

from typing import Any

from rightsend import summary as run_summary
from rightsend import warehouse
from rightsend.config import Settings
from rightsend.exports import audiences, campaign_results, customers, movement, segments
from rightsend.exports._io import staged_dir, write_csv
from rightsend.exports.erasure import scrub_erased_from_outputs

__all__ = ["run", "scrub_erased_from_outputs"]


def run(settings: Settings, run_date: str) -> dict[str, Any]:
    final = settings.exports_dir(run_date)
    summary = run_summary.load(settings, run_date)
    with warehouse.connect(settings, read_only=True) as con:
        # Earlier days first: today's files are written fresh from marts without the erased.
        scrub = scrub_erased_from_outputs(settings, con)
        with staged_dir(final) as tmp:
            files: dict[str, int] = {"customers.csv": customers.export(con, run_date, tmp)}
            files |= segments.export(con, run_date, tmp)
            audience_files, suppression_basis = audiences.export(con, run_date, tmp)
            files |= audience_files
            moves = movement.movement_rows(con, run_date)
            files["segment_movement.csv"] = write_csv(tmp / "segment_movement.csv", movement.COLUMNS, moves)
            files["campaign_results.csv"], campaign_rows = campaign_results.export(con, run_date, tmp)

            from rightsend.exports import report  # jinja2 only when the report is built

            html = report.build(settings, con, run_date, summary, moves, campaign_rows, files)
            report.write(tmp / "report.html", html)
    return {
        "files": dict(sorted(files.items())),
        "report": str(final / "report.html"),
        "suppression_audience_basis": suppression_basis,
        "scrubbed": scrub,
    }
