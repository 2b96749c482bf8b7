"""Exports: schemas, row counts, consent, erasure, hashing, movement, lift, idempotence."""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from exports_world import PEOPLE, D, tomb, write_champion

from rightsend import exports, warehouse
from rightsend.config import Settings
from rightsend.exports import audiences, customers, movement, segments
from rightsend.exports._io import fmt_value, slug
from rightsend.exports.hashing import audience_email_hash, audience_phone_hash
from rightsend.exports.stats import newcombe_diff, wilson


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture()
def out(settings: Settings) -> tuple[dict, Path]:
    result = exports.run(settings, D)
    return result, settings.exports_dir(D)


def all_cells(root: Path) -> set[str]:
    cells: set[str] = set()
    for path in root.rglob("*.csv"):
        for row in read(path)[1]:
            cells.update(row.values())
    return cells


def test_every_file_listed_with_its_row_count(out: tuple[dict, Path]) -> None:
    result, root = out
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*.csv")}
    assert set(result["files"]) == on_disk
    for name, rows in result["files"].items():
        assert len(read(root / name)[1]) == rows, name
    assert Path(result["report"]) == root / "report.html" and (root / "report.html").exists()
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")], "temp folders left behind"


def test_customers_csv_contract(out: tuple[dict, Path]) -> None:
    _, root = out
    header, rows = read(root / "customers.csv")
    assert tuple(header) == customers.COLUMNS
    not_erased = [p for p in PEOPLE if p[0] != "c3"]
    assert [r["customer_id"] for r in rows] == sorted(p[0] for p in not_erased)
    by_id = {r["customer_id"]: r for r in rows}
    c1 = by_id["c1"]
    assert (c1["email"], c1["phone"], c1["best_channel"], c1["best_local_hour"]) == (
        "alice@example.com",
        "+14155550101",
        "email",
        "9",
    )
    assert (c1["net_revenue"], c1["last_order_at"], c1["recency_days"], c1["order_count"]) == (
        "812.50",
        "2026-11-17T10:00:00Z",
        "3",
        "7",
    )
    assert by_id["c2"]["phone"] == ""  # no SMS consent: no phone
    assert by_id["c4"]["email"] == "" and by_id["c4"]["phone"] == "+14155550104"
    assert (
        by_id["c4"]["best_channel"] == "" and by_id["c4"]["best_local_hour"] == ""
    )  # yesterday's score ignored
    assert by_id["c4"]["rfm_segment"] == "" and by_id["c4"]["r_score"] == ""
    assert by_id["c6"]["email"] == "eve@example.com"


def test_segment_files_match_the_view(out: tuple[dict, Path], settings: Settings) -> None:
    result, root = out
    with warehouse.connect(settings, read_only=True) as con:
        expected = dict(
            con.execute(
                "select rfm_segment, count(*) from marts.dim_customers where customer_id <> 'c3' and rfm_segment is not null group by 1"
            ).fetchall()
        )
    rfm_files = {n for n in result["files"] if n.startswith("segments/rfm_")}
    assert rfm_files == {
        "segments/rfm_champions.csv",
        "segments/rfm_at_risk.csv",
        "segments/rfm_lost.csv",
        "segments/rfm_cant_lose_them.csv",
    }
    for seg, n in expected.items():
        header, rows = read(root / f"segments/rfm_{slug(seg)}.csv")
        assert tuple(header) == segments.COLUMNS
        assert len(rows) == n and {r["rfm_segment"] for r in rows} == {seg}
    for state in segments.LIFECYCLE_STATES:
        assert f"segments/lifecycle_{state}.csv" in result["files"]  # even when empty
    assert result["files"]["segments/lifecycle_new.csv"] == 0
    assert result["files"]["segments/lifecycle_lapsing.csv"] == 2


def test_no_erased_person_and_no_unconsented_contact_anywhere(out: tuple[dict, Path]) -> None:
    _, root = out
    cells, html = all_cells(root), (root / "report.html").read_text()
    for erased in ("c3", "1003", "erin@example.com", "+14155550103", audience_email_hash("erin@example.com")):
        assert erased not in cells
    assert "erin@" not in html and "+1415555" not in html  # the report holds aggregates only
    assert (
        '<span class="kpi-value">5</span><span class="kpi-label">people</span>' in html
    )  # counts exclude the erased
    # bob has no SMS consent, carol no email consent: neither raw nor hashed
    for hidden in (
        "+447700900123",
        "carol@example.com",
        audience_phone_hash("+447700900123"),
        audience_email_hash("carol@example.com"),
    ):
        assert hidden not in cells


def test_audience_hashes_are_sha256_of_normalised_values(out: tuple[dict, Path]) -> None:
    result, root = out
    # computed independently from the documented rule: trimmed lower-case email; E.164 digits without '+'
    alice_e = hashlib.sha256(b"alice@example.com").hexdigest()
    alice_p = hashlib.sha256(b"14155550101").hexdigest()
    eve_e = hashlib.sha256(b"eve@example.com").hexdigest()
    assert audience_email_hash("  Eve@Example.COM ") == eve_e
    assert audience_phone_hash("+1 415-555-0101") == alice_p
    assert audience_phone_hash("4155550101") is None  # no country code: never guess one
    header, rows = read(root / "audiences/rfm_champions.csv")
    assert tuple(header) == audiences.COLUMNS
    assert rows == [{"customer_id": "c1", "email_sha256": alice_e, "phone_sha256": alice_p}]
    _, rows = read(root / "audiences/rfm_cant_lose_them.csv")
    assert rows == [{"customer_id": "c6", "email_sha256": eve_e, "phone_sha256": ""}]
    assert "audiences/rfm_lost.csv" not in result["files"]  # not worth paying for
    for name in result["files"]:
        if name.startswith("audiences/"):
            for row in read(root / name)[1]:
                assert all(re.fullmatch(r"[0-9a-f]{64}|", row[c]) for c in ("email_sha256", "phone_sha256"))


def test_suppression_audience_recent_buyers_of_promoted_items(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(audiences, "promoted_items", lambda: {"promo_boots": ({"BOOT-1"}, set())})
    exports.run(settings, D)
    _, rows = read(settings.exports_dir(D) / audiences.SUPPRESSION_FILE)
    # c2 bought BOOT-1 60 days ago (outside the window); c5's boots order was cancelled
    assert [r["customer_id"] for r in rows] == ["c1"]
    monkeypatch.setattr(audiences, "promoted_items", lambda: {})
    result = exports.run(settings, D)
    _, rows = read(settings.exports_dir(D) / audiences.SUPPRESSION_FILE)
    assert [r["customer_id"] for r in rows] == ["c1", "c6"]  # nothing declared: every recent buyer
    assert result["suppression_audience_basis"].startswith("any purchase")
    with warehouse.connect(settings) as con:  # the product decide put on a message counts too
        con.execute("update queue.outbox set sku = 'HAT-1' where message_id = 'q4'")
    exports.run(settings, D)
    _, rows = read(settings.exports_dir(D) / audiences.SUPPRESSION_FILE)
    assert [r["customer_id"] for r in rows] == ["c6"]


def test_promoted_items_reads_campaign_yaml(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "campaigns:\n  - id: promo_boots\n    target:\n      skus: [BOOT-1]\n      category: boots\n"
    )
    assert audiences.promoted_items(tmp_path) == {"promo_boots": ({"BOOT-1"}, {"boots"})}


def test_segment_movement(out: tuple[dict, Path], settings: Settings) -> None:
    _, root = out
    header, rows = read(root / "segment_movement.csv")
    assert tuple(header) == movement.COLUMNS
    day = {
        (r["from_segment"], r["to_segment"]): int(r["customers"])
        for r in rows
        if r["comparison"] == "since_yesterday" and r["dimension"] == "rfm_segment"
    }
    assert (
        day[("loyal", "champions")] == 1
        and day[("champions", "at_risk")] == 1
        and day[("(new)", "(none)")] == 1
    )
    week = {(r["from_segment"], r["to_segment"]) for r in rows if r["comparison"] == "since_last_week"}
    assert ("lost", "(gone)") in week and ("hibernating", "lost") in week
    with warehouse.connect(settings, read_only=True) as con:
        assert (
            sum(
                int(r["customers"])
                for r in rows
                if r["comparison"] == "since_yesterday" and r["dimension"] == "rfm_segment"
            )
            == 5
        )
        assert movement.movement_rows(con, "2026-11-14") == []  # no snapshot a day or a week before


def test_campaign_results_lift(out: tuple[dict, Path]) -> None:
    _, root = out
    header, rows = read(root / "campaign_results.csv")
    assert header[:6] == ["campaign_id", "variant", "queued", "sent", "engaged", "converted"]
    (row,) = rows  # today's queue (winback) has no outcome yet
    assert (row["campaign_id"], row["queued"], row["sent"], row["engaged"], row["converted"]) == (
        "promo_boots",
        "40",
        "40",
        "10",
        "10",
    )
    assert (row["holdout"], row["holdout_converted"], row["lift_abs"]) == ("20", "2", "0.15")
    d, low, high = newcombe_diff(10, 40, 2, 20)
    assert float(row["lift_ci_low"]) == pytest.approx(low, abs=1e-6) and float(
        row["lift_ci_high"]
    ) == pytest.approx(high, abs=1e-6)
    assert low < 0 < high and row["ci_method"] == "newcombe_wilson_95"


def test_interval_formulas_against_published_values() -> None:
    # Newcombe (1998), Stat Med 17:873, example 56/70 vs 48/80: method 10 gives 0.0524 to 0.3339
    d, low, high = newcombe_diff(56, 70, 48, 80)
    assert (round(d, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)
    assert tuple(round(x, 4) for x in wilson(0, 10)) == (0.0, 0.2775)


def test_rerun_is_idempotent(settings: Settings) -> None:
    exports.run(settings, D)
    root = settings.exports_dir(D)
    first = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    (root / "stray.csv").write_text("x\n")  # a file from an older code version disappears on re-run
    exports.run(settings, D)
    second = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    for name in first:
        if first[name] != second[name]:
            import difflib

            diff = difflib.unified_diff(
                first[name].decode().splitlines(), second[name].decode().splitlines(), lineterm="", n=0
            )
            print("\n".join(line[:400] for line in list(diff)[:10]))
        assert first[name] == second[name], name
    assert set(first) == set(second)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def test_scrub_erased_from_previous_outputs(settings: Settings) -> None:
    old_exp = settings.exports_dir("2026-11-10")
    old_q = settings.queue_dir("2026-11-10")
    _write(
        old_exp / "customers.csv",
        ["customer_id", "source_customer_id", "email", "phone"],
        [
            ["c1", "1001", "alice@example.com", ""],
            ["c3", "", "ERIN@example.com ", ""],
            ["c9", "1003", "", ""],
        ],
    )
    # hashed audience: no raw identifier, found through the unified id matched above
    _write(
        old_exp / "audiences/rfm_champions.csv",
        ["customer_id", "email_sha256", "phone_sha256"],
        [["c1", "a", ""], ["c3", audience_email_hash("erin@example.com") or "", ""]],
    )
    _write(
        old_q / "messages.csv",
        ["message_id", "customer_id", "source_customer_id", "channel", "destination"],
        [["m1", "c1", "1001", "email", "alice@example.com"], ["m2", "c7", "", "sms", "+14155550103"]],
    )
    _write(old_exp / "segment_movement.csv", ["comparison", "customers"], [["since_yesterday", "3"]])
    mem = duckdb.connect()
    mem.execute(
        "copy (select * from (values ('m1','c1','alice@example.com'), ('m2','c7','+14155550103')) t(message_id, customer_id, destination)) "
        f"to '{old_q / 'messages.parquet'}' (format parquet)"
    )
    with warehouse.connect(settings, read_only=True) as con:
        stats = exports.scrub_erased_from_outputs(settings, con)
        again = exports.scrub_erased_from_outputs(settings, con)
    assert [r["customer_id"] for r in read(old_exp / "customers.csv")[1]] == ["c1"]
    assert [r["customer_id"] for r in read(old_exp / "audiences/rfm_champions.csv")[1]] == ["c1"]
    assert [r["message_id"] for r in read(old_q / "messages.csv")[1]] == ["m1"]
    assert mem.execute(f"select message_id from read_parquet('{old_q / 'messages.parquet'}')").fetchall() == [
        ("m1",)
    ]
    assert read(old_exp / "segment_movement.csv")[1] == [{"comparison": "since_yesterday", "customers": "3"}]
    assert stats["rows_removed"] == 5 and stats["files_changed"] == 4
    # nothing erased since: no earlier file is read again
    assert again == {"files_scanned": 0, "files_changed": 0, "rows_removed": 0}
    assert tomb("phone", "+14155550103") in {
        r[0]
        for r in duckdb.connect(str(settings.warehouse_path), read_only=True)
        .execute("select identifier_hash from ops.erasure_tombstones")
        .fetchall()
    }


def test_report_is_self_contained_with_labelled_charts(out: tuple[dict, Path], settings: Settings) -> None:
    write_champion(settings)
    exports.run(settings, D)
    html = (settings.exports_dir(D) / "report.html").read_text()
    assert not re.search(r"<script|<link|@import|url\(|src=", html)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html)) - {"http://www.w3.org/2000/svg"}
    assert not urls
    charts = re.findall(r"<svg class=\"chart\"[^>]*>", html)
    assert len(charts) >= 14
    for tag in charts:
        assert 'role="img"' in tag and 'aria-label="' in tag and "viewBox=" in tag
        assert int(re.search(r'data-marks="(\d+)"', tag).group(1)) > 0, tag
    for section in (
        "queue",
        "segments",
        "movement",
        "channels",
        "timing",
        "suppression",
        "model",
        "campaigns",
        "quality",
    ):
        assert f'id="{section}"' in html
    assert (
        "0.710" in html and "Newcombe" in html and "missing sg_event_id" in html and "frequency_cap" in html
    )


def test_report_without_model_or_optional_tables(settings: Settings) -> None:
    with warehouse.connect(settings) as con:
        con.execute(
            "drop table ml.send_scores; drop table marts.mart_customer_segments_daily; drop table marts.fct_sends"
        )
    result = exports.run(settings, D)
    html = Path(result["report"]).read_text()
    assert "no champion model" in html
    assert result["files"]["segment_movement.csv"] == 0
    _, rows = read(settings.exports_dir(D) / "customers.csv")
    assert all(r["best_channel"] == "" for r in rows)


def test_scrub_reads_earlier_files_again_only_for_new_erasures(settings: Settings) -> None:
    old = settings.exports_dir("2026-11-10") / "customers.csv"
    _write(old, ["customer_id", "email"], [["c1", "alice@example.com"], ["c9", ""]])
    with warehouse.connect(settings, read_only=True) as con:
        first = exports.scrub_erased_from_outputs(settings, con)
        second = exports.scrub_erased_from_outputs(settings, con)
    assert first == {"files_scanned": 1, "files_changed": 0, "rows_removed": 0}
    assert second["files_scanned"] == 0
    with warehouse.connect(settings) as con:  # alice asks to be forgotten
        con.execute(
            "insert into ops.erasure_tombstones values (?, 'email', 'del-9', now())",
            [tomb("email", "alice@example.com")],
        )
    with warehouse.connect(settings, read_only=True) as con:
        third = exports.scrub_erased_from_outputs(settings, con)
    assert third == {"files_scanned": 1, "files_changed": 1, "rows_removed": 1}
    assert [r["customer_id"] for r in read(old)[1]] == ["c9"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("Can't Lose Them", "Can't Lose Them"),
        ("", ""),
        (42, "42"),
        (-7, "-7"),
        (True, "true"),  # a bool is an int: never "1"
        (False, "false"),
        (0.1 + 0.2, "0.3"),
        (2.0, "2"),
        (-0.0000001, "0"),
        (float("nan"), ""),
        (Decimal("12.50"), "12.50"),
        (date(2026, 11, 21), "2026-11-21"),
        (datetime(2026, 11, 21, 9, 5), "2026-11-21T09:05:00Z"),
        (datetime(2026, 11, 21, 10, 5, tzinfo=timezone(timedelta(hours=1))), "2026-11-21T09:05:00Z"),
        (datetime(2026, 11, 21, 9, 5, tzinfo=UTC), "2026-11-21T09:05:00Z"),
    ],
)
def test_each_kind_of_value_has_one_csv_spelling(value: object, cell: str) -> None:
    assert fmt_value(value) == cell


def test_scrub_keeps_every_other_row_of_a_file_it_streams(settings: Settings) -> None:
    # a blank line, a short row and a quoted comma: the rewritten file keeps each kept row whole
    old = settings.exports_dir("2026-11-09") / "customers.csv"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_text(
        "customer_id,email,note\n"
        'c2,bob@example.com,"Smith, Bob"\n'
        "\n"
        "c1,Alice@Example.com ,x\n"
        "c4\n"
        "c5,carol@example.com,y\n",
        encoding="utf-8",
    )
    audience = settings.exports_dir("2026-11-09") / "audiences/all.csv"
    _write(audience, ["customer_id", "email_sha256"], [["c1", "h1"], ["c5", "h5"]])
    with warehouse.connect(settings) as con:
        con.execute(
            "insert into ops.erasure_tombstones values (?, 'email', 'del-8', now())",
            [tomb("email", "alice@example.com")],
        )
    with warehouse.connect(settings, read_only=True) as con:
        stats = exports.scrub_erased_from_outputs(settings, con)
    assert (
        old.read_text()
        == 'customer_id,email,note\nc2,bob@example.com,"Smith, Bob"\nc4,,\nc5,carol@example.com,y\n'
    )
    assert [r["customer_id"] for r in read(audience)[1]] == ["c5"]  # found by the unified id alone
    assert stats["rows_removed"] >= 2 and stats["files_changed"] >= 2
