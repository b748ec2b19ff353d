"""Kafka for tests: topics of their own, raw producing and reading topics back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence

from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from ums_find.settings import Settings


def admin(settings: Settings) -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.kafka.bootstrap})


def create_topics(
    settings: Settings, partitions: int = 3, compact: bool = True, main_config: dict[str, str] | None = None
) -> None:
    """The topic (compacted, or kept forever) and its DLQ as `ums-find` makes it, created and waited for."""
    from consumers.topics import wanted_topics

    policy = {"cleanup.policy": "compact"} if compact else {"retention.ms": "-1"}
    _main, dlq = wanted_topics(settings.kafka)
    topics = [
        NewTopic(settings.kafka.topic, partitions, 1, config={**policy, **(main_config or {})}),
        NewTopic(settings.kafka.dlq_topic, partitions, 1, config=dlq.config),
    ]
    client = admin(settings)  # kept alive until the futures resolve
    for future in client.create_topics(topics, operation_timeout=30).values():
        future.result(timeout=60)


def delete_topics(settings: Settings) -> None:
    """Best-effort removal of a test's topics."""
    client = admin(settings)
    for future in client.delete_topics([settings.kafka.topic, settings.kafka.dlq_topic]).values():
        try:
            future.result(timeout=30)
        except Exception:  # noqa: BLE001 - a topic left behind harms no other test
            pass


def producer(settings: Settings) -> Producer:
    return Producer({"bootstrap.servers": settings.kafka.bootstrap, "acks": "all", "linger.ms": 5})


def produce(
    settings: Settings,
    records: Sequence[tuple[bytes | None, bytes | None, int | None]],
    headers: list[tuple[str, bytes]] | None = None,
) -> list[Message]:
    """Write raw (key, value, timestamp) records in order; return them as delivered, in that order."""
    out: dict[int, Message] = {}
    errors: list[str] = []
    prod = producer(settings)

    def on_delivery(index: int) -> Callable[[KafkaError | None, Message], None]:
        def done(err: KafkaError | None, msg: Message) -> None:
            (errors.append(str(err)) if err is not None else out.__setitem__(index, msg))

        return done

    for index, (key, value, ts) in enumerate(records):
        kwargs = {"timestamp": ts} if ts is not None else {}
        prod.produce(
            settings.kafka.topic,
            key=key,
            value=value,
            headers=headers,
            on_delivery=on_delivery(index),
            **kwargs,
        )
        prod.poll(0)
    prod.flush(30)
    assert len(out) == len(records), f"not every record was delivered: {errors[:3]}"
    return [out[i] for i in range(len(records))]


def read_all(settings: Settings, topic: str, expected: int, timeout_s: float = 30.0) -> list[Message]:
    """Read a topic from the start until `expected` records came or time ran out."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    found: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < expected and time.monotonic() < deadline:
            found.extend(m for m in consumer.consume(1000, 0.5) if m.error() is None)
    finally:
        consumer.close()
    return found
