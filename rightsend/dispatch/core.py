"""Outbox -> broker, idempotent by message_id: publish a batch, then record it in
queue.dispatch_log; messages already in the log are never handed to the broker again."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pandas as pd

from rightsend.buckets import in_bucket_sql, resolve
from rightsend.config import Settings
from rightsend.decide.io import contract_frame, ensure_queue_tables
from rightsend.decide.rules import RULES_PATH, load_dispatch_config
from rightsend.dispatch.transports import ENV_BROKER_URL, Message, Transport, make_transport
from rightsend.warehouse import connect


def pending_messages(
    con: Any, run_date: dt.date, part: tuple[int, int] | None = None
) -> tuple[list[Message], int]:
    """(messages of queue date D not yet in dispatch_log, count already logged); with
    ``part`` = (bucket, n), only those of the people in that bucket."""
    in_bucket = in_bucket_sql("o.customer_id", *part) if part else "true"
    rows = con.execute(
        f"""
        select o.*, d.message_id is not null as _done
        from queue.outbox o left join queue.dispatch_log d using (message_id)
        where o.queue_date = ? and not o.is_holdout and {in_bucket}
        order by o.send_at_utc, o.message_id
        """,
        [run_date],
    ).df()
    done = int(rows["_done"].sum()) if len(rows) else 0
    todo = rows[~rows["_done"].astype(bool)]
    payload = contract_frame(todo)
    payload["queue_date"] = run_date.isoformat()
    payload["p_engage"] = payload["p_engage"].astype(object).where(payload["p_engage"].notna(), None)
    records = payload.astype(object).where(payload.notna(), None).to_dict("records")
    return records, done


def dispatch(
    settings: Settings,
    run_date: str,
    transport: Transport | None = None,
    batch_size: int | None = None,
    bucket: int | None = None,
    buckets: int | None = None,
) -> dict[str, Any]:
    part = resolve(bucket, buckets)
    cfg = load_dispatch_config(RULES_PATH)
    batch = batch_size or cfg.batch_size
    day = dt.date.fromisoformat(run_date)
    own = transport is None
    with connect(settings) as con:
        ensure_queue_tables(con)
        todo, logged = pending_messages(con, day, part)
        if transport is None:
            transport = make_transport(
                os.environ.get(ENV_BROKER_URL), settings.output_dir / "broker",
                cfg.redis_stream, cfg.redis_published_set, cfg.amqp_queue,
            )  # fmt: skip
        published = duplicates = 0
        try:
            for start in range(0, len(todo), batch):
                outcomes = transport.publish(todo[start : start + batch])
                log = pd.DataFrame(
                    {
                        "message_id": [o.message_id for o in outcomes],
                        "transport": transport.name,
                        "published_at": pd.Timestamp.now(tz="UTC").tz_localize(None),  # audit only
                        "queue_date": day,
                        "broker_ref": [o.broker_ref for o in outcomes],
                    }
                )
                con.register("_published", log)
                con.execute(
                    "insert into queue.dispatch_log (message_id, transport, published_at, queue_date, broker_ref)"
                    " select * from _published on conflict do nothing"
                )
                con.unregister("_published")
                published += sum(o.new for o in outcomes)
                duplicates += sum(not o.new for o in outcomes)
        finally:
            if own:
                transport.close()
    return {
        "published": published,
        "already_published": logged + duplicates,
        "transport": transport.name,
        "messages": logged + len(todo),
    }
