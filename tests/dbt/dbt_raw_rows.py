"""Hand-built raw.* rows for the dbt tests: a tiny world whose answers are known.

People (run_date 2026-11-20):
- alice  (Shopify 1001): email + phone, push device with a time zone, orders, human and machine opens.
- bob    (Shopify 1002): a web visitor (anon-bob) who browses anonymously, then logs in.
- carol  (Shopify 1003): orders by phone only (no email), replies STOP, browser time zone.
- dave   (Shopify 1004): erased - every identifier is tombstoned.
- erin   (Shopify 1005): shares carol's phone on an older row (conflict: carol keeps it).
- guest@example.com: a guest checkout, no Shopify customer.
"""

from __future__ import annotations

import hashlib

RUN_DATE = "2026-11-20"

LINEAGE = ("_file", "_line", "_dt", "_loaded_at")


def sha(identifier_type: str, value: str) -> str:
    return hashlib.sha256(f"{identifier_type}:{value}".encode()).hexdigest()


# The tables below read as tables: one row per line.
# fmt: off

CUSTOMERS = [
    # customer_id, first, last, email, acc_email, phone, acc_sms, city, prov, country, created_at, dt, file, line
    ("1001", "Alicia", "Old", "alice@example.com", False, "+14155550101", False, "SF", "CA", "US", "2025-01-05 10:00:00", "2026-11-10", "customers/dt=2026-11-10/a.csv", 1),
    ("1001", "Alice", "Able", "alice@example.com", True, "+14155550101", True, "SF", "CA", "US", "2025-01-05 10:00:00", "2026-11-18", "customers/dt=2026-11-18/a.csv", 1),
    ("1002", "Bob", "Baker", "bob@example.com", False, None, False, "London", None, "GB", "2025-03-01 09:00:00", "2026-11-18", "customers/dt=2026-11-18/a.csv", 2),
    ("1003", "Carol", "Cole", "carol@example.com", True, "+14165550103", True, "Toronto", "ON", "CA", "2025-04-01 09:00:00", "2026-11-18", "customers/dt=2026-11-18/a.csv", 3),
    ("1004", "Dave", "Dunn", "dave@example.com", True, "+14155550104", True, "Austin", "TX", "US", "2025-05-01 09:00:00", "2026-11-18", "customers/dt=2026-11-18/a.csv", 4),
    ("1005", "Erin", "Eve", "erin@example.com", True, "+14165550103", False, "Ottawa", "ON", "CA", "2025-06-01 09:00:00", "2026-11-12", "customers/dt=2026-11-12/a.csv", 1),
]

ORDERS = [
    # order_id, name, email, phone, status, created, cancelled, subtotal, discount, total, refunded, qty, item, price, sku, dt, file, line
    ("5001", "#5001", "alice@example.com", None, "paid", "2026-11-01 12:00:00", None, 100, 0, 100, 0, 1, "Mug", 60, "SKU-MUG", "2026-11-01", "orders/dt=2026-11-01/o.csv", 1),
    ("5001", None, "alice@example.com", None, None, "2026-11-01 12:00:00", None, None, None, None, None, 2, "Tea", 20, "SKU-TEA", "2026-11-01", "orders/dt=2026-11-01/o.csv", 2),
    ("5002", "#5002", "alice@example.com", None, "voided", "2026-11-03 12:00:00", None, 50, 0, 50, 0, 1, "Mug", 50, "SKU-MUG", "2026-11-03", "orders/dt=2026-11-03/o.csv", 1),
    ("5003", "#5003", None, "+14165550103", "partially_refunded", "2026-10-20 08:00:00", None, 80, 0, 80, 20, 4, "Tea", 20, "SKU-TEA", "2026-10-20", "orders/dt=2026-10-20/o.csv", 1),
    ("5004", "#5004", "dave@example.com", "+14155550104", "paid", "2026-11-02 08:00:00", None, 30, 0, 30, 0, 1, "Tea", 30, "SKU-TEA", "2026-11-02", "orders/dt=2026-11-02/o.csv", 1),
    ("5005", "#5005", "guest@example.com", None, "paid", "2026-06-01 08:00:00", None, 40, 0, 40, 0, 2, "Tea", 20, "SKU-TEA", "2026-06-01", "orders/dt=2026-06-01/o.csv", 1),
    ("5006", "#5006", "bob@example.com", None, "partially_refunded", "2026-10-15 23:30:00", None, 200, 0, 200, 50, 1, "Lamp", 200, "SKU-LAMP", "2026-10-15", "orders/dt=2026-10-15/o.csv", 1),
    ("5007", "#5007", "alice@example.com", None, "paid", "2026-11-19 18:00:00", None, 60, 0, 60, 0, 1, "Mug", 60, "SKU-MUG", "2026-11-19", "orders/dt=2026-11-19/o.csv", 1),
    ("5008", "#5008", "alice@example.com", None, "paid", "2026-09-10 10:00:00", "2026-09-11 10:00:00", 70, 0, 70, 0, 1, "Lamp", 70, "SKU-LAMP", "2026-09-10", "orders/dt=2026-09-10/o.csv", 1),
    ("5009", "#5009", "carol@example.com", None, "paid", "2025-08-10 10:00:00", None, 25, 0, 25, 0, 1, "Tea", 25, "SKU-TEA", "2025-08-10", "orders/dt=2025-08-10/o.csv", 1),
]

CATALOG = [
    # handle, title, type, sku, price, compare, qty, published, dt, file, line
    ("mug", "Mug", "Kitchen", "SKU-MUG", 60, None, 10, True, "2026-11-19", "catalog/dt=2026-11-19/c.csv", 1),
    ("tea", "Tea", "Pantry", "SKU-TEA", 20, None, 50, True, "2026-11-19", "catalog/dt=2026-11-19/c.csv", 2),
    ("lamp", "Lamp", "Home", "SKU-LAMP", 200, None, 3, True, "2026-11-19", "catalog/dt=2026-11-19/c.csv", 3),
    ("mug", "Mug", "Kitchen", "SKU-MUG", 55, 60, 10, True, "2026-11-20", "catalog/dt=2026-11-20/c.csv", 1),
    ("tea", None, None, "SKU-TEA", 20, None, 50, None, "2026-11-20", "catalog/dt=2026-11-20/c.csv", 2),
    ("lamp", "Lamp", "Home", "SKU-LAMP", 210, None, 3, True, "2026-11-20", "catalog/dt=2026-11-20/c.csv", 3),
]

EMAIL = [
    # sg_event_id, email, event, occurred_at, sg_message_id, machine_open, bounce_type, campaign, message_id, dt, file, line
    ("e1", "alice@example.com", "processed", "2026-11-16 15:00:00", "m1.filter0", None, None, "welcome", "msg-1", "2026-11-16", "email/dt=2026-11-16/a.json", 1),
    ("e2", "alice@example.com", "delivered", "2026-11-16 15:00:05", "m1.filter0", None, None, "welcome", "msg-1", "2026-11-16", "email/dt=2026-11-16/a.json", 2),
    ("e3", "alice@example.com", "open", "2026-11-16 15:01:00", "m1.filter0", True, None, "welcome", "msg-1", "2026-11-16", "email/dt=2026-11-16/a.json", 3),
    ("e4", "alice@example.com", "open", "2026-11-16 18:30:00", "m1.filter0", False, None, "welcome", "msg-1", "2026-11-16", "email/dt=2026-11-16/a.json", 4),
    ("e4", "alice@example.com", "open", "2026-11-16 18:30:00", "m1.filter0", False, None, "welcome", "msg-1", "2026-11-17", "email/dt=2026-11-17/redelivered.json", 1),
    ("e5", "alice@example.com", "click", "2026-11-16 18:31:00", "m1.filter0", None, None, "welcome", "msg-1", "2026-11-16", "email/dt=2026-11-16/a.json", 5),
    ("e6", "bob@example.com", "processed", "2026-11-16 15:00:00", "m2.filter0", None, None, "welcome", "msg-2", "2026-11-16", "email/dt=2026-11-16/a.json", 6),
    ("e7", "bob@example.com", "delivered", "2026-11-16 15:00:05", "m2.filter0", None, None, "welcome", "msg-2", "2026-11-16", "email/dt=2026-11-16/a.json", 7),
    ("e8", "bob@example.com", "open", "2026-11-16 15:00:30", "m2.filter0", True, None, "welcome", "msg-2", "2026-11-16", "email/dt=2026-11-16/a.json", 8),
    ("e9", "dave@example.com", "processed", "2026-11-16 15:00:00", "m3.filter0", None, None, "welcome", "msg-3", "2026-11-16", "email/dt=2026-11-16/a.json", 9),
    ("e10", "dave@example.com", "open", "2026-11-16 16:00:00", "m3.filter0", False, None, "welcome", "msg-3", "2026-11-16", "email/dt=2026-11-16/a.json", 10),
    ("e11", "bob@example.com", "bounce", "2026-11-17 09:00:00", "m4.filter0", None, "bounce", None, None, "2026-11-17", "email/dt=2026-11-17/a.json", 1),
]

SMS = [
    # sid, from, to, body, status, sent_at, direction, keyword, dt, file, line
    ("SM1", "+15005550006", "+14165550103", "Sale!", "sent", "2026-11-15 14:00:00", "outbound-api", None, "2026-11-15", "sms/dt=2026-11-15/s.csv", 1),
    ("SM1", "+15005550006", "+14165550103", "Sale!", "delivered", "2026-11-15 14:00:00", "outbound-api", None, "2026-11-16", "sms/dt=2026-11-16/s.csv", 1),
    ("SM2", "+14165550103", "+15005550006", " stop ", "received", "2026-11-19 10:00:00", "inbound", "opt_out", "2026-11-19", "sms/dt=2026-11-19/s.csv", 1),
    ("SM3", "+15005550006", "+14155550104", "Sale!", "delivered", "2026-11-15 14:00:00", "outbound-api", None, "2026-11-15", "sms/dt=2026-11-15/s.csv", 2),
]

SMS_CLICKS = [
    # event_type, sms_sid, to, from, link, clicked_at, dt, file, line
    ("click", "SM1", "+14165550103", "+15005550006", "https://s.co/x", "2026-11-15 14:05:00", "2026-11-15", "sms_clicks/dt=2026-11-15/c.ndjson", 1),
    ("click", "SM3", "+14155550104", "+15005550006", "https://s.co/x", "2026-11-15 14:05:00", "2026-11-15", "sms_clicks/dt=2026-11-15/c.ndjson", 2),
]

PUSH = [
    # event_id, type, occurred_at, customer_id, email, token, platform, timezone, campaign, message_id, dt, file, line
    ("p1", "device_registered", "2026-10-01 08:00:00", "1001", None, "tok-alice", "ios", "America/Los_Angeles", None, None, "2026-10-01", "push/dt=2026-10-01/p.ndjson", 1),
    ("p2", "send", "2026-11-17 16:00:00", None, None, "tok-alice", "ios", None, "promo", "msg-p1", "2026-11-17", "push/dt=2026-11-17/p.ndjson", 1),
    ("p3", "open", "2026-11-17 17:00:00", None, None, "tok-alice", "ios", None, "promo", "msg-p1", "2026-11-17", "push/dt=2026-11-17/p.ndjson", 2),
    ("p4", "device_registered", "2026-10-01 08:00:00", None, "dave@example.com", "tok-dave", "android", "America/Chicago", None, None, "2026-10-01", "push/dt=2026-10-01/p.ndjson", 2),
]

WEB = [
    # event_id, type, occurred_at, anonymous_id, session_id, customer_id, email, sku, category, price, timezone, dt, file, line
    ("w1", "product_view", "2026-11-05 10:00:00", "anon-bob", "s1", None, None, "SKU-LAMP", "Home", 200, None, "2026-11-05", "web/dt=2026-11-05/w.ndjson", 1),
    ("w2", "session_start", "2026-11-10 10:00:00", "anon-bob", "s2", "1002", None, None, None, None, "Europe/London", "2026-11-10", "web/dt=2026-11-10/w.ndjson", 1),
    ("w3", "product_view", "2026-11-12 10:00:00", "anon-carol", "s3", None, "carol@example.com", "SKU-TEA", "Pantry", 20, "Europe/Berlin", "2026-11-12", "web/dt=2026-11-12/w.ndjson", 1),
    ("w4", "product_view", "2026-11-13 10:00:00", "anon-nobody", "s4", None, None, "SKU-MUG", "Kitchen", 55, None, "2026-11-13", "web/dt=2026-11-13/w.ndjson", 1),
    ("w5", "product_view", "2026-11-13 11:00:00", "anon-dave", "s5", "1004", None, "SKU-MUG", "Kitchen", 55, None, "2026-11-13", "web/dt=2026-11-13/w.ndjson", 2),
]

CONSENT = [
    # request_id, occurred_at, customer_id, email, phone, type, channel, dt, file, line
    ("r1", "2026-11-19 09:00:00", None, "bob@example.com", None, "opt_in", "email", "2026-11-19", "consent/dt=2026-11-19/c.ndjson", 1),
    ("r2", "2026-11-19 09:00:00", "1004", None, None, "erasure", "all", "2026-11-19", "consent/dt=2026-11-19/c.ndjson", 2),
]

ERASED_IDENTIFIERS = [
    ("customer_id", "1004"),
    ("email", "dave@example.com"),
    ("phone", "+14155550104"),
    ("device_token", "tok-dave"),
    ("anonymous_id", "anon-dave"),
]


def _insert(con, table: str, columns: list[str], rows: list[tuple]) -> None:
    placeholders = ", ".join(["?"] * (len(columns) + 1))
    sql = f"insert into raw.{table} ({', '.join(columns)}, _loaded_at) values ({placeholders})"
    con.executemany(sql, [(*row, "2026-11-20 00:00:00") for row in rows])


def load_raw(con) -> None:
    """Insert the world above into bootstrapped raw.* / ops.* tables."""
    _insert(con, "customers", ["customer_id", "first_name", "last_name", "email", "accepts_email_marketing", "phone",
            "accepts_sms_marketing", "city", "province_code", "country_code", "created_at", "_dt", "_file", "_line"], CUSTOMERS)
    _insert(con, "orders", ["order_id", "order_name", "email", "phone", "financial_status", "created_at", "cancelled_at",
            "subtotal", "discount_amount", "total", "refunded_amount", "lineitem_quantity", "lineitem_name",
            "lineitem_price", "lineitem_sku", "_dt", "_file", "_line"], ORDERS)
    _insert(con, "catalog", ["handle", "title", "product_type", "variant_sku", "variant_price",
            "variant_compare_at_price", "variant_inventory_qty", "published", "_dt", "_file", "_line"], CATALOG)
    _insert(con, "email_events", ["sg_event_id", "email", "event", "occurred_at", "sg_message_id", "sg_machine_open",
            "bounce_type", "campaign_id", "message_id", "_dt", "_file", "_line"], EMAIL)
    _insert(con, "sms_messages", ["sid", "from_number", "to_number", "body", "status", "sent_at", "direction", "keyword",
            "_dt", "_file", "_line"], SMS)
    _insert(con, "sms_clicks", ["event_type", "sms_sid", "to_number", "from_number", "link", "clicked_at",
            "_dt", "_file", "_line"], SMS_CLICKS)
    _insert(con, "push_events", ["event_id", "event_type", "occurred_at", "customer_id", "email", "device_token",
            "platform", "timezone", "campaign_id", "message_id", "_dt", "_file", "_line"], PUSH)
    _insert(con, "web_events", ["event_id", "event_type", "occurred_at", "anonymous_id", "session_id", "customer_id",
            "email", "sku", "category", "price", "timezone", "_dt", "_file", "_line"], WEB)
    _insert(con, "consent_requests", ["request_id", "occurred_at", "customer_id", "email", "phone", "request_type",
            "channel", "_dt", "_file", "_line"], CONSENT)
    con.executemany(
        "insert into ops.erasure_tombstones values (?, ?, 'r2', '2026-11-19 09:00:00')",
        [(sha(kind, value), kind) for kind, value in ERASED_IDENTIFIERS],
    )
# fmt: on
