from datetime import datetime

import pytest

from rightsend.ingest import normalize as n
from rightsend.ingest.sendgrid import _categories
from rightsend.ingest.twilio import keyword


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-21T14:03:11Z", datetime(2026, 11, 21, 14, 3, 11)),
        ("2026-11-21T14:03:11.250+05:30", datetime(2026, 11, 21, 8, 33, 11, 250000)),
        ("2026-11-21 14:03:11 +0100", datetime(2026, 11, 21, 13, 3, 11)),  # Shopify
        ("Sat, 21 Nov 2026 14:03:11 +0000", datetime(2026, 11, 21, 14, 3, 11)),  # Twilio RFC 2822
        ("Sat, 21 Nov 2026 09:03:11 -0500", datetime(2026, 11, 21, 14, 3, 11)),
        ("2026-11-21T14:03:11", datetime(2026, 11, 21, 14, 3, 11)),  # no offset: taken as UTC
    ],
)
def test_timestamps_become_naive_utc(raw: str, expected: datetime) -> None:
    assert n.timestamp(raw, "t") == expected


def test_unix_seconds_and_bad_timestamps() -> None:
    assert n.unix_timestamp(1795269791, "timestamp") == datetime(2026, 11, 21, 14, 3, 11)
    assert n.unix_timestamp("1795269791", "timestamp") == datetime(2026, 11, 21, 14, 3, 11)
    for bad in ("soon", "2026-13-01T00:00:00Z", "Sat, 99 Nov 2026 10:00:00 +0000"):
        with pytest.raises(n.Reject, match="bad timestamp in t"):
            n.timestamp(bad, "t")
    with pytest.raises(n.Reject, match="bad timestamp in timestamp"):
        n.unix_timestamp(1e20, "timestamp")


def test_phones_to_e164(monkeypatch: pytest.MonkeyPatch) -> None:
    assert n.phone("(415) 555-0101", "US") == "+14155550101"
    assert n.phone("020 7946 0958", "GB") == "+442079460958"
    assert n.phone("+44 20 7946 0958", "US") == "+442079460958"  # international wins over region
    assert n.phone("not a phone", "US") is None
    monkeypatch.setenv("RIGHTSEND_DEFAULT_COUNTRY", "GB")
    assert n.phone("020 7946 0958") == "+442079460958"
    monkeypatch.delenv("RIGHTSEND_DEFAULT_COUNTRY")
    assert n.phone("415 555 0101") == "+14155550101"


def test_emails_amounts_flags() -> None:
    assert n.email("  Ann@Example.COM ") == "ann@example.com"
    assert n.email("   ") is None
    assert n.amount("12.50", "p") == "12.50"
    with pytest.raises(n.Reject, match="negative amount in p"):
        n.amount("-1", "p")
    with pytest.raises(n.Reject, match="bad number in p"):
        n.amount("12,50", "p")
    assert n.boolean("YES", "f") is True and n.boolean("false", "f") is False
    assert n.boolean("", "f") is None


@pytest.mark.parametrize(
    ("body", "direction", "expected"),
    [
        (" stop ", "inbound", "opt_out"),
        ("StopAll", "inbound", "opt_out"),
        ("unsubscribe", "inbound", "opt_out"),
        ("Cancel", "inbound", "opt_out"),
        ("END", "inbound", "opt_out"),
        ("quit\n", "inbound", "opt_out"),
        ("start", "inbound", "opt_in"),
        ("UNSTOP", "inbound", "opt_in"),
        ("Yes", "inbound", "opt_in"),
        ("stop it please", "inbound", None),
        ("STOP", "outbound-api", None),
    ],
)
def test_twilio_keywords(body: str, direction: str, expected: str | None) -> None:
    assert keyword(direction, body) == expected


def test_sendgrid_category_string_or_array() -> None:
    assert _categories("promo") == ["promo"]
    assert _categories(["promo", "winter"]) == ["promo", "winter"]
    assert _categories(None) is None
