"""Buckets of people: stable, the same in Python and in the warehouse's SQL, validated settings."""

from __future__ import annotations

import random
import string

import duckdb
import pytest

from rightsend import buckets
from rightsend.buckets import bucket_count, bucket_of, bucket_sql, in_bucket_sql, resolve, warehouse_slots


def _ids(n: int) -> list[str]:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "-_@.é漢"
    made = [f"c{i:05d}" for i in range(n // 2)]
    made += ["".join(rng.choices(alphabet, k=rng.randint(1, 40))) for _ in range(n - len(made))]
    return made


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16])
def test_python_and_sql_agree_on_every_id(n: int) -> None:
    ids = _ids(4000)
    con = duckdb.connect()
    try:
        con.execute("create table people (customer_id varchar)")
        con.executemany("insert into people values (?)", [[i] for i in ids])
        in_sql = dict(
            con.execute(f"select customer_id, {bucket_sql('customer_id', n)} from people").fetchall()
        )
        counted = {
            b: con.execute(
                f"select count(*) from people where {in_bucket_sql('customer_id', b, n)}"
            ).fetchone()[0]
            for b in range(n)
        }
    finally:
        con.close()
    assert {i: bucket_of(i, n) for i in ids} == in_sql
    assert sum(counted.values()) == len(ids)  # every person in exactly one bucket
    assert min(counted.values()) > len(ids) / n * 0.8  # and roughly even


def test_bucket_is_stable_across_processes() -> None:
    # md5, not hash(): fixed values, whatever PYTHONHASHSEED the process got
    assert [bucket_of(i, 4) for i in ("c00001", "c00002", "alice@example.com")] == [
        int(__import__("hashlib").md5(i.encode()).hexdigest()[:8], 16) % 4
        for i in ("c00001", "c00002", "alice@example.com")
    ]
    assert bucket_of("abc", 1_000_000_007) == 2416005272 % 1_000_000_007


def test_settings_default_and_are_validated(monkeypatch) -> None:
    monkeypatch.delenv(buckets.ENV_BUCKETS, raising=False)
    monkeypatch.delenv(buckets.ENV_WAREHOUSE_SLOTS, raising=False)
    assert bucket_count() == 4 and warehouse_slots() == 1
    monkeypatch.setenv(buckets.ENV_BUCKETS, " 8 ")
    monkeypatch.setenv(buckets.ENV_WAREHOUSE_SLOTS, "3")
    assert bucket_count() == 8 and warehouse_slots() == 3
    for bad in ("0", "-2", "four", "2.5"):
        monkeypatch.setenv(buckets.ENV_BUCKETS, bad)
        with pytest.raises(ValueError, match=r"RIGHTSEND_BUCKETS=.*expected a whole number >= 1"):
            bucket_count()
    monkeypatch.setenv(buckets.ENV_WAREHOUSE_SLOTS, "0")
    with pytest.raises(ValueError, match="RIGHTSEND_WAREHOUSE_SLOTS"):
        warehouse_slots()


def test_bucket_arguments_are_checked(monkeypatch) -> None:
    monkeypatch.setenv(buckets.ENV_BUCKETS, "5")
    assert resolve(None, None) is None
    assert resolve(2, None) == (2, 5)
    assert resolve(0, 1) == (0, 1)
    with pytest.raises(ValueError, match="outside 0..2"):
        resolve(3, 3)
    with pytest.raises(ValueError, match="whole number >= 1"):
        bucket_sql("customer_id", 0)
    with pytest.raises(ValueError, match="whole number >= 1"):
        bucket_of("x", 0)
