"""Hand-buildable inputs for tests, demos and benchmarks: rows with sensible defaults, and
a writer that lays them out as marts.* / ml.send_scores / ops tables in a DuckDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pandas as pd

from rightsend.decide.inputs import DecisionInputs


def customer(customer_id: str, **kw: Any) -> dict[str, Any]:
    """A person reachable on every channel, in London, lifecycle 'active'."""
    row = {
        "customer_id": customer_id, "source_customer_id": f"shop-{customer_id}",
        "email": f"{customer_id}@example.com", "phone": "+447700900" + str(abs(hash(customer_id)) % 1000).zfill(3),
        "push_device_token": f"tok-{customer_id}", "country_code": "GB", "timezone": "Europe/London",
        "has_email_consent": True, "has_sms_consent": True, "has_push_consent": True,
        "is_email_deliverable": True, "has_spam_complaint": False,
        "is_email_reachable": True, "is_sms_reachable": True, "is_push_reachable": True,
        "rfm_segment": "loyal", "lifecycle_state": "active", "created_at": pd.Timestamp("2025-01-01"),
        "first_order_at": pd.Timestamp("2025-01-02"), "last_web_activity_at": None,
    }  # fmt: skip
    row.update(kw)
    return row


def web(
    customer_id: str | None, event_type: str, at: str, sku: str | None = None, **kw: Any
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "event_type": event_type,
        "occurred_at": pd.Timestamp(at),
        "sku": sku,
        **kw,
    }


def order_line(
    customer_id: str, order_id: str, at: str, sku: str, category: str = "Shoes", **kw: Any
) -> dict[str, Any]:
    return {
        "order_id": order_id, "customer_id": customer_id, "ordered_at": pd.Timestamp(at), "sku": sku,
        "product_name": f"Product {sku}", "category": category, "quantity": 1, "is_cancelled": False, **kw,
    }  # fmt: skip


def product(sku: str, **kw: Any) -> dict[str, Any]:
    row = {
        "sku": sku, "title": f"Product {sku}", "category": "Shoes", "price": 50.0, "previous_price": 50.0,
        "inventory_qty": 100, "is_published": True, "is_price_drop": False,
    }  # fmt: skip
    row.update(kw)
    return row


def score(
    customer_id: str, channel: str, best_hour: int = 12, p: float = 0.2, rank: int = 1, **kw: Any
) -> dict:
    p_by_hour = [None if h < 8 or h >= 21 else (p if h == best_hour else p / 2) for h in range(24)]
    return {
        "customer_id": customer_id, "channel": channel, "best_local_hour": best_hour, "p_engage": p,
        "p_by_hour": p_by_hour, "channel_rank": rank, "reason": "opens around midday", "model_version": "m-test",
        **kw,
    }  # fmt: skip


def inputs(run_date: str, customers: list[dict], **frames: list[dict] | pd.DataFrame) -> DecisionInputs:
    def df(x: list[dict] | pd.DataFrame | None) -> pd.DataFrame | None:
        return None if x is None else x if isinstance(x, pd.DataFrame) else pd.DataFrame(x)

    return DecisionInputs(
        run_date=dt.date.fromisoformat(run_date), customers=pd.DataFrame(customers),
        **{k: df(v) for k, v in frames.items()},
    )  # fmt: skip


MART_TABLES = {
    "customers": "marts.dim_customers",
    "web_events": "marts.fct_web_events",
    "order_lines": "marts.fct_order_lines",
    "products": "marts.dim_products",
    "engagement": "marts.mart_customer_channel_engagement",
    "message_events": "marts.fct_message_events",
}


def seed_warehouse(
    con: duckdb.DuckDBPyConnection, inp: DecisionInputs, score_date: str | None = None
) -> None:
    """Create marts.* and ml.send_scores (contract columns) from the inputs' frames."""
    n = inp.normalise()
    con.execute(
        "create schema if not exists marts; create schema if not exists ml; create schema if not exists ops"
    )
    for attr, table in MART_TABLES.items():
        frame = getattr(n, attr).copy()
        for col in frame.columns:
            if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                frame[col] = frame[col].dt.tz_localize(None)
        con.register("_src", frame)
        con.execute(f"create or replace table {table} as select * from _src")
        con.unregister("_src")
    sc = n.scores.copy()
    sc["score_date"] = pd.Timestamp(score_date or n.run_date).date()
    sc["p_by_hour"] = sc["p_by_hour"].map(
        lambda v: None if v is None else [None if x is None else float(x) for x in v]
    )
    con.register("_src", sc)
    con.execute(
        "create or replace table ml.send_scores as select score_date, customer_id, channel,"
        " cast(best_local_hour as integer) best_local_hour, cast(p_engage as double) p_engage,"
        " cast(p_by_hour as double[]) p_by_hour, cast(channel_rank as integer) channel_rank,"
        " reason, model_version from _src"
    )
    con.unregister("_src")
    con.execute(
        "create table if not exists ops.erasure_tombstones (identifier_hash varchar primary key,"
        " identifier_type varchar not null, request_id varchar not null, erased_at timestamp not null)"
    )
