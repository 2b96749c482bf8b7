"""Every source in its real vendor format, with the usual mess (see tests/fixtures/landing/good)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from rightsend.config import Settings
from rightsend.ingest import run

RUN_DATE = "2026-11-20"
Query = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory, make_landing: Callable
) -> tuple[Settings, dict[str, Any]]:
    settings = make_landing(tmp_path_factory.mktemp("parsers"), "good")  # loaded once, read only
    return settings, run(settings, RUN_DATE)


def test_every_source_loads_completely(loaded: tuple[Settings, dict[str, Any]], counts: Callable) -> None:
    settings, summary = loaded
    assert counts(settings) == {
        "customers": 4, "orders": 4, "catalog": 4, "email_events": 9, "sms_messages": 5,
        "sms_clicks": 2, "push_events": 4, "web_events": 4, "consent_requests": 2,
    }  # fmt: skip
    assert len(summary["files"]["loaded"]) == 10
    assert summary["files"]["failed"] == [] and summary["files"]["changed"] == []
    assert sum(r["quarantined"] for r in summary["rows"].values()) == 0
    json.dumps(summary)  # goes to summary.json as is


def test_shopify_customers_bom_reordered_extra_multiline(
    loaded: tuple[Settings, dict[str, Any]], query: Query
) -> None:
    settings, _ = loaded
    rows = query(
        settings,
        "select customer_id, email, phone, accepts_email_marketing, accepts_sms_marketing, country_code, "
        "total_spent, created_at, _line, _extra from raw.customers order by customer_id",
    )
    assert rows == [
        ("1001", "ann@example.com", "+14155550101", True, True, "US", Decimal("120.50"),
         datetime(2025, 3, 1, 18, 0), 2, None),
        ("1002", "bob@example.co.uk", "+442079460958", False, False, "GB", Decimal("0.00"),
         datetime(2025, 4, 2, 8, 30), 3, '{"Note": "likes tea,\\nprefers email"}'),
        # the record after a two-line quoted field starts on physical line 5
        ("1003", "cara@example.com", "+12125550199", True, False, "US", Decimal("35.00"),
         datetime(2025, 5, 5, 12, 0), 5, None),
        ("1004", "dan@example.com", None, False, False, "US", Decimal("0.00"), None, 6, None),
    ]  # fmt: skip


def test_shopify_orders_gzip_and_blank_order_fields(
    loaded: tuple[Settings, dict[str, Any]], query: Query
) -> None:
    settings, _ = loaded
    rows = query(
        settings,
        "select order_id, financial_status, created_at, phone, total, lineitem_sku, _line "
        "from raw.orders order by _line",
    )
    assert rows == [
        ("5001", "paid", datetime(2026, 11, 17, 13, 3, 11), "+14155550101", Decimal("90.00"), "SKU-SHOE-1", 2),
        ("5001", None, datetime(2026, 11, 17, 13, 3, 11), None, None, "SKU-SOCK-1", 3),  # dbt fills these
        ("5002", "partially_refunded", datetime(2026, 11, 18, 1, 0), "+12125550199", Decimal("35.00"), "SKU-CAP-1", 4),
        ("5003", "voided", datetime(2026, 11, 17, 8, 0), None, Decimal("20.00"), "SKU-SOCK-1", 5),
    ]  # fmt: skip


def test_shopify_catalog_rows_inherit_title_type_published(
    loaded: tuple[Settings, dict[str, Any]], query: Query
) -> None:
    settings, _ = loaded
    rows = query(
        settings,
        "select handle, title, product_type, variant_sku, variant_price, variant_inventory_qty, published, _line "
        "from raw.catalog order by _line",
    )
    assert rows == [
        ("trail-shoe", "Trail Shoe", "Shoes", "SKU-SHOE-1", Decimal("60.00"), 12, True, 2),
        ("trail-shoe", "Trail Shoe", "Shoes", "SKU-SHOE-2", Decimal("60.00"), -1, True, 4),
        ("trail-shoe", "Trail Shoe", "Shoes", None, None, None, True, 5),  # image-only row
        ("wool-sock", "Wool Sock", "Socks", "SKU-SOCK-1", Decimal("9.50"), 100, False, 6),
    ]


def test_sendgrid_array_and_lines_machine_opens_redeliveries(
    loaded: tuple[Settings, dict[str, Any]], query: Query
) -> None:
    settings, _ = loaded
    rows = query(
        settings,
        "select sg_event_id, email, event, occurred_at, categories, sg_machine_open, bounce_type, _file, _line "
        "from raw.email_events order by _file, _line",
    )
    batch, lines = "email/dt=2026-11-18/sendgrid_batch.json", "email/dt=2026-11-19/sendgrid_lines.ndjson"
    assert rows == [
        ("ev-1", "ann@example.com", "processed", datetime(2026, 11, 17, 10, 0), ["promo"], None, None, batch, 1),
        ("ev-2", "ann@example.com", "delivered", datetime(2026, 11, 17, 10, 1), ["promo", "winter"], None, None, batch, 2),
        ("ev-3", "ann@example.com", "open", datetime(2026, 11, 17, 10, 1, 40), None, True, None, batch, 3),
        ("ev-4", "ann@example.com", "open", datetime(2026, 11, 17, 11, 0), None, False, None, batch, 4),
        ("ev-5", "ann@example.com", "click", datetime(2026, 11, 17, 11, 1, 40), None, None, None, batch, 5),
        ("ev-5", "ann@example.com", "click", datetime(2026, 11, 17, 11, 1, 40), None, None, None, batch, 6),
        ("ev-6", "bob@example.co.uk", "bounce", datetime(2026, 11, 18, 10, 0), None, None, "bounce", lines, 1),
        ("ev-7", "cara@example.com", "group_unsubscribe", datetime(2026, 11, 18, 10, 1, 40), None, None, None, lines, 3),
        ("ev-5", "ann@example.com", "click", datetime(2026, 11, 17, 11, 1, 40, 500000), None, None, None, lines, 4),
    ]  # fmt: skip
    extra = query(settings, "select _extra from raw.email_events where sg_event_id = 'ev-7'")
    assert json.loads(extra[0][0]) == {"asm_group_id": 42}


def test_twilio_messages_rfc2822_and_stop_start(
    loaded: tuple[Settings, dict[str, Any]], query: Query
) -> None:
    settings, _ = loaded
    rows = query(
        settings,
        "select sid, from_number, to_number, status, sent_at, direction, price, keyword, _line "
        "from raw.sms_messages order by _line",
    )
    assert rows == [
        ("SM001", "+15005550006", "+14155550101", "sent", datetime(2026, 11, 17, 18, 0), "outbound-api",
         Decimal("-0.00790"), None, 2),
        ("SM001", "+15005550006", "+14155550101", "delivered", datetime(2026, 11, 17, 18, 0, 5), "outbound-api",
         Decimal("-0.00790"), None, 4),
        ("SM002", "+14155550101", "+15005550006", "received", datetime(2026, 11, 17, 19, 0), "inbound",
         Decimal("-0.00790"), "opt_out", 6),
        ("SM003", "+12125550199", "+15005550006", "received", datetime(2026, 11, 17, 20, 0), "inbound",
         None, "opt_in", 7),
        ("SM004", "+15005550006", "+12125550199", "undelivered", datetime(2026, 11, 18, 3, 0), "outbound-api",
         None, None, 8),
    ]  # fmt: skip


def test_json_event_feeds(loaded: tuple[Settings, dict[str, Any]], query: Query) -> None:
    settings, _ = loaded
    assert query(settings, "select to_number, clicked_at from raw.sms_clicks order by _line") == [
        ("+14155550101", datetime(2026, 11, 17, 18, 10)),
        ("+12125550199", datetime(2026, 11, 18, 3, 10)),
    ]
    assert query(
        settings, "select event_id, customer_id, email, platform from raw.push_events order by _line"
    ) == [
        ("p1", "1001", "ann@example.com", "ios"),
        ("p2", "1001", None, "ios"),
        ("p3", None, None, "ios"),
        ("p4", "1003", None, "android"),
    ]
    assert query(
        settings, "select event_id, customer_id, email, price, _line, _dt from raw.web_events order by _line"
    ) == [
        ("w1", None, None, None, 1, date(2026, 11, 18)),
        ("w2", "1001", "ann@example.com", Decimal("60.00"), 2, date(2026, 11, 18)),
        ("w3", None, None, Decimal("60.00"), 3, date(2026, 11, 18)),
        ("w4", None, None, None, 4, date(2026, 11, 18)),
    ]
    assert query(settings, "select request_id, occurred_at, email, phone, request_type, channel from raw.consent_requests order by 1") == [
        ("r1", datetime(2026, 11, 18, 9, 0), "cara@example.com", None, "opt_out", "email"),
        ("r2", datetime(2026, 11, 18, 14, 30), None, "+12125550199", "opt_in", "sms"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 123456789012345678901234567890}', '{"a": 1e400}', '{"a": 1, "a": 2}', '{"a": -0.0}',
        '{"a": NaN}', '{"a": -Infinity}', '{"a": "\\ud800"}', '{"a": 1.5e-400}', '{"a": 0.1}',
        '{"a": "\\u0000", "b": "é"}', '[{"a": 1}, {"b": [true, null]}]', '[1,]', '{"a": 1,}',
        '{"a": "x\x01"}', '{"a": 01}', '{"a": .5}', "{'a': 1}", '{"a": tru}', '{"a": 1} x', '{"a": 1}{}',
    ],
)  # fmt: skip
def test_fast_json_decode_is_json_loads(text: str) -> None:
    """The msgspec fast path parses exactly what json.loads parses, to the same values."""
    from rightsend.ingest.reading import _decode

    try:
        expected: Any = ("ok", json.loads(text))
    except ValueError:
        expected = ("malformed", None)
    try:
        got: Any = ("ok", _decode(text))
    except ValueError:
        got = ("malformed", None)
    assert repr(got) == repr(expected)  # repr: NaN != NaN, and -0.0 == 0.0


@pytest.mark.parametrize(
    "extra",
    [
        {"response": "250 OK"}, {"Export Batch": "b6462", "Vendor": "Atelier Nord"},
        {"note": 'quote " backslash \\ tab \t newline \n é \u2028 \ud800 \x00'}, {"": ""},
        {"app_version": 4}, {"tls": True, "x": "y"}, {"a": None}, {"a": 1.5, "b": "x"},
        {"a": ["x", 1]}, {"a": {"b": "c"}}, {"a": float("nan")}, {"a": 10**30},
    ],
)  # fmt: skip
def test_extra_json_is_json_dumps(extra: dict[str, Any]) -> None:
    """_extra's fast spelling is json.dumps' own, text for text, whatever the values."""
    from rightsend.ingest.parse import extra_json

    assert extra_json(extra) == json.dumps(extra, ensure_ascii=False, default=str)
