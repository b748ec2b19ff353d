"""Test data: users, a private database loaded in bulk, and topics filled fast."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from ums_find.settings import Settings
from ums_find.store import connect, migrate

Row = tuple[str, int, datetime]
_ALPHABET = string.ascii_letters + string.digits
_EPOCH = datetime(2020, 1, 1)


def make_users(count: int, seed: int = 7) -> list[Row]:
    """`count` users with distinct names (8 to 16 letters and digits, a counter keeps them apart)."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for i in range(count):
        name = f"{''.join(rng.choices(_ALPHABET, k=rng.randint(2, 10)))}u{i:06d}"
        since = _EPOCH + timedelta(seconds=rng.randint(0, 150_000_000), microseconds=rng.randint(0, 999_999))
        rows.append((name, rng.randint(9_000_000_000, 999_999_999_999_999), since))
    return rows


def missing_names(count: int, seed: int = 11) -> list[str]:
    """Valid names that no generated user has (they carry `x` where users carry `u`)."""
    rng = random.Random(seed)
    return [f"{''.join(rng.choices(_ALPHABET, k=rng.randint(2, 10)))}x{i:06d}" for i in range(count)]


def encode(row: Row) -> bytes:
    """The record value AddService would write (ISO-8601 UTC `since`)."""
    since = row[2].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps({"name": row[0], "phone": row[1], "since": since}).encode()


@contextmanager
def private_database(settings: Settings, name: str) -> Iterator[Settings]:
    """A migrated database of this run's own, dropped at the end."""
    own = settings.override(mysql_database=name)
    migrate(own)
    try:
        yield own
    finally:
        execute(own, f"DROP DATABASE IF EXISTS `{name}`")


def execute(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """One statement in autocommit; its rows."""
    conn = connect(settings, database=False)
    try:
        cur = conn.cursor()
        cur.execute(sql, list(params))
        return list(cur.fetchall()) if cur.with_rows else []
    finally:
        conn.close()


def bulk_upsert(conn: Any, table: str, rows: Sequence[Row], batch: int = 2000) -> None:
    """Multi-row upserts of `batch` rows each, one autocommitted statement a batch."""
    cur = conn.cursor()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        marks = ", ".join(["(%s, %s, %s)"] * len(chunk))
        cur.execute(
            f"INSERT INTO `{table}` (name, phone, since) VALUES {marks} "
            "ON DUPLICATE KEY UPDATE phone = VALUES(phone), since = VALUES(since)",
            [value for row in chunk for value in row],
        )
    cur.close()


def load_users(settings: Settings, rows: Sequence[Row]) -> None:
    """Fill the view table directly (no Kafka): the lookups' data set."""
    conn = connect(settings)
    try:
        bulk_upsert(conn, "ums_users", rows, 5000)
    finally:
        conn.close()


@contextmanager
def private_topic(settings: Settings, name: str, partitions: int = 3) -> Iterator[Settings]:
    """A compacted topic and its DLQ of this run's own, deleted at the end."""
    own = settings.override(topic=name, dlq_topic=f"{name}.dlq")
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap})
    topics = [
        NewTopic(own.kafka.topic, partitions, 1, config={"cleanup.policy": "compact"}),
        NewTopic(own.kafka.dlq_topic, 1, 1, config={"retention.ms": "-1"}),
    ]
    for future in admin.create_topics(topics, operation_timeout=30).values():
        future.result(timeout=60)
    try:
        yield own
    finally:
        for future in admin.delete_topics([own.kafka.topic, own.kafka.dlq_topic]).values():
            try:
                future.result(timeout=30)
            except Exception:  # noqa: BLE001 - a leftover topic harms nobody
                pass


def fast_producer(settings: Settings) -> Producer:
    """A producer tuned for bulk loading: big batches, some linger."""
    return Producer(
        {
            "bootstrap.servers": settings.kafka.bootstrap,
            "acks": "all",
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "queue.buffering.max.messages": 500_000,
        }
    )


def publish(settings: Settings, topic: str, items: Sequence[tuple[bytes, bytes]]) -> None:
    """Write (key, value) records fast; raise unless the broker took every one."""
    producer = fast_producer(settings)
    failed: list[Any] = []

    def done(err: Any, _msg: Any) -> None:
        if err is not None:
            failed.append(err)

    for key, value in items:
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=done)
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(120) or failed:
        raise RuntimeError(f"publishing failed: {failed[:3]} ({len(failed)} errors)")


def publish_users(settings: Settings, rows: Sequence[Row]) -> None:
    """The users as AddService records, keyed by name."""
    publish(settings, settings.kafka.topic, [(row[0].encode(), encode(row)) for row in rows])


def end_offsets(settings: Settings, topic: str) -> int:
    """The sum of the topic's high watermarks: how many records it holds."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": "bench-watermarks"})
    try:
        meta = consumer.list_topics(topic, timeout=30).topics[topic]
        total = 0
        for part in meta.partitions:
            total += consumer.get_watermark_offsets(TopicPartition(topic, part), timeout=30)[1]
        return total
    finally:
        consumer.close()
