"""Brokers behind one interface. ``publish(batch)`` returns, per message, whether it was
newly published or already there (broker-side dedup by message_id), with a broker ref.

- file  (default, no service): append-only JSONL per queue date under out/broker/;
        exactly once: ids already in the file are skipped, a torn last line is cut off;
        writers take turns on a file lock, so parallel bucket tasks may share a day's file.
- redis: Redis Streams XADD to 'rightsend:messages'; exactly once: one Lua script does
        SADD rightsend:published <id> and XADDs only when the id was new (atomic).
- amqp:  RabbitMQ durable queue, persistent messages, publisher confirms, message_id
        property set; at least once: a crash between confirm and dispatch_log record can
        re-publish a batch on re-run, so consumers dedupe on message_id.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

ENV_BROKER_URL = "RIGHTSEND_BROKER_URL"
Message = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    message_id: str
    new: bool  # False: the broker already had it (a re-run after a crash)
    broker_ref: str | None = None


class Transport(Protocol):
    name: str

    def publish(self, batch: Sequence[Message]) -> list[Outcome]: ...

    def close(self) -> None: ...


def _body(message: Message) -> str:
    return json.dumps(message, sort_keys=True, default=str)


class FileTransport:
    """Append-only JSONL per queue date; safe for several processes at once.

    Each publish holds an exclusive ``flock`` on the file while it catches up on the
    lines other processes appended since it last looked (their ids count as published),
    appends its new lines and fsyncs them - so two bucket tasks publishing to the same
    day at once never interleave lines, and a message id is written once whoever writes it.
    A torn last line (a crash mid-write: live writers only unlock after whole lines) is cut.
    """

    name = "file"

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.seen: dict[Path, set[str]] = {}
        self.read_to: dict[Path, int] = {}  # bytes of the file already parsed into seen

    def path_for(self, message: Message) -> Path:
        return self.directory / f"dt={message['queue_date']}" / "messages.jsonl"

    def _catch_up(self, path: Path, fh: Any) -> set[str]:
        """Ids in the file, reading only what was appended since the last call (lock held)."""
        size = os.fstat(fh.fileno()).st_size
        start = self.read_to.get(path, 0)
        if size < start:  # the file was replaced or cut: read it again from the start
            start = 0
            self.seen.pop(path, None)
        ids = self.seen.setdefault(path, set())
        fh.seek(start)
        data = fh.read()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):  # torn write from a crash: cut it off
            fh.truncate(start + len(complete))
        for line in complete.decode().splitlines():
            if line.strip():
                ids.add(json.loads(line)["message_id"])
        self.read_to[path] = start + len(complete)
        return ids

    def _append(self, path: Path, batch: Sequence[Message]) -> list[Outcome]:
        path.parent.mkdir(parents=True, exist_ok=True)
        out: list[Outcome] = []
        with open(path, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file is closed
            seen = self._catch_up(path, fh)
            lines = []
            for m in batch:
                if m["message_id"] in seen:
                    out.append(Outcome(m["message_id"], False, str(path)))
                    continue
                lines.append((_body(m) + "\n").encode())
                seen.add(m["message_id"])
                out.append(Outcome(m["message_id"], True, str(path)))
            if lines:
                fh.seek(0, os.SEEK_END)
                fh.write(b"".join(lines))
                fh.flush()
                os.fsync(fh.fileno())
                self.read_to[path] = fh.tell()
        return out

    def publish(self, batch: Sequence[Message]) -> list[Outcome]:
        by_day: dict[str, list[int]] = {}  # the file is the queue date's (one Path per day, not per message)
        for i, m in enumerate(batch):
            by_day.setdefault(m["queue_date"], []).append(i)
        out: list[Outcome | None] = [None] * len(batch)
        for rows in by_day.values():
            path = self.path_for(batch[rows[0]])
            for i, outcome in zip(rows, self._append(path, [batch[i] for i in rows]), strict=True):
                out[i] = outcome
        return [o for o in out if o is not None]

    def close(self) -> None:
        self.seen.clear()
        self.read_to.clear()


_XADD_ONCE = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  return redis.call('XADD', KEYS[1], '*', 'message_id', ARGV[1], 'channel', ARGV[3], 'payload', ARGV[2])
end
return false
"""


class RedisTransport:
    name = "redis"

    def __init__(self, url: str, stream: str, published_set: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self.stream, self.published_set = stream, published_set
        self.script = self.client.register_script(_XADD_ONCE)

    def publish(self, batch: Sequence[Message]) -> list[Outcome]:
        pipe = self.client.pipeline(transaction=False)
        for m in batch:
            self.script(
                keys=[self.stream, self.published_set],
                args=[m["message_id"], _body(m), m["channel"]],
                client=pipe,
            )
        refs = pipe.execute()
        return [
            Outcome(m["message_id"], ref is not None, ref.decode() if isinstance(ref, bytes) else ref)
            for m, ref in zip(batch, refs, strict=True)
        ]

    def close(self) -> None:
        self.client.close()


class AmqpTransport:
    name = "amqp"

    def __init__(self, url: str, queue: str):
        import pika

        self.pika = pika
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.queue_declare(queue=queue, durable=True)
        self.channel.confirm_delivery()  # basic_publish now waits for the broker's ack
        self.queue = queue

    def publish(self, batch: Sequence[Message]) -> list[Outcome]:
        out = []
        for m in batch:
            props = self.pika.BasicProperties(
                message_id=m["message_id"],
                delivery_mode=self.pika.DeliveryMode.Persistent,
                content_type="application/json",
                type=m["channel"],
            )
            # Raises (NackError / UnroutableError) unless the broker confirms it.
            self.channel.basic_publish(
                exchange="", routing_key=self.queue, body=_body(m), properties=props, mandatory=True
            )
            out.append(Outcome(m["message_id"], True, None))
        return out

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


def make_transport(
    url: str | None, default_dir: Path, stream: str, published_set: str, queue: str
) -> Transport:
    """unset / file://[dir] -> file; redis://host:port/db -> Redis Streams; amqp:// -> RabbitMQ."""
    if not url or url.startswith("file:"):
        parsed = urlparse(url or "file://")
        path = (parsed.netloc + parsed.path) if url else ""
        return FileTransport(Path(path) if path else default_dir)
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return RedisTransport(url, stream, published_set)
    if scheme in ("amqp", "amqps"):
        return AmqpTransport(url, queue)
    raise ValueError(f"{ENV_BROKER_URL}={url!r}: expected file://, redis:// or amqp://")
