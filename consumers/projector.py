"""The consume loop: poll a batch, dead-letter the poison, apply the rest with checkpoints."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from consumers.advisory import AdvisoryCommits
from consumers.ahead import ReadAhead
from consumers.backoff import Backoff, RetryBudgetExceeded
from consumers.batch import Decoded, Parser, Plan, plan, records
from consumers.kafka import KafkaUnavailable
from consumers.metrics import ConsumerMetrics
from consumers.partitions import Partitions
from consumers.ports import DeadLetterSink, ProjectionWriter, RecordSource
from consumers.start import RESET, CheckpointAhead
from ums_find.events import parse
from ums_find.kafka import KafkaError, KafkaException, Message
from ums_find.store import DatabaseUnavailable, StalePosition

__all__ = ["CheckpointAhead", "Projector", "RetryBudgetExceeded"]

log = logging.getLogger(__name__)

STALL_CHECK_S = 15.0  # idle this long with records waiting: the fetcher is stuck
# Batches one poll may bring when records are waiting: each is decoded while the last is written.
READ_AHEAD = 8


class Projector:
    """Keeps one view current from one topic, each record's effect applied once.

    Where the view stands in each owned partition is kept by `Partitions`; the loop
    polls, plans, writes and retries.
    """

    def __init__(
        self,
        consumer: RecordSource,
        store: ProjectionWriter,
        dead_letters: DeadLetterSink,
        topic: str,
        *,
        batch_size: int = 2000,
        batch_wait_s: float = 0.1,
        retry_limit_s: float = 300.0,
        metrics: ConsumerMetrics | None = None,
        on_checkpoint_ahead: str = RESET,
        parser: Parser = parse,
        decode_workers: int = 0,
    ) -> None:
        self._consumer, self._store, self._dead_letters = consumer, store, dead_letters
        self._topic = topic
        self._batch_size, self._batch_wait_s = batch_size, batch_wait_s
        self._retry_limit_s = retry_limit_s
        self.metrics = metrics or ConsumerMetrics()
        self._ahead = ReadAhead(parser, batch_size, decode_workers)
        self._advisory = AdvisoryCommits(consumer, topic)
        self.partitions = Partitions(consumer, store, topic, self.metrics, on_checkpoint_ahead)
        self.applied = 0
        self.faulted = False
        self.last_turn = time.monotonic()
        self._stop = threading.Event()
        self._last_message = time.monotonic()

    @property
    def positions(self) -> dict[int, int | None]:
        """The next offset to apply of each partition whose checkpoint is loaded (None: none stored)."""
        return self.partitions.positions

    @property
    def pending(self) -> set[int]:
        """The assigned partitions waiting, paused, for their checkpoints."""
        return self.partitions.pending

    @property
    def expected(self) -> dict[int, int | None]:
        """The stale checkpoints that partitions read again from their beginning replace."""
        return self.partitions.expected

    def run(self, stop: threading.Event) -> None:
        """Turn the loop until `stop` is set; the batch in hand is finished (or abandoned) first."""
        self._stop = stop
        self.subscribe()
        while not stop.is_set():
            self.step()

    def subscribe(self) -> None:
        """Join the group; partitions start where their checkpoints say."""
        parts = self.partitions
        self._consumer.subscribe(
            [self._topic], on_assign=parts.on_assign, on_revoke=parts.on_revoke, on_lost=parts.on_revoke
        )

    def step(self) -> None:
        """Load what checkpoints are missing, then poll one batch and apply it."""
        self._turned()
        if self.partitions.failure is not None:
            raise self.partitions.failure
        if self.pending:
            self._load_pending()
        messages = self._poll_batch()
        self._turned()
        if messages:
            self._last_message = time.monotonic()
        else:
            self._idle()
        self.apply(records(messages, self._on_event))
        self.metrics.positions(self.positions, self.partitions.highs())

    def _idle(self) -> None:
        self._advisory.flush(self.positions)  # nothing came: lag tools may see where the loop is
        if time.monotonic() - self._last_message > STALL_CHECK_S:
            self._last_message = time.monotonic()
            if not self.faulted:
                self.partitions.unstick(STALL_CHECK_S)

    def _poll_batch(self) -> list[Message]:
        # Waiting for a full batch would hold every record back by the whole wait at low
        # rates: wait only for the first record, then take what has arrived meanwhile.
        messages = list(self._consumer.consume(1, self._batch_wait_s))
        if messages:
            messages += self._consumer.consume(self._batch_size * READ_AHEAD - 1, 0)
        return messages

    def _on_event(self, msg: Message, err: KafkaError) -> bool:
        if err.code() == KafkaError._AUTO_OFFSET_RESET and msg.partition() in self.positions:
            # The fetch position left the partition's range (records deleted, or the topic
            # recreated under us): decide again, from the checkpoint and fresh watermarks.
            log.warning("%s[%s]: %s; checking the checkpoint again", self._topic, msg.partition(), err)
            self.partitions.reload([int(msg.partition() or 0)])
            return True
        return bool(err.code() == KafkaError._PARTITION_EOF)

    def apply(self, messages: Sequence[Message]) -> None:
        """Apply the records in batches, pausing and retrying through faults without moving past one."""
        for decoded in self._ahead.batches(messages):
            self._apply(decoded)
            if self._stop.is_set():  # the rest is read again from the checkpoints
                return

    def close(self) -> None:
        """Stop decoding ahead; commit the offsets lag tools have not seen yet."""
        self._ahead.close()
        self._advisory.flush(self.positions)

    def _apply(self, decoded: Sequence[Decoded]) -> None:
        backoff = Backoff(self._retry_limit_s)
        while decoded:
            # Re-planned on every try: a rebalance during the wait may have taken partitions.
            batch = plan(decoded, self.positions)
            if not batch.positions:  # nothing of it is ours any more
                self._recovered(backoff)
                return
            try:
                self._write(batch)
                self.metrics.applied_records(record[2] for record in decoded)
                self._recovered(backoff)
                return
            except StalePosition as exc:
                log.warning("checkpoint moved under us (%s); reloading", exc)
                self._recovered(backoff)
                self.partitions.reload([p.partition for p in batch.positions])
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
        # The fence checks, in this transaction, that each stored checkpoint is still the one expected.
        positions = self.partitions.fenced(batch.positions)
        self._store.apply(batch.changes, positions)
        self.partitions.advance(positions)
        self.applied += batch.records
        self.metrics.applied.inc(batch.records - len(batch.poison))
        self.metrics.poison.inc(len(batch.poison))
        self.metrics.batch_records.observe(batch.records)
        self.metrics.batch_seconds.observe(time.monotonic() - started)
        self._report_failures(batch)
        self._advisory.note(batch.positions, self.positions)

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

    def _load_pending(self) -> None:
        backoff = Backoff(self._retry_limit_s)
        while self.pending and not self._stop.is_set():
            try:
                starts = self.partitions.pending_starts()
            except (DatabaseUnavailable, KafkaException) as exc:
                self._retry(backoff, str(exc))
                continue
            self._recovered(backoff)
            self.partitions.start(starts)

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
        # At least one poll, however short the delay: a rebalance waiting is served before the retry.
        deadline = time.monotonic() + delay_s
        while True:
            self._consumer.pause(self._consumer.assignment())
            self._turned()
            self._consumer.poll(max(0.0, min(deadline - time.monotonic(), 0.5)))
            if time.monotonic() >= deadline or self._stop.is_set():
                break
        self.partitions.resume_loaded()

    def _turned(self) -> None:
        self.last_turn = time.monotonic()
        self.metrics.last_turn.set_to_current_time()
