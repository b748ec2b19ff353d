"""`ums-find status`: how far the view has read each partition, the DLQ depth, the row count."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from ums_find.settings import Settings
from ums_find.store import ProjectionStore


@dataclass(frozen=True)
class PartitionStatus:
    """One partition: the stored next offset (None: none yet), the high watermark, what is left."""

    partition: int
    checkpoint: int | None
    high_watermark: int
    lag: int


@dataclass(frozen=True)
class Status:
    """The consumer's position, the dead letters and the view's size."""

    topic: str
    consumer: str
    partitions: list[PartitionStatus]
    dlq_topic: str
    dlq_depth: int
    rows: int

    @property
    def lag(self) -> int:
        """Records not yet applied, over all partitions."""
        return sum(p.lag for p in self.partitions)

    def as_json(self) -> dict[str, Any]:
        """A plain dict for `--json`."""
        return {**asdict(self), "lag": self.lag}


def watermarks(consumer: Consumer, topic: str, timeout_s: float) -> dict[int, tuple[int, int]]:
    """(low, high) of every partition of `topic`, from the broker."""
    meta = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
    if meta.error is not None:
        raise LookupError(f"topic {topic}: {meta.error}")
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s, cached=False)
        for p in sorted(meta.partitions)
    }


def gather(settings: Settings, timeout_s: float = 10.0) -> Status:
    """Ask the broker and the database; raises KafkaException, LookupError or DatabaseUnavailable."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": "ums-find-status"})
    try:
        marks = watermarks(consumer, settings.kafka.topic, timeout_s)
        dlq = watermarks(consumer, settings.kafka.dlq_topic, timeout_s)
    finally:
        consumer.close()
    store = ProjectionStore(settings, settings.consumer.name, settings.kafka.topic)
    try:
        stored = store.load_positions(marks)
        rows = store.count_rows()
    finally:
        store.close()
    parts = [
        PartitionStatus(p, stored[p], high, max(0, high - (stored[p] or low)))
        for p, (low, high) in marks.items()
    ]
    depth = sum(high - low for low, high in dlq.values())
    return Status(settings.kafka.topic, settings.consumer.name, parts, settings.kafka.dlq_topic, depth, rows)


def render(status: Status) -> str:
    """A readable table."""
    lines = [f"topic {status.topic}, consumer {status.consumer}", "partition  checkpoint  high  lag"]
    for p in status.partitions:
        checkpoint = "-" if p.checkpoint is None else str(p.checkpoint)
        lines.append(f"{p.partition:>9}  {checkpoint:>10}  {p.high_watermark:>4}  {p.lag:>3}")
    lines.append(
        f"lag {status.lag}; dead letters in {status.dlq_topic}: {status.dlq_depth}; rows {status.rows}"
    )
    return "\n".join(lines)
