"""Right to be forgotten: tombstone every identifier of an erased person, delete their rows.

A tombstone is ``sha256(identifier_type || ':' || normalised value)`` as lowercase hex, so
dbt and the exports can match it with DuckDB's ``sha256()`` without the plain value.
An erasure request names one identifier; the person is the closure over the raw tables
(customer_id <-> email <-> phone in customers/orders/consent, push customer_id/email/
device_token, web customer_id/email/anonymous_id). ``apply_tombstones`` can run any time,
e.g. after the raw tables were rebuilt from the landing zone; ``TombstoneFilter`` keeps
rows that carry a tombstoned identifier from being stored at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import duckdb

from rightsend.ingest import normalize
from rightsend.ingest.parse import Batch
from rightsend.ingest.sources import SOURCES

IDENTIFIER_TYPES = ("email", "phone", "customer_id", "device_token", "anonymous_id")
_EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d ().-]{5,18}\d")


def identifier_hash(identifier_type: str, value: str) -> str:
    return hashlib.sha256(f"{identifier_type}:{value}".encode()).hexdigest()


def _linking() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return [(f"raw.{s.table}", s.identifiers) for s in SOURCES.values() if s.links_identities]


def _all() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return [(f"raw.{s.table}", s.identifiers) for s in SOURCES.values() if s.identifiers]


def _hash_sql(identifier_type: str, column: str) -> str:
    return f"sha256('{identifier_type}:' || {column})"


class TombstoneFilter:
    """Load-time check: drops rows (and quarantine records) of erased people."""

    def __init__(self, hashes: dict[str, str]) -> None:
        self.hashes = hashes  # identifier_hash -> request_id
        self._clear: set[tuple[str, str]] = set()  # (type, value) known not to be tombstoned
        # (type, value, request) of the tombstones added here: older rows may carry them,
        # and the run's erasure pass finds those by value (only the hashes are stored)
        self.linked: list[tuple[str, str, str]] = []

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> TombstoneFilter:
        rows = con.execute("select identifier_hash, request_id from ops.erasure_tombstones").fetchall()
        return cls(dict(rows))

    def _request(self, identifier_type: str, value: Any) -> str | None:
        if value is None or (identifier_type, value) in self._clear:
            return None
        request = self.hashes.get(identifier_hash(identifier_type, value))
        if request is None:
            self._clear.add((identifier_type, value))  # people repeat: hash each identifier once
        return request

    def text_mentions_erased(self, text: str) -> bool:
        if not self.hashes or not text:
            return False
        for match in _EMAIL_IN_TEXT.findall(text):
            if self._request("email", match.lower()):
                return True
        for match in _PHONE_IN_TEXT.findall(text):
            number = normalize.phone(match)
            if number and self._request("phone", number):
                return True
        return False

    def erased_among(self, ids: Iterable[tuple[str, str]]) -> bool:
        """Whether any (identifier type, value) is tombstoned (a quick check before ``filter``)."""
        return bool(self.hashes) and any(self._request(kind, value) for kind, value in ids)

    def filter(self, batch: Batch) -> tuple[int, list[tuple[str, str, str]]]:
        """Drop the batch's rows of erased people (in place). Returns (rows dropped, new
        tombstones as (hash, type, request_id)) - a dropped row's other identifiers are
        the same person's, so they are tombstoned too."""
        dropped, new = self.filter_rows(batch)
        return dropped + self.filter_bad(batch), new

    def filter_rows(self, batch: Batch) -> tuple[int, list[tuple[str, str, str]]]:
        """``filter`` for the good rows only (a file parsed in chunks: each chunk in turn)."""
        if not self.hashes:
            return 0, []
        source = batch.source
        index = {c: i for i, c in enumerate(source.columns)}
        ids = [(index[col], kind) for col, kind in source.identifiers]
        keep_rows, keep_lines, keep_extras = [], [], []
        new: list[tuple[str, str, str]] = []
        dropped = 0
        for row, line, extra in zip(batch.rows, batch.lines, batch.extras, strict=True):
            request = None
            for i, kind in ids:
                request = self._request(kind, row[i])
                if request:
                    break
            if request is None:
                keep_rows.append(row)
                keep_lines.append(line)
                keep_extras.append(extra)
                continue
            dropped += 1
            if source.links_identities:
                for i, kind in ids:
                    if row[i] is not None:
                        digest = identifier_hash(kind, row[i])
                        if digest not in self.hashes:
                            self.hashes[digest] = request
                            self._clear.discard((kind, row[i]))
                            new.append((digest, kind, request))
                            self.linked.append((kind, row[i], request))
        batch.rows, batch.lines, batch.extras = keep_rows, keep_lines, keep_extras
        return dropped, new

    def filter_bad(self, batch: Batch) -> int:
        """``filter`` for the quarantined records: drop those mentioning an erased person
        (after the file's rows, whose erasures they may mention)."""
        if not self.hashes:
            return 0
        kept_bad = [b for b in batch.bad if not self.text_mentions_erased(b.raw_text)]
        dropped = len(batch.bad) - len(kept_bad)
        batch.bad = kept_bad
        return dropped


def identifiers_in(batch: Batch) -> set[tuple[str, str]]:
    """Every (identifier type, value) a batch's rows carry or its quarantined text mentions:
    ``TombstoneFilter.erased_among`` of this set is False exactly when ``filter`` would keep
    the whole batch (so a parallel parser can leave the filtering to the loader)."""
    index = {c: i for i, c in enumerate(batch.source.columns)}
    found: set[tuple[str, str]] = set()
    for col, kind in batch.source.identifiers:
        i = index[col]
        found.update((kind, row[i]) for row in batch.rows if row[i] is not None)
    for bad in batch.bad:
        found.update(mentioned_in(bad.raw_text))
    return found


def mentioned_in(text: str) -> set[tuple[str, str]]:
    """The emails and phones ``text_mentions_erased`` looks for in a text."""
    if not text:
        return set()
    found = {("email", match.lower()) for match in _EMAIL_IN_TEXT.findall(text)}
    for match in _PHONE_IN_TEXT.findall(text):
        number = normalize.phone(match)
        if number:
            found.add(("phone", number))
    return found


def _close_over_identities(con: duckdb.DuckDBPyConnection) -> None:
    """Grow temp table _erase_ids (id_type, value, request_id) to the whole person."""
    while True:
        added = 0
        for table, ids in _linking():
            for col_a, type_a in ids:
                for col_b, type_b in ids:
                    if col_a == col_b:
                        continue
                    added += con.execute(
                        f"""
                        insert into _erase_ids
                        select '{type_b}', r.{col_b}, min(e.request_id)
                        from {table} r join _erase_ids e on e.id_type = '{type_a}' and e.value = r.{col_a}
                        where r.{col_b} is not null
                          and not exists (select 1 from _erase_ids x
                                          where x.id_type = '{type_b}' and x.value = r.{col_b})
                        group by r.{col_b}
                        """
                    ).fetchall()[0][0]
        if not added:
            return


def apply_tombstones(
    con: duckdb.DuckDBPyConnection,
    erased_at: datetime | None = None,
    incremental: bool = False,
    linked: Iterable[tuple[str, str, str]] = (),
) -> dict[str, Any]:
    """Turn erasure requests in raw.consent_requests into tombstones for the whole person,
    then delete every raw row (and quarantine record) carrying a tombstoned identifier.

    Idempotent and safe to re-run at any time: it also re-finds people from the existing
    tombstones, so rows reloaded after a rebuild disappear again.

    ``incremental`` (the ingest run's own call) hashes only the rows loaded since the last
    completed pass instead of every identifier of every raw row, which grew with history.
    That is exact because each pass leaves no raw row carrying a tombstone and deletes the
    requests it applied: new requests and new rows are all that can bring work - and the
    tombstones the load-time filter added since (an erased person's row came back beside an
    identifier not seen with them before), which older rows may carry. ``linked``
    (``TombstoneFilter.linked``) names those by value; when one added since is not among
    them (only its hash is stored), the pass is a full one."""
    erased_at = erased_at or datetime.now(UTC).replace(tzinfo=None)  # metadata only
    con.begin()
    try:
        con.execute(
            "create or replace temp table _erase_ids (id_type varchar, value varchar, request_id varchar)"
        )
        requests = con.execute(
            """
            insert into _erase_ids
            select distinct kind, value, request_id from (
                select 'customer_id' kind, customer_id as value, request_id from raw.consent_requests
                where request_type = 'erasure' union all
                select 'email', email, request_id from raw.consent_requests where request_type = 'erasure'
                union all
                select 'phone', phone, request_id from raw.consent_requests where request_type = 'erasure'
            ) where value is not null
            """
        ).fetchall()[0][0]
        request_ids = con.execute("select count(distinct request_id) from _erase_ids").fetchall()[0][0]
        linked = list(linked)
        if linked:
            con.executemany("insert into _erase_ids values (?, ?, ?)", linked)
        since = _incremental_since(con) if incremental else None
        have_tombstones = con.execute("select count(*) from ops.erasure_tombstones").fetchall()[0][0] > 0
        if have_tombstones:
            # the people behind existing tombstones, as far as (these) raw rows still show them
            # (incremental: only rows loaded since, of every table - the load-time filter
            # keeps such rows out, so this finds nothing unless a load bypassed it)
            recent, tables = ("", _linking()) if since is None else ("and r._loaded_at > ?", _all())
            for table, ids in tables:
                for col, kind in ids:
                    con.execute(
                        f"""
                        insert into _erase_ids
                        select distinct '{kind}', r.{col}, t.request_id from {table} r
                        join ops.erasure_tombstones t
                          on t.identifier_type = '{kind}' and t.identifier_hash = {_hash_sql(kind, "r." + col)}
                        where r.{col} is not null {recent}
                        """,
                        [] if since is None else [since],
                    )
        if not requests and not have_tombstones:
            _record_pass(con, erased_at)
            con.commit()
            return {
                "scope": _scope(since),
                "requests": 0,
                "identifiers_tombstoned": 0,
                "rows_deleted": {},
                "quarantine_rows_deleted": 0,
            }
        _close_over_identities(con)
        tombstoned = con.execute(
            """
            insert into ops.erasure_tombstones
            select sha256(id_type || ':' || value), id_type, min(request_id), ?
            from _erase_ids group by id_type, value
            on conflict do nothing
            """,
            [erased_at],
        ).fetchall()[0][0]
        deleted: dict[str, int] = {}
        for table, ids in _all():
            where = " or ".join(f"({col} is not null and {_carries(col, kind, since)})" for col, kind in ids)
            n = con.execute(f"delete from {table} where {where}").fetchall()[0][0]
            if n:
                deleted[table] = n
        quarantine_deleted = _delete_quarantine(con)
        con.execute("drop table _erase_ids")
        _record_pass(con, erased_at)
        con.commit()
    except Exception:
        con.rollback()
        raise
    return {
        "scope": _scope(since),
        "requests": request_ids if requests else 0,
        "identifiers_tombstoned": tombstoned,
        "rows_deleted": deleted,
        "quarantine_rows_deleted": quarantine_deleted,
    }


def _incremental_since(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The last completed pass, if a pass over the rows loaded since is exact (else None):
    every tombstone added since must be known by value (in _erase_ids)."""
    last = con.execute("select max(applied_at) from ops.erasure_passes").fetchall()[0][0]
    if last is None:
        return None
    unknown = con.execute(
        """
        select count(*) from ops.erasure_tombstones
        where erased_at > ? and identifier_hash not in (select sha256(id_type || ':' || value) from _erase_ids)
        """,
        [last],
    ).fetchall()[0][0]
    return None if unknown else last


def _carries(col: str, kind: str, since: datetime | None) -> str:
    """SQL: the row's ``col`` is a tombstoned identifier of type ``kind``."""
    if since is None:  # every row against every tombstone, by hash
        return (
            f"{_hash_sql(kind, col)} in "
            f"(select identifier_hash from ops.erasure_tombstones where identifier_type = '{kind}')"
        )
    # this pass's people, by value: the only tombstones a raw row can carry after the last pass
    return f"{col} in (select value from _erase_ids where id_type = '{kind}')"


def _scope(since: datetime | None) -> str:
    return "all rows" if since is None else "rows loaded since the last pass"


def _record_pass(con: duckdb.DuckDBPyConnection, applied_at: datetime) -> None:
    con.execute("insert into ops.erasure_passes values (?)", [applied_at])


def _delete_quarantine(con: duckdb.DuckDBPyConnection) -> int:
    """Quarantined text mentioning an erased email or phone (plain match, then by hash)."""
    n = con.execute(
        """
        delete from ops.quarantine q where exists (
            select 1 from _erase_ids e
            where e.id_type in ('email', 'phone') and contains(lower(q.raw_text), lower(e.value)))
        """
    ).fetchall()[0][0]
    check = TombstoneFilter.load(con)
    rowids = [
        rowid
        for rowid, text in con.execute("select rowid, raw_text from ops.quarantine").fetchall()
        if check.text_mentions_erased(text)
    ]
    if rowids:
        con.execute("delete from ops.quarantine where rowid in (select unnest(?))", [rowids])
    return n + len(rowids)
