"""An erasure names one identifier; the whole person goes, now and whenever they reappear."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import duckdb

from rightsend import warehouse
from rightsend.config import Settings
from rightsend.ingest import apply_tombstones, identifier_hash, run

ANN = ("ann@example.com", "+14155550101", "1001", "tok-ann", "anon-ann")
ERASE_BY_EMAIL = '{"request_id": "del-1", "occurred_at": "2026-11-19T12:00:00Z", "email": " ANN@example.com", "type": "erasure", "channel": "email"}\n'
RAW_TABLES = (
    "customers", "orders", "catalog", "email_events", "sms_messages", "sms_clicks", "push_events",
    "web_events", "consent_requests",
)  # fmt: skip


def mentions(settings: Settings, needle: str) -> dict[str, int]:
    """Rows in any raw table (or quarantine) whose text contains ``needle``."""
    with warehouse.connect(settings, read_only=True) as con:
        found = {
            t: con.execute(
                f"select count(*) from raw.{t} r where contains(lower(r::varchar), ?)", [needle]
            ).fetchall()[0][0]
            for t in RAW_TABLES
        }
        found["quarantine"] = con.execute(
            "select count(*) from ops.quarantine where contains(lower(raw_text), ?)", [needle]
        ).fetchall()[0][0]
    return {t: n for t, n in found.items() if n}


def test_hash_matches_duckdb_sha256() -> None:
    expected = hashlib.sha256(b"email:ann@example.com").hexdigest()
    assert identifier_hash("email", "ann@example.com") == expected
    assert (
        duckdb.connect().execute("select sha256('email' || ':' || 'ann@example.com')").fetchall()[0][0]
        == expected
    )


def test_erasure_by_email_removes_whole_person_and_keeps_them_out(
    good: Settings, land: Callable, counts: Callable, query: Callable
) -> None:
    # a quarantined line that mentions Ann, landed before her erasure
    land(
        good,
        "web/dt=2026-11-18/bad.ndjson",
        '{"event_id": "wq", "event_type": "nope", "occurred_at": "2026-11-17T10:00:00Z", "email": "ann@example.com"}\n',
    )
    run(good, "2026-11-19")
    assert mentions(good, "ann@example.com")  # she is there before

    land(good, "consent/dt=2026-11-20/erasure.ndjson", ERASE_BY_EMAIL)
    result = run(good, "2026-11-20")
    assert result["erasure"] == {
        "scope": "rows loaded since the last pass",
        "requests": 1,
        "identifiers_tombstoned": 5,
        "rows_deleted": {
            "raw.customers": 1, "raw.orders": 2, "raw.email_events": 7, "raw.sms_messages": 3,
            "raw.sms_clicks": 1, "raw.push_events": 3, "raw.web_events": 3, "raw.consent_requests": 1,
        },
        "quarantine_rows_deleted": 1,
        "rows_erased_at_load": 0,
    }  # fmt: skip
    for identifier in ANN:
        assert mentions(good, identifier.lower()) == {}, identifier
    assert counts(good) == {
        "customers": 3, "orders": 2, "catalog": 4, "email_events": 2, "sms_messages": 2,
        "sms_clicks": 1, "push_events": 1, "web_events": 1, "consent_requests": 2,
    }  # fmt: skip
    tombstones = query(
        good, "select identifier_type, identifier_hash, request_id from ops.erasure_tombstones order by 1"
    )
    assert tombstones == [
        ("anonymous_id", identifier_hash("anonymous_id", "anon-ann"), "del-1"),
        ("customer_id", identifier_hash("customer_id", "1001"), "del-1"),
        ("device_token", identifier_hash("device_token", "tok-ann"), "del-1"),
        ("email", identifier_hash("email", "ann@example.com"), "del-1"),
        ("phone", identifier_hash("phone", "+14155550101"), "del-1"),
    ]

    # Later files that carry any of her identifiers store nothing of her. Her new phone
    # (seen only beside her email) is hers too, so a text to it is dropped as well.
    land(good, "customers/dt=2026-11-21/customers.csv",
         "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Phone,Accepts SMS Marketing,"
         "Default Address City,Default Address Province Code,Default Address Country Code,Total Spent,Total Orders,Tags,Created At\n"
         "1001,Ann,Lee,Ann@Example.com,yes,+1 415 555 0999,yes,SF,CA,US,1,1,,\n"
         "9001,Ann,Lee,ANN@example.com,yes,,yes,SF,CA,US,1,1,,not a date\n"
         "1005,Fay,Fox,fay@example.com,no,,no,SF,CA,US,0,0,,\n")  # fmt: skip
    land(good, "sms/dt=2026-11-22/sms.csv",
         "Sid,From,To,Body,Status,SentDate,Direction\n"
         "SM9,+15005550006,+14155550999,Hi,sent,2026-11-21T10:00:00Z,outbound-api\n"
         "SM10,+15005550006,+12125550199,Hi,sent,2026-11-21T10:00:00Z,outbound-api\n")  # fmt: skip
    later = run(good, "2026-11-22")
    # the filter named the new phone by value: no full pass was needed to find the text to it
    assert later["erasure"]["scope"] == "rows loaded since the last pass"
    assert later["rows"]["customers"]["loaded"] == 1 and later["rows"]["customers"]["erased"] == 2
    assert later["rows"]["customers"]["quarantined"] == 0  # her bad row is not kept either
    assert later["rows"]["sms"]["loaded"] == 1 and later["rows"]["sms"]["erased"] == 1
    assert query(
        good, "select rows_loaded, rows_erased from ops.manifest where path like 'customers/dt=2026-11-21/%'"
    ) == [(1, 2)]
    assert mentions(good, "ann@example.com") == {} and mentions(good, "+14155550999") == {}
    assert counts(good)["customers"] == 4


def test_apply_tombstones_reapplies_after_rebuild(good: Settings, land: Callable, query: Callable) -> None:
    land(good, "consent/dt=2026-11-20/erasure.ndjson", ERASE_BY_EMAIL)
    run(good, "2026-11-20")
    # raw tables rebuilt from somewhere that did not filter: Ann's device and browser come back
    with warehouse.connect(good) as con:
        con.execute(
            "insert into raw.web_events (event_id, event_type, occurred_at, anonymous_id, customer_id, _file, _line, _dt, _loaded_at) "
            "values ('x1', 'search', '2026-11-19', 'anon-new', '1001', 'rebuilt', 1, '2026-11-19', now()), "
            "       ('x2', 'search', '2026-11-19', 'anon-new', null, 'rebuilt', 2, '2026-11-19', now())"
        )
        con.execute(
            "insert into raw.push_events (event_id, event_type, occurred_at, device_token, _file, _line, _dt, _loaded_at) "
            "values ('y1', 'open', '2026-11-19', 'tok-ann', 'rebuilt', 1, '2026-11-19', now())"
        )
        outcome = apply_tombstones(con)
        assert outcome["rows_deleted"] == {"raw.push_events": 1, "raw.web_events": 2}
        assert outcome["identifiers_tombstoned"] == 1  # anon-new, linked through customer 1001
        again = apply_tombstones(con)
        assert again["rows_deleted"] == {} and again["identifiers_tombstoned"] == 0
    assert query(good, "select count(*) from raw.web_events where _file = 'rebuilt'") == [(0,)]


def test_incremental_passes_leave_nothing_for_a_full_pass(tmp_path, make_landing, land, query) -> None:
    """Each run's pass checks only the rows loaded since the last one; a full pass over every
    row afterwards must find nothing left to delete or tombstone."""
    from rightsend.demo import generate

    settings = make_landing(tmp_path, None)
    generate(settings.landing_dir, customers=300, days=24, end_date="2026-11-20", seed=5)
    first = run(settings, "2026-11-05")
    assert first["erasure"]["scope"] == "all rows"  # no pass recorded yet
    scopes, deleted = [], 0
    for n, day in enumerate(("2026-11-12", "2026-11-20")):
        # erase the busiest people still here, by email and by phone (their old rows must go)
        busiest = query(
            settings,
            "select c.email, c.phone from raw.customers c join raw.web_events w using (customer_id) "
            "where c.email is not null and c.phone is not null "
            "group by all order by count(*) desc, 1 limit 2",
        )
        assert len(busiest) == 2
        (email, _), (_, phone) = busiest
        land(
            settings,
            f"consent/dt={day}/erasure.ndjson",
            f'{{"request_id": "del-e{n}", "occurred_at": "{day}T08:00:00Z", "email": "{email}", "type": "erasure", "channel": "email"}}\n'
            f'{{"request_id": "del-p{n}", "occurred_at": "{day}T08:00:00Z", "phone": "{phone}", "type": "erasure", "channel": "sms"}}\n',
        )
        result = run(settings, day)["erasure"]
        scopes.append(result["scope"])
        deleted += sum(result["rows_deleted"].values())
        assert result["requests"] >= 2  # the demo erases people of its own too
        assert mentions(settings, email) == {} and mentions(settings, phone) == {}
    assert "rows loaded since the last pass" in scopes
    assert deleted > 50  # their history went, not just the new day's rows
    with warehouse.connect(settings) as con:
        full = apply_tombstones(con)
    assert full["scope"] == "all rows"
    assert full["identifiers_tombstoned"] == 0 and full["rows_deleted"] == {}
    assert full["quarantine_rows_deleted"] == 0
