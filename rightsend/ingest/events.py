"""rightsend's own event feeds (JSON): push, storefront (web) and consent requests."""

from __future__ import annotations

from typing import Any

from rightsend.ingest import normalize as n
from rightsend.ingest.source import Source

PUSH_EVENTS = frozenset(
    {"device_registered", "device_unregistered", "send", "delivered", "open", "dismissed"}
)
WEB_EVENTS = frozenset(
    {"session_start", "product_view", "add_to_cart", "remove_from_cart", "checkout_started", "search"}
)
CONSENT_TYPES = frozenset({"opt_in", "opt_out", "erasure"})
CHANNELS = frozenset({"email", "sms", "push", "all"})


def _occurred(f: dict[str, Any]) -> Any:
    occurred = n.timestamp(f.get("occurred_at"), "occurred_at")
    if occurred is None:
        raise n.Reject("missing required field occurred_at")
    return occurred


def _push(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    platform = n.text(f.get("platform"))
    return (
        n.require(f.get("event_id"), "event_id"),
        n.one_of(f.get("event_type"), PUSH_EVENTS, "event_type", "unknown event type"),
        _occurred(f),
        n.text(f.get("customer_id")),
        n.email(f.get("email")),
        n.text(f.get("device_token")),
        platform.lower() if platform else None,  # unknown platforms are GE's to report
        n.text(f.get("timezone")),
        n.text(f.get("campaign_id")),
        n.text(f.get("message_id")),
    )


def _web(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    return (
        n.require(f.get("event_id"), "event_id"),
        n.one_of(f.get("event_type"), WEB_EVENTS, "event_type", "unknown event type"),
        _occurred(f),
        n.text(f.get("anonymous_id")),
        n.text(f.get("session_id")),
        n.text(f.get("customer_id")),
        n.email(f.get("email")),
        n.text(f.get("sku")),
        n.text(f.get("category")),
        n.amount(f.get("price"), "price"),
        n.text(f.get("timezone")),
    )


def _consent(f: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    request_id = n.require(f.get("request_id"), "request_id")
    request_type = n.one_of(f.get("type"), CONSENT_TYPES, "type", "unknown request type")
    occurred = _occurred(f)
    customer_id = n.text(f.get("customer_id"))
    email = n.email(f.get("email"))
    raw_phone = n.text(f.get("phone"))
    phone = n.phone(raw_phone)
    if raw_phone and not phone:
        state.setdefault("_invalid", {})["phone"] = raw_phone
    if not (customer_id or email or phone):
        raise n.Reject("missing identifier (customer_id, email or phone)")
    channel = n.text(f.get("channel"))
    if channel is not None:
        channel = channel.lower()
        if channel not in CHANNELS and request_type != "erasure":  # erasure ignores its channel
            raise n.Reject("unknown channel", f"channel={channel!r}")
    elif request_type != "erasure":
        raise n.Reject("missing required field channel")
    return (request_id, occurred, customer_id, email, phone, request_type, channel)


PUSH = Source(
    name="push",
    table="push_events",
    fmt="json",
    columns=(
        "event_id", "event_type", "occurred_at", "customer_id", "email", "device_token", "platform",
        "timezone", "campaign_id", "message_id",
    ),
    fields=(
        "event_id", "event_type", "occurred_at", "customer_id", "email", "device_token", "platform",
        "timezone", "campaign_id", "message_id",
    ),
    parse=_push,
    identifiers=(("customer_id", "customer_id"), ("email", "email"), ("device_token", "device_token")),
    links_identities=True,
)  # fmt: skip

WEB = Source(
    name="web",
    table="web_events",
    fmt="json",
    columns=(
        "event_id", "event_type", "occurred_at", "anonymous_id", "session_id", "customer_id", "email",
        "sku", "category", "price", "timezone",
    ),
    fields=(
        "event_id", "event_type", "occurred_at", "anonymous_id", "session_id", "customer_id", "email",
        "sku", "category", "price", "timezone",
    ),
    parse=_web,
    identifiers=(("customer_id", "customer_id"), ("email", "email"), ("anonymous_id", "anonymous_id")),
    links_identities=True,
)  # fmt: skip

CONSENT = Source(
    name="consent",
    table="consent_requests",
    fmt="json",
    columns=("request_id", "occurred_at", "customer_id", "email", "phone", "request_type", "channel"),
    fields=("request_id", "occurred_at", "customer_id", "email", "phone", "type", "channel"),
    parse=_consent,
    identifiers=(("customer_id", "customer_id"), ("email", "email"), ("phone", "phone")),
    links_identities=True,
)
