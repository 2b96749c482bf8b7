"""The nine landing sources, in load order."""

from __future__ import annotations

from rightsend.ingest.events import CONSENT, PUSH, WEB
from rightsend.ingest.sendgrid import EMAIL
from rightsend.ingest.shopify import CATALOG, CUSTOMERS, ORDERS
from rightsend.ingest.source import Source
from rightsend.ingest.twilio import SMS, SMS_CLICKS

SOURCES: dict[str, Source] = {
    s.name: s for s in (CUSTOMERS, ORDERS, CATALOG, EMAIL, SMS, SMS_CLICKS, PUSH, WEB, CONSENT)
}
