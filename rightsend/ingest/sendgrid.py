"""SendGrid Event Webhook: a JSON array per POST body, or one event per line."""

from __future__ import annotations

from typing import Any

from rightsend.ingest import normalize as n
from rightsend.ingest.source import Source

EVENTS = frozenset(
    {
        "processed", "dropped", "deferred", "delivered", "bounce", "open", "click", "spamreport",
        "unsubscribe", "group_unsubscribe", "group_resubscribe",
    }
)  # fmt: skip


def _categories(value: Any) -> list[str] | None:
    """``category`` is a string or an array of strings; always a list here."""
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return [c for c in (n.text(v) for v in value) if c is not None]
    return [n.text(value) or ""]


def _event(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    event_id = n.require(f.get("sg_event_id"), "sg_event_id")
    event = n.one_of(f.get("event"), EVENTS, "event", "unknown event type")
    occurred = n.unix_timestamp(f.get("timestamp"), "timestamp")
    if occurred is None:
        raise n.Reject("missing required field timestamp")
    return (
        event_id,
        n.email(f.get("email")),
        event,
        occurred,
        n.text(f.get("sg_message_id")),
        _categories(f.get("category")),
        n.text(f.get("url")),
        n.text(f.get("useragent")),
        n.text(f.get("ip")),
        n.text(f.get("reason")),
        n.text(f.get("type")),
        n.text(f.get("bounce_classification")),
        n.boolean(f.get("sg_machine_open"), "sg_machine_open"),
        n.text(f.get("campaign_id")),
        n.text(f.get("message_id")),
    )


EMAIL = Source(
    name="email",
    table="email_events",
    fmt="json",
    columns=(
        "sg_event_id", "email", "event", "occurred_at", "sg_message_id", "categories", "url",
        "useragent", "ip", "reason", "bounce_type", "bounce_classification", "sg_machine_open",
        "campaign_id", "message_id",
    ),
    fields=(
        "sg_event_id", "email", "event", "timestamp", "sg_message_id", "category", "url", "useragent",
        "ip", "reason", "type", "bounce_classification", "sg_machine_open", "campaign_id", "message_id",
    ),
    parse=_event,
    identifiers=(("email", "email"),),
)  # fmt: skip
