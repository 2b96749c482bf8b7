"""What the pure decision core reads: plain DataFrames, normalised once (UTC-aware times).

The I/O layer fills these from marts.*, ml.send_scores, queue.outbox and ops; tests build
them by hand. Column names follow docs/architecture.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

CUSTOMER_COLUMNS = [
    "customer_id", "source_customer_id", "email", "phone", "push_device_token", "country_code",
    "timezone", "has_email_consent", "has_sms_consent", "has_push_consent", "is_email_deliverable",
    "has_spam_complaint", "is_email_reachable", "is_sms_reachable", "is_push_reachable",
    "rfm_segment", "lifecycle_state", "created_at", "first_order_at", "last_web_activity_at",
]  # fmt: skip
WEB_COLUMNS = ["customer_id", "event_type", "occurred_at", "sku", "category"]
ORDER_LINE_COLUMNS = [
    "order_id",
    "customer_id",
    "ordered_at",
    "sku",
    "product_name",
    "category",
    "quantity",
    "is_cancelled",
]
PRODUCT_COLUMNS = [
    "sku", "title", "category", "price", "previous_price", "inventory_qty", "is_published", "is_price_drop",
]  # fmt: skip
SCORE_COLUMNS = [
    "customer_id", "channel", "best_local_hour", "p_engage", "p_by_hour", "channel_rank", "reason", "model_version",
]  # fmt: skip
HISTORY_COLUMNS = [
    "queue_date", "customer_id", "campaign_id", "channel", "send_at_utc", "send_at_local",
    "is_holdout", "sku", "tags", "counts_toward_caps",
]  # fmt: skip
ENGAGEMENT_COLUMNS = [
    "customer_id",
    "channel",
    "sends_30d",
    "engagements_30d",
    "sends_90d",
    "engagements_90d",
]
EVENT_COLUMNS = ["customer_id", "channel", "event_type", "occurred_at"]
TOMBSTONE_COLUMNS = ["identifier_hash", "identifier_type"]

TIME_COLUMNS = {
    "created_at",
    "first_order_at",
    "last_web_activity_at",
    "occurred_at",
    "ordered_at",
    "send_at_utc",
}


def _frame(df: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """Only the contract columns (missing ones as nulls), times as UTC-aware timestamps."""
    df = pd.DataFrame(columns=columns) if df is None else df.copy()
    for col in columns:
        if col not in df.columns:
            df[col] = None
    df = df[columns]
    for col in TIME_COLUMNS & set(columns):
        df[col] = pd.to_datetime(df[col], utc=True)
    for col in ("customer_id", "sku", "source_customer_id"):
        if col in df.columns:
            df[col] = df[col].astype("string")
    return df.reset_index(drop=True)


@dataclass
class DecisionInputs:
    run_date: dt.date
    customers: pd.DataFrame
    web_events: pd.DataFrame | None = None
    order_lines: pd.DataFrame | None = None
    products: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    history: pd.DataFrame | None = None  # queue.outbox rows of earlier queue dates
    engagement: pd.DataFrame | None = None  # marts.mart_customer_channel_engagement
    message_events: pd.DataFrame | None = None  # marts.fct_message_events
    tombstones: pd.DataFrame | None = None  # ops.erasure_tombstones
    normalised: bool = field(default=False, repr=False)

    def normalise(self) -> DecisionInputs:
        if self.normalised:
            return self
        return DecisionInputs(
            run_date=pd.Timestamp(self.run_date).date(),
            customers=_frame(self.customers, CUSTOMER_COLUMNS),
            web_events=_frame(self.web_events, WEB_COLUMNS),
            order_lines=_frame(self.order_lines, ORDER_LINE_COLUMNS),
            products=_frame(self.products, PRODUCT_COLUMNS),
            scores=_frame(self.scores, SCORE_COLUMNS),
            history=_frame(self.history, HISTORY_COLUMNS),
            engagement=_frame(self.engagement, ENGAGEMENT_COLUMNS),
            message_events=_frame(self.message_events, EVENT_COLUMNS),
            tombstones=_frame(self.tombstones, TOMBSTONE_COLUMNS),
            normalised=True,
        )

    @property
    def now(self) -> pd.Timestamp:
        """Decision time: the end of day D in UTC (exclusive bound: D+1 00:00)."""
        return pd.Timestamp(self.run_date, tz="UTC") + pd.Timedelta(days=1)

    @property
    def send_day(self) -> dt.date:
        return self.run_date + dt.timedelta(days=1)
