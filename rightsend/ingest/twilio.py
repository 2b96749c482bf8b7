"""Twilio: message log export (CSV) and link-shortening click events (JSON lines)."""

from __future__ import annotations

from typing import Any

from rightsend.ingest import normalize as n
from rightsend.ingest.source import Source

STATUSES = frozenset({"queued", "sent", "delivered", "undelivered", "failed", "received"})
DIRECTIONS = frozenset({"outbound-api", "outbound-call", "inbound"})
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})


def keyword(direction: str, body: str | None) -> str | None:
    """Twilio's standard opt-out / opt-in replies (any case, trimmed), inbound only."""
    if direction != "inbound" or not body:
        return None
    word = body.strip().upper()
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    return None


def _number(value: Any) -> str | None:
    # Short codes and alphanumeric sender ids are not phone numbers: keep them as sent.
    return n.phone(value) or n.text(value)


def _message(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    sid = n.require(f.get("sid"), "Sid")
    status = n.one_of(f.get("status"), STATUSES, "Status", "unknown status")
    direction = n.one_of(f.get("direction"), DIRECTIONS, "Direction", "unknown direction")
    body = f.get("body")
    body = body if body not in (None, "") else None
    return (
        sid,
        _number(f.get("from")),
        _number(f.get("to")),
        body,
        status,
        n.timestamp(f.get("sentdate"), "SentDate"),
        direction,
        n.integer(f.get("numsegments"), "NumSegments", allow_negative=False),
        n.text(f.get("errorcode")),
        n.amount(f.get("price"), "Price", allow_negative=True),  # Twilio bills as negative prices
        n.text(f.get("priceunit")),
        keyword(direction, body),
    )


def _click(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    event_type = n.one_of(f.get("event_type"), frozenset({"click"}), "event_type", "unknown event type")
    clicked = n.timestamp(f.get("click_time"), "click_time")
    if clicked is None:
        raise n.Reject("missing required field click_time")
    return (
        event_type,
        n.text(f.get("sms_sid")),
        _number(f.get("to")),
        _number(f.get("from")),
        n.text(f.get("link")),
        clicked,
        n.text(f.get("user_agent")),
        n.text(f.get("messaging_service_sid")),
        n.text(f.get("account_sid")),
    )


SMS = Source(
    name="sms",
    table="sms_messages",
    fmt="csv",
    columns=(
        "sid", "from_number", "to_number", "body", "status", "sent_at", "direction", "num_segments",
        "error_code", "price", "price_unit", "keyword",
    ),
    fields=(
        "Sid", "From", "To", "Body", "Status", "SentDate", "Direction", "NumSegments", "ErrorCode",
        "Price", "PriceUnit",
    ),
    required=("Sid", "From", "To", "Body", "Status", "SentDate", "Direction"),
    parse=_message,
    identifiers=(("from_number", "phone"), ("to_number", "phone")),
)  # fmt: skip

SMS_CLICKS = Source(
    name="sms_clicks",
    table="sms_clicks",
    fmt="json",
    columns=(
        "event_type", "sms_sid", "to_number", "from_number", "link", "clicked_at", "user_agent",
        "messaging_service_sid", "account_sid",
    ),
    fields=(
        "event_type", "sms_sid", "to", "from", "link", "click_time", "user_agent",
        "messaging_service_sid", "account_sid",
    ),
    parse=_click,
    identifiers=(("to_number", "phone"), ("from_number", "phone")),
)  # fmt: skip
