"""The consume loop: poll a batch, dead-letter the poison, apply the rest with checkpoints."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import replace

from consumers.assignment import Assignment
from consumers.backoff import Backoff, RetryBudgetExceeded
from consumers.batch import Parser, Plan, plan
from consumers.kafka import DeadLetters, KafkaUnavailable, log_deduplicated
from consumers.metrics import ConsumerMetrics
from consumers.start import RESET, CheckpointAhead, Start
from ums_find.events import parse
from ums_find.kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition
from ums_find.store import DatabaseUnavailable, ProjectionStore, StalePosition

__all__ = ["CheckpointAhead", "Projector", "RetryBudgetExceeded"]

log = logging.getLogger(__name__)

STALL_CHECK_S = 15.0  # idle this long with records waiting: the fetcher is stuck


class Projector:
    """Keeps one view current from one topic, each record's effect applied once.

    `positions` holds the partitions whose checkpoints are loaded; `pending` those
    assigned whose checkpoints are not (yet) readable: they stay paused until they are.
    `expected` holds, for a partition read again from its beginning, the stale checkpoint
    its first batch must find (and replaces) in the database.
    """

    def __init__(
        self,
        consumer: Consumer,
        store: ProjectionStore,
        dead_letters: DeadLetters,
        topic: str,
        *,
        batch_size: int = 2000,
        batch_wait_s: float = 0.1,
        retry_limit_s: float = 300.0,
        metrics: ConsumerMetrics | None = None,
        on_checkpoint_ahead: str = RESET,
        parser: Parser = parse,
    ) -> None:
        self._consumer, self._store, self._dead_letters = consumer, store, dead_letters
        self._topic = topic
        self._batch_size, self._batch_wait_s = batch_size, batch_wait_s
        self._retry_limit_s = retry_limit_s
        self.metrics = metrics or ConsumerMetrics()
        self._parser = parser
        self.positions: dict[int, int | None] = {}
        self.pending: set[int] = set()
        self.expected: dict[int, int | None] = {}
        self.assignment = Assignment(consumer, topic, self.metrics, on_checkpoint_ahead)
        self._failure: CheckpointAhead | None = None
        self.applied = 0
        self.faulted = False
        self.last_turn = time.monotonic()
        self._stop = threading.Event()
        self._last_message = time.monotonic()

    def run(self, stop: threading.Event) -> None:
        """Turn the loop until `stop` is set; the batch in hand is finished (or abandoned) first."""
        self._stop = stop
        self.subscribe()
        while not stop.is_set():
            self.step()

    def subscribe(self) -> None:
        """Join the group; partitions start where their checkpoints say."""
        self._consumer.subscribe(
            [self._topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke
        )

    def step(self) -> None:
        """Load what checkpoints are missing, then poll one batch and apply it."""
        self._turned()
        if self._failure is not None:
            raise self._failure
        if self.pending:
            self._load_pending()
        messages = self._poll_batch()
        self._turned()
        if messages:
            self._last_message = time.monotonic()
        elif time.monotonic() - self._last_message > STALL_CHECK_S:
            self._unstick()
        self.apply(self._valid(messages))
        self._observe_positions()

    def _poll_batch(self) -> list[Message]:
        # Waiting for a full batch would hold every record back by the whole wait at low
        # rates: wait only for the first record, then take what has arrived meanwhile.
        messages = list(self._consumer.consume(1, self._batch_wait_s))
        if messages and self._batch_size > 1:
            messages += self._consumer.consume(self._batch_size - 1, 0)
        return messages

    def _unstick(self) -> None:
        # After a broker restart librdkafka may leave a partition's fetcher idle although
        # records wait (librdkafka issue 5153): ask the broker, and re-seek where it lags.
        # (Where partitions start is decided on assignment, not here.)
        self._last_message = time.monotonic()
        for part, offset in list(self.positions.items()):
            tp = TopicPartition(self._topic, part)
            try:
                low, high = self._consumer.get_watermark_offsets(tp, timeout=2.0, cached=False)
            except KafkaException:
                continue
            offset = low if offset is None else offset
            if high > offset and not self.faulted:
                log.warning(
                    "no records for %.0f s though %s[%d] has %d waiting; re-seeking to %d",
                    STALL_CHECK_S,
                    self._topic,
                    part,
                    high - offset,
                    offset,
                )
                self._seek(TopicPartition(self._topic, part, offset))

    def apply(self, messages: Sequence[Message]) -> None:
        """Apply a batch, pausing and retrying through faults without moving past it."""
        backoff = Backoff(self._retry_limit_s)
        while messages:
            # Re-planned on every try: a rebalance during the wait may have taken partitions.
            batch = plan(messages, self.positions, self._parser)
            if not batch.positions:  # nothing of it is ours any more
                self._recovered(backoff)
                return
            try:
                self._write(batch)
                self.metrics.applied_records(messages)
                self._recovered(backoff)
                return
            except StalePosition as exc:
                log.warning("checkpoint moved under us (%s); reloading", exc)
                self._recovered(backoff)
                self._reload([p.partition for p in batch.positions])
                return
            except (DatabaseUnavailable, KafkaUnavailable) as exc:
                if self._stop.is_set():
                    log.warning("abandoning the batch to stop (its checkpoint did not move): %s", exc)
                    return
                self._retry(backoff, str(exc))

    def _write(self, batch: Plan) -> None:
        started = time.monotonic()
        # Dead letters reach the broker before the checkpoint passes them: a crash
        # in between sends one twice, never loses one.
        self._dead_letters.send(batch.poison)
        # A partition read again from its beginning replaces its stale checkpoint in this
        # transaction: the fence checks the stale one is still what is stored.
        positions = [replace(p, expected=self.expected.get(p.partition, p.expected)) for p in batch.positions]
        self._store.apply(batch.changes, positions)
        for pos in positions:
            self.positions[pos.partition] = pos.next_offset
            self.expected.pop(pos.partition, None)
        self.applied += batch.records
        self.metrics.applied.inc(batch.records - len(batch.poison))
        self.metrics.poison.inc(len(batch.poison))
        self.metrics.batch_records.observe(batch.records)
        self.metrics.batch_seconds.observe(time.monotonic() - started)
        self._report_failures(batch)
        self._commit_advisory(batch)

    def _report_failures(self, batch: Plan) -> None:
        # Logged once the dead letters are written, not on every retry of the batch.
        self.metrics.internal_errors.inc(len(batch.failures))
        for msg, exc in batch.failures:
            where = {"topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset()}
            log.error(
                "internal error decoding %s[%s]@%s (dead-lettered): %s",
                *where.values(),
                type(exc).__name__,
                exc_info=exc,
                extra=where,
            )

    def _retry(self, backoff: Backoff, reason: str) -> None:
        delay = backoff.next_delay(reason)
        self.faulted = True
        self.metrics.paused.set(1)
        self.metrics.retries.inc()
        self._wait(delay)

    def _recovered(self, backoff: Backoff) -> None:
        backoff.reset()
        self.faulted = False
        self.metrics.paused.set(0)

    def _wait(self, delay_s: float) -> None:
        # Paused partitions fetch nothing, so memory stays bounded, while polling
        # keeps the group membership alive and serves rebalance callbacks.
        deadline = time.monotonic() + delay_s
        while (left := deadline - time.monotonic()) > 0 and not self._stop.is_set():
            self._consumer.pause(self._consumer.assignment())
            self._turned()
            self._consumer.poll(min(left, 0.5))
        self._resume_loaded()

    def _resume_loaded(self) -> None:
        loaded = [tp for tp in self._consumer.assignment() if tp.partition in self.positions]
        if loaded:
            self._consumer.resume(loaded)

    def _turned(self) -> None:
        self.last_turn = time.monotonic()
        self.metrics.last_turn.set_to_current_time()

    def _commit_advisory(self, batch: Plan) -> None:
        offsets = [TopicPartition(self._topic, p.partition, p.next_offset) for p in batch.positions]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=True)
        except Exception as exc:  # noqa: BLE001 - Kafka commits only inform lag tools
            log.debug("advisory commit failed: %s", exc)

    def _valid(self, messages: Sequence[Message]) -> list[Message]:
        good = []
        for msg in messages:
            err = msg.error()
            if err is None:
                good.append(msg)
            elif err.code() == KafkaError._AUTO_OFFSET_RESET and msg.partition() in self.positions:
                # The fetch position left the partition's range (records deleted, or the topic
                # recreated under us): decide again, from the checkpoint and fresh watermarks.
                log.warning("%s[%s]: %s; checking the checkpoint again", self._topic, msg.partition(), err)
                self._reload([int(msg.partition() or 0)])
            elif err.code() != KafkaError._PARTITION_EOF:
                log_deduplicated(log, f"consume error: {err}")
                if err.fatal():
                    raise KafkaUnavailable(str(err))
        return good

    def _observe_positions(self) -> None:
        highs: dict[int, int] = {}
        for part in self.positions:
            _low, high = self._consumer.get_watermark_offsets(TopicPartition(self._topic, part), cached=True)
            if high is not None and high >= 0:
                highs[part] = high
        self.metrics.positions(self.positions, highs)

    # ---- checkpoints and rebalances ----------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        parts = [tp.partition for tp in partitions]
        try:
            starts = {s.partition: s for s in self.assignment.starts(self._store.load_positions(parts))}
        except CheckpointAhead as exc:
            # Raised from the loop: an exception inside a rebalance callback would be lost.
            self._failure = exc
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

    def _hold(self, start: Start) -> None:
        self.positions[start.partition] = start.position
        if start.expected != start.position:
            self.expected[start.partition] = start.expected
        else:
            self.expected.pop(start.partition, None)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Batches are applied synchronously in the loop, so none is in flight here; a batch
        # held by the retry loop is re-planned without these partitions.
        parts = [tp.partition for tp in partitions]
        for part in parts:
            self.positions.pop(part, None)
            self.pending.discard(part)
            self.expected.pop(part, None)
        self.metrics.forget(parts)
        log.info("revoked %s", parts)
        consumer.unassign()

    def _reload(self, partitions: list[int]) -> None:
        for part in partitions:
            self.positions.pop(part, None)
            self.expected.pop(part, None)
            self.pending.add(part)
        self._consumer.pause([TopicPartition(self._topic, p) for p in partitions])

    def _load_pending(self) -> None:
        backoff = Backoff(self._retry_limit_s)
        while self.pending and not self._stop.is_set():
            try:
                starts = self.assignment.starts(self._store.load_positions(sorted(self.pending)))
            except (DatabaseUnavailable, KafkaException) as exc:
                self._retry(backoff, str(exc))
                continue
            self._recovered(backoff)
            self._start(starts)

    def _start(self, starts: list[Start]) -> None:
        started = {}
        for start in starts:
            if start.partition not in self.pending:  # revoked while we waited
                continue
            self.pending.discard(start.partition)
            self._hold(start)
            started[start.partition] = start.position
            # Always a seek: a partition assigned paused would otherwise fetch from the
            # group's committed offset, which is no truth of what the view holds.
            self._seek(TopicPartition(self._topic, start.partition, start.fetch))
        log.info("checkpoints loaded %s", started)
        self._resume_loaded()

    def _seek(self, tp: TopicPartition) -> None:
        try:
            self._consumer.seek(tp)
        except KafkaException as exc:
            # A partition whose fetch failed (an offset out of range) refuses a seek: assign
            # the whole assignment again, each partition from where the view has applied it.
            log.info("seek of %s[%d] refused (%s); assigning again", self._topic, tp.partition, exc)
            self._reassign(tp)

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
