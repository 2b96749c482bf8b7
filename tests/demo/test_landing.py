"""The demo landing zone follows docs/landing-contract.md, with the documented mess."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pandas as pd

from rightsend.demo import generate

REQUIRED = {
    "customers": ["Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing", "Phone",
                  "Accepts SMS Marketing", "Default Address City", "Default Address Province Code",
                  "Default Address Country Code", "Total Spent", "Total Orders", "Tags"],
    "orders": ["Id", "Name", "Email", "Phone", "Financial Status", "Created at", "Cancelled at", "Currency",
               "Subtotal", "Discount Amount", "Total", "Refunded Amount", "Lineitem quantity", "Lineitem name",
               "Lineitem price", "Lineitem sku", "Vendor", "Source"],
    "catalog": ["Handle", "Title", "Type", "Variant SKU", "Variant Price", "Variant Compare At Price",
                "Variant Inventory Qty", "Published"],
    "sms": ["Sid", "From", "To", "Body", "Status", "SentDate", "Direction", "NumSegments", "ErrorCode", "Price",
            "PriceUnit"],
    "email": ["email", "timestamp", "event", "sg_event_id", "sg_message_id", "category", "campaign_id"],
    "sms_clicks": ["event_type", "sms_sid", "to", "from", "link", "click_time", "user_agent",
                   "messaging_service_sid", "account_sid"],
    "push": ["event_id", "event_type", "occurred_at", "customer_id", "email", "device_token", "platform"],
    "web": ["event_id", "event_type", "occurred_at", "anonymous_id", "session_id", "customer_id", "email",
            "timezone"],
    "consent": ["request_id", "occurred_at", "type", "channel"],
}  # fmt: skip


END = "2026-11-20"


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", customers=120, days=20, end_date=END, seed=3)
    generate(tmp_path / "b", customers=120, days=20, end_date=END, seed=3)
    generate(tmp_path / "c", customers=120, days=20, end_date=END, seed=4)
    da, db, dc = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert da == db and len(da) > 100
    assert da != dc
    assert set(a.stats["rows"]) <= set(REQUIRED)


def test_worker_processes_write_the_same_bytes(tmp_path: Path) -> None:
    # Large runs write files in worker processes; each file's choices are seeded by
    # (seed, source, day), so the bytes and the counts must not depend on it.
    here = generate(tmp_path / "here", customers=150, days=12, end_date=END, seed=3, gzip_all=True, writers=0)
    pool = generate(tmp_path / "pool", customers=150, days=12, end_date=END, seed=3, gzip_all=True, writers=2)
    assert _digest(tmp_path / "here") == _digest(tmp_path / "pool")
    assert len(_digest(tmp_path / "pool")) > 50
    assert here.stats["rows"] == pool.stats["rows"] and here.stats["files"] == pool.stats["files"]


def test_every_source_follows_the_contract(demo, read) -> None:
    root, _ = demo
    for source, cols in REQUIRED.items():
        rows = read(root, source)
        assert len(rows) > 0, source
        assert set(cols) <= set(rows.columns), (source, set(cols) - set(rows.columns))
        dts = sorted(rows["_dt"].unique())
        assert dts[-1] <= END and dts[0] >= "2026-10-22", source


def test_event_vocabularies(demo, read) -> None:
    root, _ = demo
    email = read(root, "email")
    assert {"processed", "delivered", "open", "click", "bounce", "deferred", "dropped", "unsubscribe"} <= set(
        email["event"]
    )
    assert email["timestamp"].map(lambda v: isinstance(v, int)).mean() > 0.99  # unix seconds
    opens = email[email["event"] == "open"]
    machine = opens["sg_machine_open"].eq(True).mean()
    assert 0.1 < machine < 0.45
    assert (email["type"] == "bounce").any()  # hard bounces
    assert (
        email["category"].map(lambda c: isinstance(c, list)).any()
        and email["category"].map(lambda c: isinstance(c, str)).any()
    )
    assert email["sg_event_id"].duplicated().any()  # redelivered events keep their id

    push = read(root, "push")
    assert {"device_registered", "send", "delivered", "open", "dismissed"} <= set(push["event_type"])
    reg = push[push["event_type"] == "device_registered"]
    assert reg["timezone"].str.contains("/").all()
    assert ((push["customer_id"] == "") & (push["email"] != "")).any()

    sms = read(root, "sms")
    assert {"queued", "sent", "delivered", "received"} <= set(sms["Status"])
    assert sms["SentDate"].str.contains(r"^\w{3}, \d{2} \w{3} \d{4}", regex=True).any()  # RFC 2822
    assert sms["SentDate"].str.contains(r"^\d{4}-\d{2}-\d{2}T", regex=True).any()  # ISO
    outbound = sms[sms["Direction"] == "outbound-api"]
    moved = outbound.groupby("Sid")["Status"].agg(list)
    moved = moved[moved.map(len) > 1]
    assert len(moved) and moved.map(lambda s: s[0] == "queued" and s[-1] != "queued").all()
    assert (sms["Direction"] == "inbound").any()

    consent = read(root, "consent")
    assert "erasure" in set(consent["type"])
    ident = consent[["customer_id", "email", "phone"]].ne("").any(axis=1)
    assert ident.all()


def test_mess(demo, read) -> None:
    root, _ = demo
    files = [p for p in root.rglob("*") if p.is_file()]
    names = [p.name for p in files]
    assert any(n.endswith(".csv.gz") for n in names) and any(n.endswith(".ndjson.gz") for n in names)
    assert any(n.startswith("late-") for n in names)
    assert any(read_bytes(p).startswith(b"\xef\xbb\xbf") for p in files if ".csv" in p.name)
    assert any(".json" in p.name and read_bytes(p).startswith(b"[") for p in (root / "email").rglob("*"))
    web = read(root, "web")
    when = pd.to_datetime(web["occurred_at"], utc=True, errors="coerce", format="ISO8601")
    assert (when.dt.strftime("%Y-%m-%d") < web["_dt"]).mean() > 0.005  # delivered days later
    orders = read(root, "orders")
    assert "Export Batch" in set(read(root, "sms").columns) | set(orders.columns)  # vendor extras


def test_orders_join_people_by_email_or_phone(demo, read) -> None:
    root, truth = demo
    orders = read(root, "orders")
    assert not any("customer" in c.lower() for c in orders.columns)
    by_order = orders.groupby("Name").agg(
        email=("Email", "first"), phone=("Phone", "first"), n=("Name", "size")
    )
    assert (by_order["n"] > 1).any()
    assert ((by_order["email"] != "") | (by_order["phone"] != "")).all()
    people = truth.people
    emails = set(people["email"].str.lower())
    phones = set(people["phone"]) - {""}
    joined = by_order["email"].str.lower().isin(emails) | by_order["phone"].isin(phones)
    assert 0.9 < joined.mean() < 1.0  # a few guest orders match nobody
    assert ((by_order["email"] == "") & by_order["phone"].isin(phones)).any()
    later = orders[orders.duplicated("Name")]
    assert (later["Financial Status"] == "").all() and (later["Created at"] != "").all()
    assert orders["Created at"].str.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$").all()
    assert {"refunded", "partially_refunded", "voided"} <= set(orders["Financial Status"])


def test_customers_catalog_web_shapes(demo, read) -> None:
    root, _ = demo
    customers = read(root, "customers")
    assert customers["Customer ID"].duplicated().any()  # updated customers appear again later
    assert customers["Phone"].str.startswith("+").any() and customers["Phone"].str.match(r"^[0(]").any()
    assert set(customers["Accepts Email Marketing"]) <= {"yes", "no"}

    catalog = read(root, "catalog")
    last = catalog[catalog["_dt"] == END]
    assert (last["Title"] == "").any() and last.groupby("Handle").size().max() > 1
    prev = catalog[catalog["_dt"] == "2026-11-19"].set_index("Variant SKU")["Variant Price"].astype(float)
    now = last.set_index("Variant SKU")["Variant Price"].astype(float)
    assert (now < prev.reindex(now.index)).any()  # price drops on the last days
    assert (last["Variant Inventory Qty"].astype(int) < 5).any()

    web = read(root, "web")
    sessions = web.groupby("anonymous_id")["customer_id"].agg(lambda s: (s == "").any() and (s != "").any())
    assert sessions.any()  # anonymous visitors who log in later
    today = web[web["occurred_at"].str.startswith(END)]
    carts = set(today.loc[today["event_type"] == "add_to_cart", "session_id"])
    checkouts = set(today.loc[today["event_type"] == "checkout_started", "session_id"])
    assert carts - checkouts and checkouts  # abandoned carts and checkouts on the last day


def test_activity_thins_marketing_and_browsing_only(tmp_path: Path) -> None:
    """The benchmark's large presets: a quieter list (fewer campaigns and sessions), the same
    people and purchase rates, and every file gzipped when asked."""
    busy = generate(tmp_path / "busy", customers=400, days=40, end_date=END, seed=5).stats["rows"]
    quiet = generate(
        tmp_path / "quiet", customers=400, days=40, end_date=END, seed=5, activity=0.2, gzip_all=True
    ).stats["rows"]
    for source in ("email", "web"):
        assert quiet[source] < 0.45 * busy[source], source
    # orders keep their rate: the same draws, within noise of the same count
    assert abs(quiet["orders"] - busy["orders"]) < 0.15 * busy["orders"]
    files = [p for p in (tmp_path / "quiet").rglob("*") if p.is_file()]
    assert files and all(p.name.endswith(".gz") for p in files)
    assert sum(p.stat().st_size for p in files) < 0.2 * sum(  # ~0.33 of the bytes unzipped
        p.stat().st_size for p in (tmp_path / "busy").rglob("*") if p.is_file()
    )


def test_activity_one_is_the_demo_itself(tmp_path: Path) -> None:
    generate(tmp_path / "a", customers=120, days=15, end_date=END, seed=3)
    generate(tmp_path / "b", customers=120, days=15, end_date=END, seed=3, activity=1.0)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
