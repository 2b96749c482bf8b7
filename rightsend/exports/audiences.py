"""audiences/*.csv: hashed customer lists for ad platforms (Meta custom audiences, Google Customer Match).

- ``rfm_<slug>.csv``: one per RFM segment worth paying to reach (all but the lost/hibernating).
- ``suppression_recent_buyers.csv``: people who bought, in the last ``SUPPRESSION_DAYS`` days, a
  sku or category promoted by a campaign queued today (the outbox ``sku`` of today's messages,
  and skus/categories a campaign declares in include/campaigns), so paid retargeting stops
  chasing a purchase that already happened. When today's queue names no product, every
  recent buyer is suppressed: over-suppressing wastes less than
  advertising a product to someone who just bought it.

Only consented contact points are hashed (see hashing.py for the normalisation rule); a person
with none is left out. ``customer_id`` is kept as the platforms' external id and lets the
erasure scrub find the row later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from rightsend.config import INCLUDE_DIR
from rightsend.exports import customers
from rightsend.exports._db import columns_of, fetch, has_table
from rightsend.exports._io import slug, write_csv
from rightsend.exports.hashing import audience_email_hash, audience_phone_hash

COLUMNS = ("customer_id", "email_sha256", "phone_sha256")
SUPPRESSION_DAYS = 30
CAMPAIGNS_DIR = INCLUDE_DIR / "campaigns"
# Spend on these rarely pays back; every other segment (including ones dbt adds later) gets an audience.
NOT_WORTH_TARGETING = frozenset({"lost", "lost_customers", "hibernating", "hibernating_customers"})
SUPPRESSION_FILE = "audiences/suppression_recent_buyers.csv"
_SKU_KEYS = {"sku", "skus", "promoted_sku", "promoted_skus"}
_CATEGORY_KEYS = {"category", "categories", "promoted_category", "promoted_categories"}


def _hashed(rows: Iterable[tuple[Any, Any, Any]]) -> list[tuple[str, str | None, str | None]]:
    out = []
    for customer_id, email, phone in rows:
        e, p = audience_email_hash(email), audience_phone_hash(phone)
        if e or p:
            out.append((customer_id, e, p))
    return out


def _walk(node: Any, found: dict[str, tuple[set[str], set[str]]], campaign: str | None = None) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, found, campaign)
        return
    if not isinstance(node, dict):
        return
    campaign = str(node.get("campaign_id") or node.get("id") or campaign or "") or None
    for key, value in node.items():
        values = value if isinstance(value, list) else [value]
        if campaign and key in _SKU_KEYS | _CATEGORY_KEYS:
            skus, cats = found.setdefault(campaign, (set(), set()))
            (skus if key in _SKU_KEYS else cats).update(str(v) for v in values if isinstance(v, str | int))
        else:
            _walk(value, found, campaign)


def promoted_items(campaigns_dir: Path | None = None) -> dict[str, tuple[set[str], set[str]]]:
    """campaign_id -> (skus, categories) it promotes, read loosely from the campaign YAML files."""
    import yaml

    campaigns_dir = campaigns_dir or CAMPAIGNS_DIR
    found: dict[str, tuple[set[str], set[str]]] = {}
    for path in sorted(campaigns_dir.glob("*.y*ml")) if campaigns_dir.is_dir() else []:
        try:
            _walk(yaml.safe_load(path.read_text()), found)
        except (OSError, yaml.YAMLError):
            continue  # a broken campaign file is decide's error to report, not a reason to skip exports
    return found


def _suppression_rows(con: duckdb.DuckDBPyConnection, run_date: str, view: str) -> tuple[list[tuple], str]:
    if not has_table(con, "marts.fct_order_lines"):
        return [], "no order lines"
    since = (date.fromisoformat(run_date) - timedelta(days=SUPPRESSION_DAYS - 1)).isoformat()
    queued: list[str] = []
    outbox_skus: set[str] = set()
    if has_table(con, "queue.outbox"):
        queued = [
            r[0]
            for r in con.execute(
                "select distinct campaign_id from queue.outbox where queue_date = ?", [run_date]
            ).fetchall()
        ]
        if "sku" in columns_of(con, "queue.outbox"):  # decide records the product a message is about
            outbox_skus = {
                r[0]
                for r in con.execute(
                    "select distinct sku from queue.outbox where queue_date = ? and sku is not null",
                    [run_date],
                ).fetchall()
            }
    declared = promoted_items()
    skus = sorted(outbox_skus | {s for c in queued for s in declared.get(c, (set(), set()))[0]})
    cats = sorted({s for c in queued for s in declared.get(c, (set(), set()))[1]})
    basis = (
        "promoted skus/categories of queued campaigns"
        if skus or cats
        else "any purchase (no campaign declares products)"
    )
    if queued and not (skus or cats):
        match = "true"
    elif skus or cats:
        match = (
            "(l.sku in (select unnest($skus::varchar[])) or l.category in (select unnest($cats::varchar[])))"
        )
    else:
        return [], "no campaign queued"
    sql = f"""
        select v.customer_id, v.email, v.phone from ({view}) v
        where v.customer_id in (
            select l.customer_id from marts.fct_order_lines l
            where not coalesce(l.is_cancelled, false)
              and l.ordered_at >= $since::timestamp and l.ordered_at < $run_date::date + interval 1 day
              and {match})
        order by v.customer_id
    """
    params: dict[str, Any] = {"run_date": run_date, "since": since}
    if match != "true":
        params |= {"skus": skus, "cats": cats}
    return fetch(con, sql, params)[1], basis


def export(con: duckdb.DuckDBPyConnection, run_date: str, out_dir: Path) -> tuple[dict[str, int], str]:
    view = customers.view_sql(con)
    _, rows = fetch(
        con,
        f"select rfm_segment, customer_id, email, phone from ({view}) where rfm_segment is not null order by customer_id",
        {"run_date": run_date},
    )
    by_segment: dict[str, list[tuple]] = {}
    for segment, *rest in rows:
        if slug(segment) not in NOT_WORTH_TARGETING:
            by_segment.setdefault(f"audiences/rfm_{slug(segment)}.csv", []).append(tuple(rest))
    files = {
        name: write_csv(out_dir / name, COLUMNS, _hashed(members))
        for name, members in sorted(by_segment.items())
    }
    suppress, basis = _suppression_rows(con, run_date, view)
    files[SUPPRESSION_FILE] = write_csv(out_dir / SUPPRESSION_FILE, COLUMNS, _hashed(suppress))
    return files, basis
