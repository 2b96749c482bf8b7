"""Dispatch through the embedded file broker: each message exactly once, whatever crashes."""

from __future__ import annotations

import json

import pytest

from rightsend import dispatch
from rightsend.dispatch.transports import AmqpTransport, FileTransport, RedisTransport, make_transport

from .conftest import Crash, CrashingTransport, D, logged_ids, queued_ids


def broker_ids(settings) -> list[str]:
    path = settings.output_dir / "broker" / f"dt={D}" / "messages.jsonl"
    return [json.loads(line)["message_id"] for line in path.read_text().splitlines()]


def test_publishes_every_queued_message_once_and_never_holdout(decided, monkeypatch):
    monkeypatch.delenv("RIGHTSEND_BROKER_URL", raising=False)
    first = dispatch.run(decided, D)
    ids = queued_ids(decided)
    assert first == {"published": len(ids), "already_published": 0, "transport": "file", "messages": len(ids)}
    assert sorted(broker_ids(decided)) == sorted(ids)
    again = dispatch.run(decided, D)
    assert again["published"] == 0 and again["already_published"] == len(ids)
    assert sorted(broker_ids(decided)) == sorted(ids)
    line = json.loads(
        (decided.output_dir / "broker" / f"dt={D}" / "messages.jsonl").read_text().splitlines()[0]
    )
    assert line["is_holdout"] is False and line["send_at_utc"].endswith("Z") and line["queue_date"] == D


@pytest.mark.parametrize("crash_after", [1, 7, 10, 23])
def test_crash_then_rerun_publishes_each_message_exactly_once(decided, crash_after):
    transport = FileTransport(decided.output_dir / "broker")
    with pytest.raises(Crash):
        dispatch.run(decided, D, transport=CrashingTransport(transport, crash_after), batch_size=5)
    assert len(broker_ids(decided)) == crash_after
    assert len(logged_ids(decided)) == (crash_after // 5) * 5 - (5 if crash_after % 5 == 0 else 0)
    result = dispatch.run(decided, D, transport=FileTransport(decided.output_dir / "broker"), batch_size=5)
    ids = queued_ids(decided)
    assert sorted(broker_ids(decided)) == sorted(ids)  # exactly once each
    assert sorted(logged_ids(decided)) == sorted(ids)
    assert result["published"] + result["already_published"] == len(ids)
    assert result["published"] == len(ids) - crash_after


def test_torn_last_line_is_cut_and_republished(decided):
    dispatch.run(decided, D, transport=FileTransport(decided.output_dir / "broker"))
    path = decided.output_dir / "broker" / f"dt={D}" / "messages.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:20])  # a crash mid-write
    with __import__("duckdb").connect(str(decided.warehouse_path)) as con:
        con.execute(
            "delete from queue.dispatch_log where message_id = ?", [json.loads(lines[-1])["message_id"]]
        )
    result = dispatch.run(decided, D, transport=FileTransport(decided.output_dir / "broker"))
    assert result["published"] == 1
    assert sorted(broker_ids(decided)) == sorted(queued_ids(decided))


def test_transport_is_chosen_by_url(tmp_path):
    assert isinstance(make_transport(None, tmp_path, "s", "p", "q"), FileTransport)
    t = make_transport(f"file://{tmp_path}/b", tmp_path, "s", "p", "q")
    assert isinstance(t, FileTransport) and t.directory == tmp_path / "b"
    assert make_transport("file://", tmp_path, "s", "p", "q").directory == tmp_path
    with pytest.raises(ValueError, match="expected file://, redis:// or amqp://"):
        make_transport("kafka://x", tmp_path, "s", "p", "q")
    assert RedisTransport.name == "redis" and AmqpTransport.name == "amqp"
