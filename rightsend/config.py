"""Where things live. The one place paths and settings come from.

Every stage (CLI, Airflow task, test) builds a ``Settings`` from the environment, so
the DAGs, ``rightsend run`` and the tests all agree without passing paths around.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INCLUDE_DIR = PROJECT_ROOT / "include"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"

# The logical date make run / the demo use when none is given.
DEMO_DATE = "2026-11-20"

ENV_LANDING = "RIGHTSEND_LANDING_DIR"
ENV_OUTPUT = "RIGHTSEND_OUTPUT_DIR"
ENV_WAREHOUSE = "RIGHTSEND_WAREHOUSE"
# The one setting that picks the warehouse engine, for dbt (profiles.yml) and for every
# Python stage (rightsend.warehouse) alike: "duckdb" (the file at RIGHTSEND_WAREHOUSE) or
# "postgres" (the database named by the RIGHTSEND_PG_* settings).
ENV_TARGET = "RIGHTSEND_TARGET"
TARGETS = ("duckdb", "postgres")
# DuckDB's memory for each stage and for dbt (profiles.yml reads the same variable): beyond it
# DuckDB spills to disk. Its own default, 80% of RAM, let the first dbt build at 200k customers
# take 12.5 GB; bounded, a run fits beside Airflow's processes on one machine.
ENV_DUCKDB_MEMORY = "RIGHTSEND_DUCKDB_MEMORY"
DEFAULT_DUCKDB_MEMORY = "4GB"
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
ENV_PG = {
    "host": ("RIGHTSEND_PG_HOST", "localhost"),
    "port": ("RIGHTSEND_PG_PORT", "5432"),
    "user": ("RIGHTSEND_PG_USER", "rightsend"),
    "password": ("RIGHTSEND_PG_PASSWORD", ""),
    "dbname": ("RIGHTSEND_PG_DBNAME", "rightsend"),
}


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity on Linux), for sizing worker pools."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def duckdb_memory_limit() -> str:
    """RIGHTSEND_DUCKDB_MEMORY (default 4GB), checked: it goes into a SET statement."""
    value = os.environ.get(ENV_DUCKDB_MEMORY, "").strip() or DEFAULT_DUCKDB_MEMORY
    if not _MEMORY.fullmatch(value):
        raise ValueError(f"{ENV_DUCKDB_MEMORY}={value!r}: expected a size such as 4GB or 512MB")
    return value


def postgres_params(**overrides: str) -> dict[str, str]:
    """The Postgres warehouse's libpq connection parameters, from RIGHTSEND_PG_* (defaults as
    dbt's profile), with ``overrides`` on top (e.g. ``dbname="postgres"`` for admin work).

    Empty values are left out, so libpq's own defaults apply (no password under trust auth).
    """
    params = {key: os.environ.get(name, default) for key, (name, default) in ENV_PG.items()}
    return {key: value for key, value in {**params, **overrides}.items() if value}


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    output_dir: Path
    warehouse_path: Path
    target: str = "duckdb"

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"{ENV_TARGET}={self.target!r}: expected one of {', '.join(TARGETS)}")

    @classmethod
    def from_env(cls) -> Settings:
        data = Path(os.environ.get("RIGHTSEND_DATA_DIR", DEFAULT_DATA_DIR))
        return cls(
            landing_dir=Path(os.environ.get(ENV_LANDING, data / "landing")).resolve(),
            output_dir=Path(os.environ.get(ENV_OUTPUT, data / "out")).resolve(),
            warehouse_path=Path(
                os.environ.get(ENV_WAREHOUSE, data / "warehouse" / "rightsend.duckdb")
            ).resolve(),
            target=os.environ.get(ENV_TARGET, "duckdb"),
        )

    def with_overrides(self, **changes: object) -> Settings:
        return replace(
            self, **{k: v if k == "target" else Path(v) for k, v in changes.items() if v is not None}
        )

    def as_env(self) -> dict[str, str]:
        """The environment that makes ``from_env`` return these settings."""
        return {
            ENV_LANDING: str(self.landing_dir),
            ENV_OUTPUT: str(self.output_dir),
            ENV_WAREHOUSE: str(self.warehouse_path),
            ENV_TARGET: self.target,
        }

    @property
    def postgres_dsn(self) -> str:
        """libpq connection string of the Postgres warehouse (RIGHTSEND_PG_*, as dbt's profile)."""
        return " ".join(f"{key}={value}" for key, value in postgres_params().items())

    @property
    def models_dir(self) -> Path:
        """Model registry: kept beside the warehouse it was trained from."""
        return self.warehouse_path.parent / "models"

    def queue_dir(self, run_date: str) -> Path:
        return self.output_dir / "queue" / f"dt={run_date}"

    def exports_dir(self, run_date: str) -> Path:
        return self.output_dir / "exports" / f"dt={run_date}"

    def runs_dir(self, run_date: str) -> Path:
        return self.output_dir / "runs" / f"dt={run_date}"
