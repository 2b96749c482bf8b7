"""rightsend.dispatch: publish day D's outbox (holdout rows never) to a broker, once.

``run(settings, run_date)`` picks the transport from RIGHTSEND_BROKER_URL (unset/file://:
embedded JSONL files under out/broker/; redis://; amqp://) and records every published
message in queue.dispatch_log per small batch, so a crash followed by a re-run publishes
each message once (see transports.py for each broker's guarantee).

``run(..., bucket=b, buckets=n)`` publishes only the messages of the people in bucket b
(rightsend.buckets): the daily DAG maps dispatch over the buckets, and several bucket
tasks may publish at once (on the file broker they take turns on a file lock).
"""

from __future__ import annotations

from typing import Any

from rightsend.config import Settings


def run(
    settings: Settings,
    run_date: str,
    *,
    bucket: int | None = None,
    buckets: int | None = None,
    transport: Any = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    from rightsend.dispatch.core import dispatch

    return dispatch(
        settings, run_date, transport=transport, batch_size=batch_size, bucket=bucket, buckets=buckets
    )
