"""rightsend.decide: who gets what on day D+1, on which single channel, when - or nothing.

``run(settings, run_date)`` reads the marts, scores and queue history, applies the pure
decision core (``core.decide``) and writes queue.outbox, queue.suppression_log and
out/queue/dt=D/messages.{csv,parquet}.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from rightsend.config import Settings


def run(
    settings: Settings, run_date: str, *, campaigns_dir: Path | None = None, rules_path: Path | None = None
) -> dict[str, Any]:
    from rightsend.decide import io
    from rightsend.decide.campaigns import CAMPAIGNS_DIR, load_campaigns
    from rightsend.decide.core import decide, summarize
    from rightsend.decide.rules import RULES_PATH, load_rules
    from rightsend.warehouse import connect

    rules = load_rules(rules_path or RULES_PATH)
    campaigns = load_campaigns(campaigns_dir or CAMPAIGNS_DIR)
    day = dt.date.fromisoformat(run_date)
    with connect(settings) as con:
        io.ensure_queue_tables(con)
        con.execute(f"set memory_limit = '{io.READ_MEMORY_LIMIT}'")
        inputs = io.load_inputs(con, day, rules, campaigns)
    # The warehouse is closed while deciding: DuckDB keeps the blocks a query read cached, up
    # to its memory limit, for as long as the database is open (~190 MB of 970 at 100k people).
    decision = decide(inputs, campaigns, rules)
    del inputs  # the marts' frames are not needed to write the outbox
    with connect(settings) as con:
        io.write_tables(con, day, decision)
    files = io.write_files(settings, run_date, decision.outbox)
    result = summarize(decision, campaigns)
    versions = sorted({v for v in decision.outbox["model_version"].dropna()})
    result["model_versions"] = versions
    result["active_campaigns"] = sorted(c.id for c in campaigns if c.is_active(day + dt.timedelta(days=1)))
    result["files"] = files
    return result
