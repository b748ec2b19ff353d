"""`ums-find status`: how far the view has read each partition, the DLQ depth, the row count."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ums_find import kafka
from ums_find.settings import Settings
from ums_find.store import ProjectionStore


@dataclass(frozen=True)
class PartitionStatus:
    """One partition: the stored next offset (None: none yet), the watermarks, what is left.

    `lag` is negative where the checkpoint lies beyond the partition's end
    (`checkpoint_ahead`: the topic was recreated or truncated).
    """

    partition: int
    checkpoint: int | None
    high_watermark: int
    lag: int
    low_watermark: int = 0
    checkpoint_ahead: bool = False

    @classmethod
    def of(cls, partition: int, checkpoint: int | None, low: int, high: int) -> PartitionStatus:
        """From the stored checkpoint and the watermarks."""
        if checkpoint is not None and checkpoint > high:
            return cls(partition, checkpoint, high, high - checkpoint, low, checkpoint_ahead=True)
        # Records deleted below the low watermark can no longer be read: they are no lag.
        return cls(partition, checkpoint, high, high - max(low, checkpoint or 0), low)


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
        """Records not yet applied, over the partitions whose checkpoints are not ahead."""
        return sum(p.lag for p in self.partitions if not p.checkpoint_ahead)

    @property
    def ahead(self) -> list[int]:
        """Partitions whose checkpoint lies beyond their end."""
        return [p.partition for p in self.partitions if p.checkpoint_ahead]

    def as_json(self) -> dict[str, Any]:
        """A plain dict for `--json`."""
        return {**asdict(self), "lag": self.lag, "checkpoints_ahead": self.ahead}


def gather(settings: Settings, timeout_s: float = 10.0) -> Status:
    """Ask the broker and the database; raises KafkaException, LookupError or DatabaseUnavailable."""
    consumer = kafka.consumer(settings.kafka, "ums-find-status")
    try:
        marks = kafka.watermarks(consumer, settings.kafka.topic, timeout_s)
        dlq = kafka.watermarks(consumer, settings.kafka.dlq_topic, timeout_s)
    finally:
        consumer.close()
    store = ProjectionStore(settings.mysql, settings.consumer.name, settings.kafka.topic)
    try:
        stored = store.load_positions(marks)
        rows = store.count_rows()
    finally:
        store.close()
    parts = [PartitionStatus.of(p, stored[p], low, high) for p, (low, high) in marks.items()]
    depth = sum(high - low for low, high in dlq.values())
    return Status(settings.kafka.topic, settings.consumer.name, parts, settings.kafka.dlq_topic, depth, rows)


def render(status: Status) -> str:
    """A readable table."""
    lines = [f"topic {status.topic}, consumer {status.consumer}", "partition  checkpoint  high  lag"]
    for p in status.partitions:
        checkpoint = "-" if p.checkpoint is None else str(p.checkpoint)
        flag = "  checkpoint ahead of the partition's end" if p.checkpoint_ahead else ""
        lines.append(f"{p.partition:>9}  {checkpoint:>10}  {p.high_watermark:>4}  {p.lag:>3}{flag}")
    lines.append(
        f"lag {status.lag}; dead letters in {status.dlq_topic}: {status.dlq_depth}; rows {status.rows}"
    )
    if status.ahead:
        lines.append(
            f"checkpoints ahead on partitions {status.ahead}: the topic was recreated or truncated; "
            "the consumer reads them from their beginning again (UMS_ON_CHECKPOINT_AHEAD=reset)"
        )
    return "\n".join(lines)
