"""Dead letters: read them back (`ums-find dlq show`) and re-publish chosen ones (`dlq redrive`)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from consumers.kafka import KafkaUnavailable, record_timestamp
from ums_find import kafka
from ums_find.kafka import Message, Outgoing, Producer, TopicPartition
from ums_find.settings import KafkaSettings

Header = tuple[str, str | bytes | None]


@dataclass(frozen=True)
class DeadLetter:
    """One record of the dead-letter topic, with where it came from and why."""

    position: str  # <partition>:<offset> in the dead-letter topic
    original: str  # <partition>:<offset> in the main topic
    reason: str
    key: bytes | None
    value: bytes | None
    headers: list[Header]
    timestamp_ms: int

    def original_headers(self) -> list[Header]:
        """The headers the producer sent, without ours."""
        return [(k, v) for k, v in self.headers if not k.startswith("ums.")]


def _text(value: str | bytes | None) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value or ""


def _letter(msg: Message) -> DeadLetter:
    headers: list[Header] = [(h[0], h[1]) for h in msg.headers() or []]
    ours = {k: _text(v) for k, v in headers if k.startswith("ums.")}
    original = f"{ours.get('ums.original.partition', '?')}:{ours.get('ums.original.offset', '?')}"
    return DeadLetter(
        f"{msg.partition()}:{msg.offset()}",
        original,
        ours.get("ums.error", ""),
        msg.key(),
        msg.value(),
        headers,
        record_timestamp(msg),
    )


def read_dead_letters(settings: KafkaSettings, timeout_s: float = 30.0) -> list[DeadLetter]:
    """Every dead letter now on the topic, in partition and offset order."""
    consumer = kafka.consumer(settings, "ums-find-dlq")
    try:
        marks = {
            p: m for p, m in kafka.watermarks(consumer, settings.dlq_topic, timeout_s).items() if m[1] > m[0]
        }
        consumer.assign([TopicPartition(settings.dlq_topic, p, low) for p, (low, _high) in marks.items()])
        found: list[DeadLetter] = []
        left = {p: high for p, (_low, high) in marks.items()}
        deadline = time.monotonic() + timeout_s
        while left and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is None:
                    found.append(_letter(msg))
                    part, offset = int(msg.partition() or 0), int(msg.offset() or 0)
                    if offset + 1 >= left.get(part, 0):
                        left.pop(part, None)
        if left:
            raise KafkaUnavailable(f"dead letters not all read within {timeout_s} s")
    finally:
        consumer.close()
    return sorted(found, key=lambda d: tuple(int(x) for x in d.position.split(":")))


def redrive(producer: Producer, topic: str, letters: list[DeadLetter], timeout_s: float = 30.0) -> int:
    """Re-publish each chosen original once (key, value, headers and timestamp); how many the broker took."""
    unique = {d.original: d for d in letters}  # a crash may have dead-lettered one twice
    delivery = kafka.deliver_all(producer, [_original(topic, d) for d in unique.values()], timeout_s)
    if not delivery.complete:
        left = delivery.outstanding + delivery.unqueued
        raise KafkaUnavailable(f"redrive incomplete: {left} pending, errors {delivery.errors()}")
    return len(unique)


def _original(topic: str, letter: DeadLetter) -> Outgoing:
    # Back to the partition it came from: the records of its name are there, in order.
    part = letter.original.split(":", 1)[0]
    return Outgoing(
        topic,
        letter.key,
        letter.value,
        headers=letter.original_headers(),
        partition=int(part) if part.isdigit() else -1,
        timestamp=letter.timestamp_ms,
    )
