"""campaign_results.csv: per campaign and variant, what was queued, sent, engaged and converted,
and the conversion lift over the campaign's holdout with a 95% interval.

marts.mart_campaign_results names the totals but not the per-arm counts an interval needs,
so the same measure is computed here from what the mart is built from: queue.outbox
(arms), marts.fct_sends (sent, first human engagement) and marts.fct_orders (a counted
order within 3 days of the planned send time, for treated and holdout alike). Every
message whose planned send time has passed by the end of D counts; today's queue has no
outcome yet and is left out. The holdout is pooled per campaign: it is the control for every
variant. Interval: Newcombe's hybrid score (Wilson) interval for a difference of
proportions - see stats.py.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from rightsend.exports._db import fetch, has_table
from rightsend.exports._io import write_csv
from rightsend.exports.stats import newcombe_diff

COLUMNS = (
    "campaign_id",
    "variant",
    "queued",
    "sent",
    "engaged",
    "converted",
    "engagement_rate",
    "conversion_rate",
    "holdout",
    "holdout_converted",
    "holdout_conversion_rate",
    "lift_abs",
    "lift_ci_low",
    "lift_ci_high",
    "lift_rel",
    "ci_method",
)
CI_METHOD = "newcombe_wilson_95"
CONVERSION_DAYS = 3


def _arm_counts(con: duckdb.DuckDBPyConnection, run_date: str) -> list[tuple]:
    if not has_table(con, "queue.outbox"):
        return []
    sends = (
        "select message_id, bool_or(first_engaged_at is not null) as engaged from marts.fct_sends "
        "where message_id is not null group by 1"
        if has_table(con, "marts.fct_sends")
        else "select null::varchar as message_id, null::boolean as engaged where false"
    )
    converted = (
        f"""exists (select 1 from marts.fct_orders f where f.customer_id = m.customer_id
               and not coalesce(f.is_cancelled, false)
               and f.ordered_at >= m.send_at_utc and f.ordered_at < m.send_at_utc + interval {CONVERSION_DAYS} day)"""
        if has_table(con, "marts.fct_orders")
        else "false"
    )
    return fetch(
        con,
        f"""
        with m as (select * from queue.outbox
                   where queue_date <= $run_date::date and send_at_utc < $run_date::date + interval 1 day),
             s as ({sends})
        select m.campaign_id, coalesce(m.variant, '') as variant, m.is_holdout,
               count(*) as n, count(s.message_id) as sent,
               count(*) filter (where s.engaged) as engaged,
               count(*) filter (where {converted}) as converted
        from m left join s on s.message_id = m.message_id
        group by all order by 1, 2, 3
        """,
        {"run_date": run_date},
    )[1]


def _rate(x: int, n: int) -> float | None:
    return x / n if n else None


def result_rows(con: duckdb.DuckDBPyConnection, run_date: str) -> list[dict]:
    arms = _arm_counts(con, run_date)
    holdout: dict[str, list[int]] = {}
    for campaign, _variant, is_holdout, n, _sent, _engaged, conv in arms:
        if is_holdout:
            h = holdout.setdefault(campaign, [0, 0])
            h[0], h[1] = h[0] + n, h[1] + conv
    out = []
    for campaign, variant, is_holdout, n, sent, engaged, conv in arms:
        if is_holdout:
            continue
        hn, hconv = holdout.get(campaign, [0, 0])
        diff, low, high = newcombe_diff(conv, n, hconv, hn) if hn else (None, None, None)
        hrate = _rate(hconv, hn)
        crate = _rate(conv, n)
        out.append(
            {
                "campaign_id": campaign,
                "variant": variant,
                "queued": n,
                "sent": sent,
                "engaged": engaged,
                "converted": conv,
                "engagement_rate": _rate(engaged, sent),
                "conversion_rate": crate,
                "holdout": hn,
                "holdout_converted": hconv,
                "holdout_conversion_rate": hrate,
                "lift_abs": diff,
                "lift_ci_low": low,
                "lift_ci_high": high,
                "lift_rel": (crate / hrate - 1) if crate is not None and hrate else None,
                "ci_method": CI_METHOD if hn else "",
            }
        )
    return out


def export(con: duckdb.DuckDBPyConnection, run_date: str, out_dir: Path) -> tuple[int, list[dict]]:
    rows = result_rows(con, run_date)
    count = write_csv(out_dir / "campaign_results.csv", COLUMNS, ([r[c] for c in COLUMNS] for r in rows))
    return count, rows
