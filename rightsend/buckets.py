"""Scaling out: people split into buckets that Airflow maps tasks over, and the warehouse pool.

Scoring and dispatch run once per bucket (Airflow dynamic task mapping in
dags/daily.py), so more Celery workers finish the day sooner. A person's bucket is
stable - the first 32 bits of the md5 of their customer_id, modulo the number of
buckets - and the same in Python (``bucket_of``) and in the warehouse's SQL
(``bucket_sql``, plain DuckDB SQL, which also runs when the warehouse is Postgres:
DuckDB executes it over the attached database). Never Python's ``hash()``: it changes
from one process to the next.

Settings (environment):

- ``RIGHTSEND_BUCKETS`` (default 4): how many buckets. Any value partitions everybody;
  changing it between runs of the same day is safe (each bucket overwrites its own people).
- ``RIGHTSEND_WAREHOUSE_SLOTS`` (default 1): slots of the Airflow ``warehouse`` pool that
  every warehouse task takes. Keep 1 on DuckDB (one writer at a time); raise it on Postgres
  so the buckets run in parallel on several Celery workers.

Light on purpose (no pandas, duckdb or Airflow): the DAG files import it.
"""

from __future__ import annotations

import hashlib
import os

ENV_BUCKETS = "RIGHTSEND_BUCKETS"
ENV_WAREHOUSE_SLOTS = "RIGHTSEND_WAREHOUSE_SLOTS"
DEFAULT_BUCKETS = 4
DEFAULT_WAREHOUSE_SLOTS = 1
POOL_DESCRIPTION = "warehouse tasks: 1 slot on DuckDB (one writer); more on Postgres for parallel buckets"


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a whole number >= 1") from None
    if value < 1:
        raise ValueError(f"{name}={raw!r}: expected a whole number >= 1")
    return value


def bucket_count() -> int:
    """The number of buckets scoring and dispatch are split into (``RIGHTSEND_BUCKETS``)."""
    return _positive_int(ENV_BUCKETS, DEFAULT_BUCKETS)


def warehouse_slots() -> int:
    """Slots of the Airflow ``warehouse`` pool (``RIGHTSEND_WAREHOUSE_SLOTS``)."""
    return _positive_int(ENV_WAREHOUSE_SLOTS, DEFAULT_WAREHOUSE_SLOTS)


def _check(bucket: int | None, n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"number of buckets must be a whole number >= 1, not {n!r}")
    if bucket is not None and not 0 <= bucket < n:
        raise ValueError(f"bucket {bucket!r} is outside 0..{n - 1}")


def bucket_of(customer_id: str, n: int) -> int:
    """The person's bucket in 0..n-1: the first 8 hex digits of md5(customer_id), modulo n."""
    _check(None, n)
    return int(hashlib.md5(str(customer_id).encode("utf-8")).hexdigest()[:8], 16) % n


def bucket_sql(column: str, n: int) -> str:
    """A DuckDB SQL expression for the bucket of ``column``, equal to ``bucket_of``.

    ``column`` is an SQL expression (a column name, e.g. ``o.customer_id``), never user input.
    """
    _check(None, n)
    return f"(('0x' || left(md5(cast({column} as varchar)), 8))::bigint % {n})"


def in_bucket_sql(column: str, bucket: int, n: int) -> str:
    """A DuckDB SQL condition: ``column``'s person is in ``bucket`` of ``n``."""
    _check(bucket, n)
    return f"{bucket_sql(column, n)} = {bucket}"


def resolve(bucket: int | None, buckets: int | None) -> tuple[int, int] | None:
    """(bucket, n) for a stage asked to do one bucket, or None for all people.

    ``buckets`` defaults to ``RIGHTSEND_BUCKETS``; pass it explicitly when the bucket
    numbers were planned elsewhere (the DAG does), so both agree.
    """
    if bucket is None:
        return None
    n = bucket_count() if buckets is None else buckets
    _check(bucket, n)
    return bucket, n
