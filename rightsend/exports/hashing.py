"""Normalise and hash identifiers: ad-platform audiences and erasure tombstones.

Audiences follow Meta's customer-list rules (also accepted by Google Customer Match for
email): email trimmed and lower-cased; phone in E.164 with the leading '+' removed, digits
only (Meta's documented form; Google wants the '+' kept, so this file is Meta-first).
Both are hex SHA-256 of the UTF-8 string.

Tombstones (ops.erasure_tombstones) are ``sha256(type || ':' || normalised value)`` with
types ``email``, ``phone`` (E.164 with '+'), ``customer_id`` (Shopify id), ``device_token``.
"""

from __future__ import annotations

import hashlib
import re

from rightsend.ingest.erasure import identifier_hash

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_email(email: str | None) -> str | None:
    text = (email or "").strip().lower()
    return text if "@" in text else None


def normalise_phone_e164(phone: str | None) -> str | None:
    """E.164 with '+', separators removed; None when the country code is unknown."""
    text = re.sub(r"[\s\-().]", "", phone or "")
    return text if _E164.match(text) else None


def audience_email_hash(email: str | None) -> str | None:
    norm = normalise_email(email)
    return sha256_hex(norm) if norm else None


def audience_phone_hash(phone: str | None) -> str | None:
    norm = normalise_phone_e164(phone)
    return sha256_hex(norm[1:]) if norm else None


def tombstone_hash(identifier_type: str, value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if identifier_type == "email":
        text = text.lower()
    elif identifier_type == "phone":
        text = normalise_phone_e164(text) or text
    return identifier_hash(identifier_type, text)
