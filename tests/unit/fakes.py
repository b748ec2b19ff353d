"""In-memory stand-ins for the store and the consume loop's ports, for tests of pure logic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from confluent_kafka import KafkaException, Message, TopicPartition

from consumers.ports import Rebalance
from ums_find.store import Change, DatabaseUnavailable, Position, StalePosition, UserRecord


class FakeReader:
    """A view held in a dict, compared case-blind as the database's collation does."""

    def __init__(self, rows: dict[str, tuple[int, datetime]] | None = None, down: bool = False) -> None:
        self.rows = dict(rows or {})
        self.down = down
        self.asked: list[str] = []
        self.checkpoints: dict[int, int] = {}

    def fetch(self, name: str) -> UserRecord | None:
        self.ping()
        self.asked.append(name)
        for stored, (phone, since) in self.rows.items():
            if stored.casefold() == name.casefold():
                return UserRecord(stored, phone, since)
        return None

    def ping(self) -> None:
        if self.down:
            raise DatabaseUnavailable("database unavailable: fake outage")

    def positions(self) -> dict[int, int]:
        self.ping()
        return dict(self.checkpoints)


# ---- the consume loop's ports: a record source, a projection writer, a dead-letter sink ----


class FakeSource:
    """A group member over an in-memory topic: assign/pause/resume/seek/consume/watermarks.

    `rebalances` are served, in order, by the next `poll` or `consume` (as librdkafka serves
    its callbacks): each is ("assign" | "revoke", partitions).
    """

    def __init__(self, topic: str, logs: dict[int, list[bytes | None]], low: dict[int, int] | None = None):
        self.topic, self.logs, self.low = topic, logs, dict(low or {})
        self.fetch: dict[int, int] = {}
        self.paused: set[int] = set()
        self.pauses: list[set[int]] = []  # what was paused at each poll
        self.seeks: list[tuple[int, int]] = []
        self.commits: list[dict[int, int]] = []
        self.assigns: list[dict[int, int]] = []  # each assignment's requested offsets
        self.rebalances: list[tuple[str, list[int]]] = []
        self.events: list[Message] = []  # error events, handed out first by the next consume
        self.refuse_seek = False
        self._callbacks: dict[str, Rebalance] = {}

    def high(self, part: int) -> int:
        return len(self.logs[part])

    def subscribe(
        self, topics: list[str], on_assign: Rebalance, on_revoke: Rebalance, on_lost: Rebalance
    ) -> None:
        self._callbacks = {"assign": on_assign, "revoke": on_revoke}

    def _serve(self) -> None:
        while self.rebalances:
            kind, parts = self.rebalances.pop(0)
            self._callbacks[kind](self, [TopicPartition(self.topic, p) for p in parts])

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        self._serve()
        out, self.events = self.events[:num_messages], self.events[num_messages:]
        for part in sorted(self.fetch):
            while part not in self.paused and self.fetch[part] < self.high(part) and len(out) < num_messages:
                offset = self.fetch[part]
                value = self.logs[part][offset]
                out.append(
                    Message(topic=self.topic, partition=part, offset=offset, value=value, timestamp=(1, 0))
                )
                self.fetch[part] = offset + 1
        return out

    def poll(self, timeout: float = -1) -> Message | None:
        self.pauses.append(set(self.paused))
        self._serve()
        return None

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigns.append({tp.partition: tp.offset for tp in partitions})
        self.fetch = {tp.partition: self._where(tp) for tp in partitions}

    def _where(self, tp: TopicPartition) -> int:
        return self.low.get(tp.partition, 0) if tp.offset < 0 else tp.offset

    def unassign(self) -> None:
        self.fetch = {}

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(self.topic, p) for p in sorted(self.fetch)]

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.paused.update(tp.partition for tp in partitions)

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.paused.difference_update(tp.partition for tp in partitions)

    def seek(self, partition: TopicPartition) -> None:
        if self.refuse_seek:
            raise KafkaException("seek refused")
        self.seeks.append((partition.partition, partition.offset))
        self.fetch[partition.partition] = self._where(partition)

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        return self.low.get(partition.partition, 0), self.high(partition.partition)

    def list_topics(self, topic: str, timeout: float) -> Any:
        meta = SimpleNamespace(error=None, partitions=dict.fromkeys(self.logs))
        return SimpleNamespace(topics={self.topic: meta})

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool = True) -> None:
        self.commits.append({tp.partition: tp.offset for tp in offsets})


class FakeWriter:
    """A view and its checkpoints in dicts, with the database's fence; `faults` fail the next calls."""

    def __init__(self, checkpoints: dict[int, int] | None = None) -> None:
        self.checkpoints: dict[int, int] = dict(checkpoints or {})
        self.rows: dict[str, int | None] = {}
        self.batches: list[list[Position]] = []
        self.faults: list[Exception] = []

    def _fault(self) -> None:
        if self.faults:
            raise self.faults.pop(0)

    def load_positions(self, partitions: Iterable[int]) -> dict[int, int | None]:
        self._fault()
        return {p: self.checkpoints.get(p) for p in partitions}

    def apply(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        self._fault()
        for pos in positions:
            if self.checkpoints.get(pos.partition) != pos.expected:
                raise StalePosition(f"partition {pos.partition} moved")
        for change in changes:
            self.rows[change.name] = change.row
        self.checkpoints.update({p.partition: p.next_offset for p in positions})
        self.batches.append(list(positions))


class FakeDeadLetters:
    """Keeps (partition, offset, reason) of each dead letter; `faults` fail the next sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str]] = []
        self.faults: list[Exception] = []

    def send(self, poison: Sequence[tuple[Message, str]]) -> None:
        if not poison:
            return
        if self.faults:
            raise self.faults.pop(0)
        self.sent.extend((int(m.partition() or 0), int(m.offset() or 0), r) for m, r in poison)


class FakeClock:
    """A monotonic clock the test moves by hand (`now` in seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now
