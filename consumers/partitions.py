"""The partitions a consumer owns: where the view stands in each, and how they start and move."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from consumers.assignment import Assignment
from consumers.metrics import ConsumerMetrics
from consumers.ports import ProjectionWriter, RecordSource
from consumers.start import CheckpointAhead, Start
from ums_find.kafka import OFFSET_BEGINNING, KafkaException, TopicPartition
from ums_find.store import DatabaseUnavailable, Position

log = logging.getLogger(__name__)


class Partitions:
    """The owned partitions of one topic, kept in step with the group's rebalances.

    `positions` holds the partitions whose checkpoints are loaded; `pending` those
    assigned whose checkpoints are not (yet) readable: they stay paused until they are.
    `expected` holds, for a partition read again from its beginning, the stale checkpoint
    its first batch must find (and replaces) in the database.
    """

    def __init__(
        self,
        consumer: RecordSource,
        store: ProjectionWriter,
        topic: str,
        metrics: ConsumerMetrics,
        on_checkpoint_ahead: str,
    ) -> None:
        self._consumer, self._store, self._topic, self._metrics = consumer, store, topic, metrics
        self.assignment = Assignment(consumer, topic, metrics, on_checkpoint_ahead)
        self.positions: dict[int, int | None] = {}
        self.pending: set[int] = set()
        self.expected: dict[int, int | None] = {}
        # Raised by the loop: an exception inside a rebalance callback would be lost.
        self.failure: CheckpointAhead | None = None

    def on_assign(self, consumer: RecordSource, partitions: list[TopicPartition]) -> None:
        """Start the assigned partitions at their checkpoints, or paused until those are readable."""
        parts = [tp.partition for tp in partitions]
        try:
            starts = {s.partition: s for s in self.assignment.starts(self._store.load_positions(parts))}
        except CheckpointAhead as exc:
            self.failure = exc
            starts = {}
        except (DatabaseUnavailable, KafkaException) as exc:
            # Retrying here would block the poll thread (and the group's heartbeat of progress):
            # start paused and let the loop load them, polling between tries.
            log.warning(
                "assigned %s; checkpoints or watermarks unreadable (%s): paused until loaded", parts, exc
            )
            starts = {}
            self.pending.update(parts)
        if not starts:
            consumer.assign(partitions)
            consumer.pause(partitions)
            return
        for tp in partitions:
            tp.offset = starts[tp.partition].fetch
            self._hold(starts[tp.partition])
        log.info("assigned %s", {p: s.position for p, s in sorted(starts.items())})
        consumer.assign(partitions)
        # librdkafka keeps a partition's pause across unassign and assign: a partition
        # paused during a retry and handed back to us must fetch again.
        consumer.resume(partitions)

    def on_revoke(self, consumer: RecordSource, partitions: list[TopicPartition]) -> None:
        """Forget the revoked (or lost) partitions."""
        # Batches are applied synchronously in the loop, so none is in flight here; a batch
        # held by the retry loop is re-planned without these partitions.
        parts = [tp.partition for tp in partitions]
        for part in parts:
            self.positions.pop(part, None)
            self.pending.discard(part)
            self.expected.pop(part, None)
        self._metrics.forget(parts)
        log.info("revoked %s", parts)
        consumer.unassign()

    def read_from_beginning(self, partitions: Sequence[int]) -> None:
        """Own exactly these partitions, with nothing stored for them yet."""
        self.positions.clear()
        self.positions.update(dict.fromkeys(partitions))
        self._consumer.assign([TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in partitions])

    def reload(self, partitions: list[int]) -> None:
        """Pause these partitions until their checkpoints are loaded again."""
        for part in partitions:
            self.positions.pop(part, None)
            self.expected.pop(part, None)
            self.pending.add(part)
        self._consumer.pause([TopicPartition(self._topic, p) for p in partitions])

    def pending_starts(self) -> list[Start]:
        """Where the pending partitions start; DatabaseUnavailable or KafkaException to retry."""
        return self.assignment.starts(self._store.load_positions(sorted(self.pending)))

    def start(self, starts: list[Start]) -> None:
        """Fetch the pending partitions from their starts."""
        started = {}
        for start in starts:
            if start.partition not in self.pending:  # revoked while we waited
                continue
            self.pending.discard(start.partition)
            self._hold(start)
            started[start.partition] = start.position
            # Always a seek: a partition assigned paused would otherwise fetch from the
            # group's committed offset, which is no truth of what the view holds.
            self.seek(TopicPartition(self._topic, start.partition, start.fetch))
        log.info("checkpoints loaded %s", started)
        self.resume_loaded()

    def fenced(self, positions: Sequence[Position]) -> list[Position]:
        """A batch's positions; one read again from its beginning replaces its stale checkpoint."""
        return [replace(p, expected=self.expected.get(p.partition, p.expected)) for p in positions]

    def advance(self, positions: Sequence[Position]) -> None:
        """The view now stands at these positions."""
        for pos in positions:
            self.positions[pos.partition] = pos.next_offset
            self.expected.pop(pos.partition, None)

    def resume_loaded(self) -> None:
        """Fetch again the owned partitions whose checkpoints are loaded."""
        loaded = [tp for tp in self._consumer.assignment() if tp.partition in self.positions]
        if loaded:
            self._consumer.resume(loaded)

    def unstick(self, idle_s: float) -> None:
        """Re-seek the partitions whose records wait at the broker though none came for `idle_s`."""
        # After a broker restart librdkafka may leave a partition's fetcher idle although
        # records wait (librdkafka issue 5153). (Where partitions start is decided on assignment.)
        for part, offset in list(self.positions.items()):
            tp = TopicPartition(self._topic, part)
            try:
                low, high = self._consumer.get_watermark_offsets(tp, timeout=2.0, cached=False)
            except KafkaException:
                continue
            offset = low if offset is None else offset
            if high > offset:
                log.warning(
                    "no records for %.0f s though %s[%d] has %d waiting; re-seeking to %d",
                    idle_s,
                    self._topic,
                    part,
                    high - offset,
                    offset,
                )
                self.seek(TopicPartition(self._topic, part, offset))

    def highs(self) -> dict[int, int]:
        """The high watermarks the client knows of the loaded partitions (no broker call)."""
        highs: dict[int, int] = {}
        for part in self.positions:
            _low, high = self._consumer.get_watermark_offsets(TopicPartition(self._topic, part), cached=True)
            if high is not None and high >= 0:
                highs[part] = high
        return highs

    def seek(self, tp: TopicPartition) -> None:
        """Fetch the partition from the offset next; a refused seek assigns everything again."""
        try:
            self._consumer.seek(tp)
        except KafkaException as exc:
            # A partition whose fetch failed (an offset out of range) refuses a seek: assign
            # the whole assignment again, each partition from where the view has applied it.
            log.info("seek of %s[%d] refused (%s); assigning again", self._topic, tp.partition, exc)
            self._reassign(tp)

    def _hold(self, start: Start) -> None:
        self.positions[start.partition] = start.position
        if start.expected != start.position:
            self.expected[start.partition] = start.expected
        else:
            self.expected.pop(start.partition, None)

    def _reassign(self, target: TopicPartition) -> None:
        parts = [tp.partition for tp in self._consumer.assignment()]
        loaded = {p: self.positions[p] for p in parts if p in self.positions}
        fetch = {p: OFFSET_BEGINNING if o is None else o for p, o in loaded.items()}
        fetch[target.partition] = target.offset  # where the seek was to go
        self._consumer.assign(
            [TopicPartition(self._topic, p, o) for p, o in fetch.items()]
            + [TopicPartition(self._topic, p) for p in parts if p not in fetch]
        )
        self._consumer.pause([TopicPartition(self._topic, p) for p in parts if p not in loaded])
