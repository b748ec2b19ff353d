"""What the consume loop asks of its record source, its projection writer and its dead-letter sink."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, Protocol

from ums_find.kafka import Message, TopicPartition
from ums_find.store import Change, Position

Rebalance = Callable[[Any, list[TopicPartition]], None]


class RecordSource(Protocol):
    """A group member's consumer: the part of confluent-kafka's Consumer the loop uses."""

    def subscribe(
        self,
        topics: list[str],
        on_assign: Rebalance | None = ...,
        on_revoke: Rebalance | None = ...,
        on_lost: Rebalance | None = ...,
    ) -> None:
        """Join the group; the callbacks run inside `poll` and `consume`."""

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        """Up to `num_messages` records (or error events) of unpaused partitions."""
        ...

    def poll(self, timeout: float) -> Message | None:
        """Serve callbacks (and fetch at most one record)."""

    def assign(self, partitions: list[TopicPartition]) -> None:
        """Own exactly these partitions, each fetched from its offset."""

    def unassign(self) -> None:
        """Own nothing."""

    def assignment(self) -> list[TopicPartition]:
        """The partitions owned."""
        ...

    def pause(self, partitions: list[TopicPartition]) -> None:
        """Stop fetching these."""

    def resume(self, partitions: list[TopicPartition]) -> None:
        """Fetch these again."""

    def seek(self, partition: TopicPartition) -> None:
        """Fetch the partition from its offset next (KafkaException if refused)."""

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = ..., cached: bool = ...
    ) -> tuple[int, int]:
        """The partition's (low, high) watermarks (KafkaException if unknown)."""
        ...

    def list_topics(self, topic: str, timeout: float) -> Any:
        """The topic's metadata."""

    def commit(self, *, offsets: list[TopicPartition], asynchronous: Literal[True]) -> None:
        """Tell lag tools how far we are (the database holds the truth)."""


class ProjectionWriter(Protocol):
    """The view and its checkpoints, written together."""

    def load_positions(self, partitions: Iterable[int]) -> dict[int, int | None]:
        """Each partition's stored next offset (None: none stored); DatabaseUnavailable to retry."""
        ...

    def apply(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        """Write the changes and advance the checkpoints in one transaction, in order of calls.

        Raises StalePosition when a stored checkpoint is not the position's `expected` (another
        writer moved it), DatabaseUnavailable on a fault worth retrying. A pipelined writer may
        return before the batch is durable: its failure then ends the run at a later call.
        """


class DeadLetterSink(Protocol):
    """Where poison records go before the checkpoint passes them."""

    def send(self, poison: Sequence[tuple[Message, str]]) -> None:
        """Write every dead letter, or raise (KafkaUnavailable: retry; DeadLettersRefused: stop)."""
