"""Ingestion: landing zone -> DuckDB raw.* tables, exactly once.

``run(settings, run_date)`` is the stage; ``apply_tombstones(con)`` re-applies erasures
(e.g. after raw tables were rebuilt from the landing zone).
"""

from rightsend.ingest.erasure import apply_tombstones, identifier_hash
from rightsend.ingest.pipeline import run

__all__ = ["apply_tombstones", "identifier_hash", "run"]
