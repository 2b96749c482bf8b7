"""The dbt project end to end on a tiny hand-built warehouse (see raw_rows.py).

One module-scoped fixture runs three builds (dbt is slow): a first full build, an incremental
build after late rows arrive and a person is erased, then a --full-refresh build. The marts of
the last two must be identical; every other check reads the final warehouse.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dbt_raw_rows as raw_rows
import duckdb
import pandas as pd
import pytest

from rightsend.config import DBT_PROJECT_DIR
from rightsend.warehouse import bootstrap

pytestmark = pytest.mark.integration

EVENT_TABLES = ("fct_message_events", "fct_web_events")
COMPARED_MARTS = (
    "dim_customers",
    "fct_orders",
    "fct_order_lines",
    "fct_message_events",
    "fct_sends",
    "fct_web_events",
    "dim_products",
    "mart_customer_channel_engagement",
    "mart_customer_engagement_hours",
    "mart_customer_rfm",
    "mart_customer_segments_daily",
    "mart_cohort_retention",
    "mart_campaign_results",
)
# intermediate tables an incremental build keeps or that consent decisions read
COMPARED_INTERMEDIATE = ("int_consent_events", "int_customer_consent")
ERIN = [("customer_id", "1005"), ("email", "erin@example.com")]


def person_id(identifier_type: str, value: str) -> str:
    return "rs_" + hashlib.md5(f"{identifier_type}:{value}".encode()).hexdigest()[:16]


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """dbt-duckdb keeps its database open in this process: connect with the same settings."""
    return duckdb.connect(str(path))


def dbt(*args: str) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"]
    )
    assert result.success, f"dbt {' '.join(args)} failed: {result.exception or result.result}"


def read_marts(path: Path) -> dict[str, pd.DataFrame]:
    with connect(path) as con:
        frames = {name: con.execute(f"select * from marts.{name}").df() for name in COMPARED_MARTS}
        frames |= {
            name: con.execute(f"select * from intermediate.{name}").df() for name in COMPARED_INTERMEDIATE
        }
    return {name: df.sort_values(list(df.columns)).reset_index(drop=True) for name, df in frames.items()}


def read_orders(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    return {
        "orders": con.execute(
            "select order_id, customer_id, financial_status, is_cancelled, refunded_amount, net_total"
            " from marts.fct_orders order by order_id"
        )
        .df()
        .set_index("order_id"),
        "lines": con.execute(
            "select order_line_id, customer_id, sku, category, quantity, is_cancelled"
            " from marts.fct_order_lines order by order_line_id"
        )
        .df()
        .set_index("order_line_id"),
    }


def load_hanks_order(con: duckdb.DuckDBPyConnection) -> None:
    """Shopify customer 1007 and an order by their email, before the first build."""
    con.execute(
        "insert into raw.customers (customer_id, first_name, last_name, email, accepts_email_marketing,"
        " accepts_sms_marketing, created_at, _dt, _file, _line, _loaded_at) values ('1007', 'Hank', 'Hill',"
        " 'hank@example.com', false, false, '2025-02-01 09:00:00', '2026-11-18',"
        " 'customers/dt=2026-11-18/b.csv', 1, '2026-11-20 00:00:00')"
    )
    con.execute(
        "insert into raw.orders (order_id, order_name, email, financial_status, created_at, subtotal,"
        " discount_amount, total, refunded_amount, lineitem_quantity, lineitem_name, lineitem_price,"
        " lineitem_sku, _file, _line, _dt, _loaded_at) values ('5010', '#5010', 'hank@example.com', 'paid',"
        " '2026-11-05 09:00:00', 20, 0, 20, 0, 1, 'Tea', 20, 'SKU-TEA', 'orders/dt=2026-11-05/b.csv', 1,"
        " '2026-11-05', '2026-11-20 00:00:00')"
    )


def load_late_order_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Rows a later load brings, each touching orders the first build kept."""
    # a late export of alice's 5001: refunded and cancelled, and now one line (the tea is gone)
    con.execute(
        "insert into raw.orders (order_id, order_name, email, financial_status, created_at, cancelled_at,"
        " subtotal, discount_amount, total, refunded_amount, lineitem_quantity, lineitem_name,"
        " lineitem_price, lineitem_sku, _file, _line, _dt, _loaded_at) values ('5001', '#5001',"
        " 'alice@example.com', 'refunded', '2026-11-01 12:00:00', '2026-11-20 08:00:00', 100, 0, 100, 100,"
        " 1, 'Mug', 60, 'SKU-MUG', 'orders/dt=2026-11-20/late.csv', 1, '2026-11-20', '2026-11-20 06:00:00')"
    )
    # the guest's email becomes a Shopify customer's: the guest order 5005 now belongs to 1006
    con.execute(
        "insert into raw.customers (customer_id, first_name, last_name, email, accepts_email_marketing,"
        " accepts_sms_marketing, created_at, _dt, _file, _line, _loaded_at) values ('1006', 'Gina', 'Guest',"
        " 'guest@example.com', false, false, '2026-11-20 07:00:00', '2026-11-20',"
        " 'customers/dt=2026-11-20/late.csv', 1, '2026-11-20 06:00:00')"
    )
    # a newer Shopify customer takes hank's email over (1007 stays a person): 5010 moves to 1008
    con.execute(
        "insert into raw.customers (customer_id, first_name, last_name, email, accepts_email_marketing,"
        " accepts_sms_marketing, created_at, _dt, _file, _line, _loaded_at) values ('1008', 'Hank', 'Hill',"
        " 'hank@example.com', false, false, '2026-11-20 07:30:00', '2026-11-20',"
        " 'customers/dt=2026-11-20/late.csv', 2, '2026-11-20 06:00:00')"
    )
    # a late catalog file for D: the lamp moves to another category (its lines 5006, 5008)
    con.execute(
        "insert into raw.catalog (handle, title, product_type, variant_sku, variant_price, published,"
        " _dt, _file, _line, _loaded_at) values ('lamp', 'Lamp', 'Lighting', 'SKU-LAMP', 210, true,"
        " '2026-11-20', 'catalog/dt=2026-11-20/late.csv', 1, '2026-11-20 06:00:00')"
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("dbt") / "warehouse.duckdb"
    with connect(path) as con:
        bootstrap(con)
        raw_rows.load_raw(con)
        load_hanks_order(con)
        # an anonymous visitor whose login arrives only after the first build
        con.execute(
            "insert into raw.web_events (event_id, event_type, occurred_at, anonymous_id, session_id,"
            " _file, _line, _dt, _loaded_at) values ('w-late-1', 'product_view', '2026-11-14 09:00:00',"
            " 'anon-late', 's9', 'web/dt=2026-11-14/w.ndjson', 1, '2026-11-14', '2026-11-20')"
        )
    previous = os.environ.get("RIGHTSEND_WAREHOUSE")
    os.environ["RIGHTSEND_WAREHOUSE"] = str(path)
    try:
        dbt("build")
        with connect(path) as con:
            first = {
                "late_visitor": con.execute(
                    "select customer_id from marts.fct_web_events where event_id = 'w-late-1'"
                ).fetchone()[0],
                "consent": con.execute(
                    "select source_customer_id, has_email_consent, has_sms_consent from marts.dim_customers"
                    " where source_customer_id in ('1001', '1003') order by 1"
                ).fetchall(),
                "bob_last_hard_bounce_at": con.execute(
                    "select last_hard_bounce_at from intermediate.int_customer_consent where customer_id = ?",
                    [person_id("customer_id", "1002")],
                ).fetchone()[0],
                "erin_in_snapshot": con.execute(
                    "select count(*) from snapshots.snp_customer_segments where customer_id = ?",
                    [person_id("customer_id", "1005")],
                ).fetchone()[0],
                "orders": read_orders(con),
            }
            load_late_order_rows(con)
            con.execute(
                "insert into raw.web_events (event_id, event_type, occurred_at, anonymous_id, session_id,"
                " customer_id, _file, _line, _dt, _loaded_at) values ('w-late-2', 'session_start',"
                " '2026-11-20 09:00:00', 'anon-late', 's10', '1001', 'web/dt=2026-11-20/late.ndjson', 1,"
                " '2026-11-14', '2026-11-20 06:00:00')"
            )
            # a late file for an old day: a second delivery report of bob's m2, without custom args
            con.execute(
                "insert into raw.email_events (sg_event_id, email, event, occurred_at, sg_message_id,"
                " sg_machine_open, _file, _line, _dt, _loaded_at) values ('e-late', 'bob@example.com', 'delivered',"
                " '2026-11-16 20:00:00', 'm2.filter0', null, 'email/dt=2026-11-16/late.json', 1, '2026-11-16',"
                " '2026-11-20 06:00:00')"
            )
            # consent changes in late files for old days: alice replies STOP, carol unsubscribes
            # by email; a delivery of bob's bounce e11 in a file for an earlier day makes it a
            # delivery report (the first delivery wins), so it no longer counts as a hard bounce
            con.execute(
                "insert into raw.sms_messages (sid, from_number, to_number, body, status, sent_at, direction,"
                " keyword, _file, _line, _dt, _loaded_at) values ('SM-late', '+14155550101', '+15005550006',"
                " 'STOP', 'received', '2026-11-19 08:00:00', 'inbound', 'opt_out',"
                " 'sms/dt=2026-11-19/late.csv', 1, '2026-11-19', '2026-11-20 06:00:00')"
            )
            con.execute(
                "insert into raw.email_events (sg_event_id, email, event, occurred_at, sg_message_id,"
                " _file, _line, _dt, _loaded_at) values ('e-unsub', 'carol@example.com', 'unsubscribe',"
                " '2026-11-19 12:00:00', 'm5.filter0', 'email/dt=2026-11-19/late.json', 1, '2026-11-19',"
                " '2026-11-20 06:00:00'), ('e11', 'bob@example.com', 'delivered', '2026-11-17 09:00:00',"
                " 'm4.filter0', 'email/dt=2026-11-16/late.json', 2, '2026-11-16', '2026-11-20 06:00:00')"
            )
            con.executemany(
                "insert into ops.erasure_tombstones values (?, ?, 'r-erin', '2026-11-20 10:00:00')",
                [(raw_rows.sha(kind, value), kind) for kind, value in ERIN],
            )
        dbt("build")
        incremental = read_marts(path)
        with connect(path) as con:
            incremental_orders = read_orders(con)
        dbt("build", "--full-refresh")
        full_refresh = read_marts(path)
        yield {
            "path": path,
            "first": first,
            "incremental": incremental,
            "incremental_orders": incremental_orders,
            "full_refresh": full_refresh,
        }
    finally:
        if previous is None:
            os.environ.pop("RIGHTSEND_WAREHOUSE", None)
        else:
            os.environ["RIGHTSEND_WAREHOUSE"] = previous


def query(warehouse, sql: str, params=None) -> pd.DataFrame:
    with connect(warehouse["path"]) as con:
        return con.execute(sql, params or []).df()


def test_anonymous_visitor_who_logs_in_joins_their_person(warehouse):
    bob = person_id("customer_id", "1002")
    rows = query(
        warehouse, "select event_id, customer_id from marts.fct_web_events where anonymous_id = 'anon-bob'"
    )
    assert set(rows["event_id"]) == {"w1", "w2"}
    assert set(rows["customer_id"]) == {bob}  # w1 was anonymous, before the login


def test_incremental_build_picks_up_a_late_login(warehouse):
    assert warehouse["first"]["late_visitor"] is None
    late = query(warehouse, "select customer_id from marts.fct_web_events where event_id = 'w-late-1'")
    assert late["customer_id"].tolist() == [person_id("customer_id", "1001")]


def test_order_joins_person_by_phone_when_email_missing(warehouse):
    orders = query(warehouse, "select order_id, customer_id from marts.fct_orders where order_id = '5003'")
    assert orders["customer_id"].tolist() == [person_id("customer_id", "1003")]


def test_phone_conflict_goes_to_latest_customer_row(warehouse):
    people = query(warehouse, "select source_customer_id, phone from marts.dim_customers")
    phones = dict(zip(people["source_customer_id"], people["phone"], strict=True))
    assert phones["1003"] == "+14165550103"


def test_consent_and_time_zone(warehouse):
    people = query(
        warehouse,
        "select source_customer_id, timezone, timezone_source, has_sms_consent, has_email_consent,"
        " is_email_deliverable from marts.dim_customers where source_customer_id is not null",
    ).set_index("source_customer_id")
    assert people.loc["1001", ["timezone", "timezone_source"]].tolist() == ["America/Los_Angeles", "device"]
    assert people.loc["1003", ["timezone", "timezone_source"]].tolist() == ["Europe/Berlin", "browser"]
    assert bool(people.loc["1003", "has_sms_consent"]) is False  # STOP after the Shopify snapshot
    assert bool(people.loc["1002", "has_email_consent"]) is True  # opt-in request after Shopify's "no"
    assert bool(people.loc["1002", "is_email_deliverable"]) is True  # bounce before that opt-in


def test_incremental_build_picks_up_late_consent_changes(warehouse):
    assert warehouse["first"]["consent"] == [("1001", True, True), ("1003", True, False)]
    assert warehouse["first"]["bob_last_hard_bounce_at"] is not None
    people = warehouse["incremental"]["dim_customers"].set_index("source_customer_id")
    assert bool(people.loc["1001", "has_sms_consent"]) is False  # the late STOP
    assert bool(people.loc["1001", "has_email_consent"]) is True
    assert bool(people.loc["1003", "has_email_consent"]) is False  # the late unsubscribe
    consent = warehouse["incremental"]["int_customer_consent"].set_index("customer_id")
    assert pd.isna(consent.loc[person_id("customer_id", "1002"), "last_hard_bounce_at"])
    events = warehouse["incremental"]["int_consent_events"]
    assert "email:e11" not in set(events["event_key"])


def test_incremental_build_picks_up_a_late_event_for_an_old_send(warehouse):
    events = query(
        warehouse,
        "select campaign_id, message_id from marts.fct_message_events where event_id = 'email:e-late'",
    )
    assert events.values.tolist() == [["welcome", "msg-2"]]  # filled from the send, built a day earlier


def test_incremental_build_re_derives_the_orders_a_later_load_touches(warehouse):
    first, after = warehouse["first"]["orders"], warehouse["incremental_orders"]
    # a late export of 5001: refunded and cancelled, and its second line gone
    assert first["orders"].loc["5001", ["financial_status", "is_cancelled", "net_total"]].tolist() == [
        "paid",
        False,
        100,
    ]
    assert after["orders"].loc[
        "5001", ["financial_status", "is_cancelled", "refunded_amount", "net_total"]
    ].tolist() == [
        "refunded",
        True,
        100,
        0,
    ]
    assert {"5001-1", "5001-2"} <= set(first["lines"].index)
    assert "5001-2" not in after["lines"].index
    assert after["lines"].loc["5001-1", ["sku", "quantity", "is_cancelled"]].tolist() == ["SKU-MUG", 1, True]
    # the guest order joins the Shopify customer who took its email over
    assert first["orders"].loc["5005", "customer_id"] == person_id("email", "guest@example.com")
    assert after["orders"].loc["5005", "customer_id"] == person_id("customer_id", "1006")
    assert after["lines"].loc["5005-1", "customer_id"] == person_id("customer_id", "1006")
    # an order whose email a newer Shopify customer took over, while its first owner stays a person
    assert first["orders"].loc["5010", "customer_id"] == person_id("customer_id", "1007")
    assert after["orders"].loc["5010", "customer_id"] == person_id("customer_id", "1008")
    assert after["lines"].loc["5010-1", "customer_id"] == person_id("customer_id", "1008")
    # a new category for the lamp reaches lines no new export touched
    assert first["lines"].loc["5006-1", "category"] == "Home"
    assert after["lines"].loc[["5006-1", "5008-1"], "category"].tolist() == ["Lighting", "Lighting"]
    # untouched orders keep their values
    assert after["orders"].loc["5003"].tolist() == first["orders"].loc["5003"].tolist()


def test_machine_open_is_not_engagement(warehouse):
    sends = query(warehouse, "select send_id, first_engaged_at from marts.fct_sends").set_index("send_id")
    assert pd.isna(sends.loc["email:m2", "first_engaged_at"])  # bob: machine open only
    assert str(sends.loc["email:m1", "first_engaged_at"]) == "2026-11-16 18:30:00"


@pytest.mark.parametrize("table", COMPARED_MARTS + COMPARED_INTERMEDIATE)
def test_incremental_equals_full_refresh(warehouse, table):
    pd.testing.assert_frame_equal(warehouse["incremental"][table], warehouse["full_refresh"][table])


def test_erased_person_is_in_no_mart_intermediate_or_snapshot(warehouse):
    erased_values = {value for _, value in raw_rows.ERASED_IDENTIFIERS} | {
        person_id("customer_id", "1004"),
        person_id("customer_id", "1005"),
        *(value for _, value in ERIN),
    }
    assert warehouse["first"]["erin_in_snapshot"] == 1  # erased only after the first build
    with connect(warehouse["path"]) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('marts', 'intermediate', 'snapshots')"
        ).fetchall()
        assert len(tables) >= 17
        for schema, table in tables:
            columns = [c[0] for c in con.execute(f'select * from "{schema}"."{table}" limit 0').description]
            for column in columns:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" where cast("{column}" as varchar) in '
                    f"({', '.join('?' * len(erased_values))})",
                    list(erased_values),
                ).fetchone()[0]
                assert hits == 0, f"erased identifier in {schema}.{table}.{column}"


def test_rfm_matches_an_independent_pandas_computation(warehouse):
    run_date = pd.Timestamp(raw_rows.RUN_DATE)
    with connect(warehouse["path"]) as con:
        lines = con.execute("select * from raw.orders").df()
        customers = con.execute("select * from raw.customers").df()
        tombstones = set(
            con.execute("select identifier_hash from ops.erasure_tombstones").df()["identifier_hash"]
        )
        people = con.execute("select customer_id, source_customer_id, email from marts.dim_customers").df()
        rfm = con.execute("select * from marts.mart_customer_rfm").df().set_index("customer_id")

    latest = customers.sort_values(["_dt", "_file", "_line"]).groupby("customer_id").tail(1)
    owner_of_email = dict(zip(latest["email"], latest["customer_id"], strict=True))
    owner_of_phone = (
        latest.dropna(subset=["phone"]).sort_values(["_dt", "_file", "_line"]).groupby("phone").tail(1)
    )
    owner_of_phone = dict(zip(owner_of_phone["phone"], owner_of_phone["customer_id"], strict=True))
    by_source_id = dict(zip(people["source_customer_id"], people["customer_id"], strict=True))
    by_email = dict(zip(people["email"], people["customer_id"], strict=True))

    export_key = lines["_dt"].astype(str) + "|" + lines["_file"]
    latest_export = lines[export_key == export_key.groupby(lines["order_id"]).transform("max")]
    orders = latest_export.sort_values("_line").groupby("order_id").head(1).copy()

    def person(order) -> str | None:
        if isinstance(order.email, str):
            if raw_rows.sha("email", order.email) in tombstones:
                return None
            source_id = owner_of_email.get(order.email)
            return by_source_id.get(source_id) if source_id else by_email.get(order.email)
        return by_source_id.get(owner_of_phone.get(order.phone))

    orders["customer_id"] = orders.apply(person, axis=1)
    counted = orders[
        orders["customer_id"].notna()
        & orders["cancelled_at"].isna()
        & (orders["financial_status"] != "voided")
        & (orders["created_at"] > run_date - pd.DateOffset(months=12))
    ].copy()
    counted["net"] = (counted["total"] - counted["refunded_amount"].fillna(0)).astype(float)
    expected = counted.groupby("customer_id").agg(
        last=("created_at", "max"), frequency=("order_id", "count"), monetary=("net", "sum")
    )
    expected["recency_days"] = (run_date - expected["last"].dt.normalize()).dt.days

    assert sorted(expected.index) == sorted(rfm.index)
    for customer_id, row in expected.iterrows():
        assert rfm.loc[customer_id, "recency_days"] == row["recency_days"], customer_id
        assert rfm.loc[customer_id, "frequency"] == row["frequency"], customer_id
        assert float(rfm.loc[customer_id, "monetary"]) == pytest.approx(row["monetary"]), customer_id
