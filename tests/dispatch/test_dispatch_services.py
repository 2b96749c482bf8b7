"""Dispatch for real on Redis Streams and RabbitMQ: publish, crash, re-run, read back.
Skipped with a reason when the service is not reachable on this machine."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from rightsend import dispatch
from rightsend.dispatch.transports import AmqpTransport, RedisTransport

from .conftest import Crash, CrashingTransport, D, logged_ids, queued_ids

pytestmark = pytest.mark.services
REDIS_URL = os.environ.get("RIGHTSEND_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("RIGHTSEND_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture
def redis_names():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    tag = uuid.uuid4().hex[:8]
    names = (f"rightsend-test:{tag}:messages", f"rightsend-test:{tag}:published")
    yield client, names
    client.delete(*names)
    client.close()


@pytest.fixture
def amqp_queue():
    pika = pytest.importorskip("pika")
    try:
        conn = pika.BlockingConnection(
            pika.URLParameters(AMQP_URL + "?connection_attempts=1&socket_timeout=3")
        )
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"RabbitMQ not reachable at {AMQP_URL}: {exc}")
    name = f"rightsend.test.{uuid.uuid4().hex[:8]}"
    ch = conn.channel()
    yield ch, name
    ch.queue_delete(name)
    conn.close()


def redis_read(client, stream):
    entries = client.xrange(stream)
    return [(f[b"message_id"].decode(), json.loads(f[b"payload"])) for _, f in entries]


def amqp_read(ch, queue):
    out = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((props.message_id, props.delivery_mode, json.loads(body)))


def test_redis_streams_crash_then_rerun_exactly_once(decided, redis_names):
    client, (stream, published) = redis_names
    with pytest.raises(Crash):
        dispatch.run(
            decided,
            D,
            transport=CrashingTransport(RedisTransport(REDIS_URL, stream, published), 7),
            batch_size=5,
        )
    assert len(redis_read(client, stream)) == 7 and len(logged_ids(decided)) == 5
    result = dispatch.run(decided, D, transport=RedisTransport(REDIS_URL, stream, published), batch_size=5)
    ids = queued_ids(decided)
    got = redis_read(client, stream)
    assert sorted(m for m, _ in got) == sorted(ids)  # each exactly once, in the stream
    assert all(p["message_id"] == m and p["is_holdout"] is False for m, p in got)
    assert client.scard(published) == len(ids)
    assert result == {
        "published": len(ids) - 7,
        "already_published": 7,
        "transport": "redis",
        "messages": len(ids),
    }
    again = dispatch.run(decided, D, transport=RedisTransport(REDIS_URL, stream, published))
    assert again["published"] == 0 and len(redis_read(client, stream)) == len(ids)


def test_rabbitmq_crash_at_batch_boundary_then_rerun_exactly_once(decided, amqp_queue):
    ch, queue = amqp_queue
    with pytest.raises(Crash):
        dispatch.run(
            decided, D, transport=CrashingTransport(AmqpTransport(AMQP_URL, queue), 10), batch_size=10
        )
    # 10 confirmed but the crash hit before the record: RabbitMQ keeps them, the log does not.
    assert len(logged_ids(decided)) == 0
    ch.queue_purge(queue)  # a consumer took those 10 meanwhile
    with pytest.raises(Crash):
        dispatch.run(
            decided, D, transport=CrashingTransport(AmqpTransport(AMQP_URL, queue), 20), batch_size=10
        )
    dispatch.run(decided, D, transport=AmqpTransport(AMQP_URL, queue), batch_size=10)
    ids = queued_ids(decided)
    got = amqp_read(ch, queue)
    # The second crash came before publishing batch 3, after batch 2 was recorded: exactly once.
    # (Batch 2 - the crashed-at-record one - is re-sent: at least once, deduped by message_id.)
    counts = {m: sum(1 for g in got if g[0] == m) for m in ids}
    assert set(counts) == set(ids) and all(c >= 1 for c in counts.values())
    assert sum(counts.values()) == len(ids) + 10  # only the one ambiguous batch twice
    assert all(dm == 2 and body["message_id"] == m for m, dm, body in got)  # persistent, id set
    assert sorted(logged_ids(decided)) == sorted(ids)


def test_rabbitmq_clean_crash_between_batches_is_exactly_once(decided, amqp_queue):
    ch, queue = amqp_queue

    class DieBeforeBatch:
        name = "amqp"

        def __init__(self, inner, batches):
            self.inner, self.left = inner, batches

        def publish(self, batch):
            if self.left == 0:
                raise Crash("crashed between batches")
            self.left -= 1
            return self.inner.publish(batch)

        def close(self):
            self.inner.close()

    with pytest.raises(Crash):
        dispatch.run(decided, D, transport=DieBeforeBatch(AmqpTransport(AMQP_URL, queue), 2), batch_size=10)
    result = dispatch.run(decided, D, transport=AmqpTransport(AMQP_URL, queue), batch_size=10)
    ids = queued_ids(decided)
    got = [m for m, _, _ in amqp_read(ch, queue)]
    assert sorted(got) == sorted(ids)
    assert result["already_published"] == 20 and result["published"] == len(ids) - 20
