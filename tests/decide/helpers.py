"""Small builders shared by the decide tests (rows come from rightsend.decide.samples)."""

from __future__ import annotations

from typing import Any

from rightsend.decide.campaigns import Campaign, parse_campaign
from rightsend.decide.rules import Rules, load_rules

D = "2026-11-20"  # a Friday: the send day D+1 is Saturday 2026-11-21


def campaign(cid: str = "promo", **kw: Any) -> Campaign:
    data: dict[str, Any] = {
        "id": cid,
        "use_case": kw.pop("use_case", cid),
        "priority": 50,
        "audience": {"all_customers": True},
        "channels": {"allowed": ["email"], "default": "email", "selection": "fixed"},
        "active": {"start": "2026-01-01"},
        "holdout_share": 0.0,
    }
    data.update(kw)
    return parse_campaign(data, f"<test {cid}>")


def rules(**kw: Any) -> Rules:
    return load_rules().model_copy(update=kw)


def history_row(
    customer_id: str, campaign_id: str, local_day: str, channel: str = "email", **kw: Any
) -> dict:
    row = {
        "queue_date": local_day, "customer_id": customer_id, "campaign_id": campaign_id, "channel": channel,
        "send_at_utc": f"{local_day} 12:00:00+00:00", "send_at_local": f"{local_day}T12:00:00+00:00",
        "is_holdout": False, "sku": None, "tags": "promotional", "counts_toward_caps": True,
    }  # fmt: skip
    row.update(kw)
    return row
