"""The consume loop: poll a batch, dead-letter the poison, apply the rest with checkpoints."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence

from confluent_kafka import OFFSET_BEGINNING, OFFSET_STORED, Consumer, KafkaError, Message, TopicPartition

from consumers.batch import Plan, plan
from consumers.kafka import DeadLetters, KafkaUnavailable
from ums_find.store import DatabaseUnavailable, ProjectionStore, StalePosition

log = logging.getLogger(__name__)


class RetryBudgetExceeded(Exception):
    """A fault outlasted the configured bound; restart from the checkpoint."""


class Backoff:
    """Exponential backoff with full jitter, and the bound past which we give up."""

    def __init__(self, limit_s: float, base_s: float = 0.1, cap_s: float = 5.0) -> None:
        self._limit_s, self._base_s, self._cap_s = limit_s, base_s, cap_s
        self._started: float | None = None
        self._attempt = 0

    def next_delay(self, reason: str) -> float:
        """Seconds to wait before the next try; raise once the fault is too old."""
        now = time.monotonic()
        if self._started is None:
            self._started = now
            log.warning("pausing: %s", reason)
        elif now - self._started > self._limit_s:
            raise RetryBudgetExceeded(f"gave up after {now - self._started:.0f} s: {reason}")
        self._attempt += 1
        return random.uniform(0, min(self._cap_s, self._base_s * 2**self._attempt))

    def reset(self) -> None:
        """The fault is over."""
        if self._started is not None:
            log.warning("resuming after %.1f s", time.monotonic() - self._started)
        self._started, self._attempt = None, 0


class Projector:
    """Keeps one view current from one topic, each record's effect applied once."""

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
    ) -> None:
        self._consumer, self._store, self._dead_letters = consumer, store, dead_letters
        self._topic = topic
        self._batch_size, self._batch_wait_s = batch_size, batch_wait_s
        self._retry_limit_s = retry_limit_s
        self.positions: dict[int, int | None] = {}
        self.applied = 0
        self.last_turn = time.monotonic()

    def subscribe(self) -> None:
        """Join the group; partitions start where their checkpoints say."""
        self._consumer.subscribe(
            [self._topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke
        )

    def run(self, stop: threading.Event) -> None:
        """Turn the loop until `stop` is set; the batch in hand is finished first."""
        self.subscribe()
        while not stop.is_set():
            self.step()

    def step(self) -> None:
        """Poll one batch and apply it."""
        self.last_turn = time.monotonic()
        messages = self._consumer.consume(self._batch_size, self._batch_wait_s)
        self.apply(self._valid(messages))

    def apply(self, messages: Sequence[Message]) -> None:
        """Apply a batch, pausing and retrying through faults without moving past it."""
        if not messages:
            return
        backoff = Backoff(self._retry_limit_s)
        while True:
            batch = plan(messages, self.positions)
            try:
                self._write(batch)
                backoff.reset()
                return
            except StalePosition as exc:
                log.warning("checkpoint moved under us (%s); reloading", exc)
                self._reposition([p.partition for p in batch.positions])
                return
            except (DatabaseUnavailable, KafkaUnavailable) as exc:
                self._wait(backoff.next_delay(str(exc)))

    def _write(self, batch: Plan) -> None:
        if not batch.positions:
            return
        # Dead letters reach the broker before the checkpoint passes them: a crash
        # in between sends one twice, never loses one.
        self._dead_letters.send(batch.poison)
        self._store.apply(batch.changes, batch.positions)
        for pos in batch.positions:
            self.positions[pos.partition] = pos.next_offset
        self.applied += batch.records
        self._commit_advisory(batch)

    def _wait(self, delay_s: float) -> None:
        # Paused partitions fetch nothing, so memory stays bounded, while polling
        # keeps the group membership alive and serves rebalance callbacks.
        assignment = self._consumer.assignment()
        self._consumer.pause(assignment)
        deadline = time.monotonic() + delay_s
        while (left := deadline - time.monotonic()) > 0:
            self.last_turn = time.monotonic()
            self._consumer.poll(min(left, 0.5))
        self._consumer.resume(self._consumer.assignment())

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
            elif err.code() != KafkaError._PARTITION_EOF:
                log.warning("consume error: %s", err)
                if err.fatal():
                    raise KafkaUnavailable(str(err))
        return good

    def _load(self, partitions: list[int]) -> dict[int, int | None]:
        backoff = Backoff(self._retry_limit_s)
        while True:
            try:
                loaded = self._store.load_positions(partitions)
                backoff.reset()
                return loaded
            except DatabaseUnavailable as exc:
                time.sleep(backoff.next_delay(str(exc)))

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        stored = self._load([tp.partition for tp in partitions])
        for tp in partitions:
            offset = stored[tp.partition]
            tp.offset = OFFSET_STORED if offset is None else offset
            self.positions[tp.partition] = offset
        log.info("assigned %s", {tp.partition: stored[tp.partition] for tp in partitions})
        consumer.assign(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.positions.pop(tp.partition, None)
        log.info("revoked %s", [tp.partition for tp in partitions])
        consumer.unassign()

    def _reposition(self, partitions: list[int]) -> None:
        stored = self._load(partitions)
        for part in partitions:
            offset = stored[part]
            self.positions[part] = offset
            target = OFFSET_BEGINNING if offset is None else offset
            self._consumer.seek(TopicPartition(self._topic, part, target))


def run_until_signalled(projector: Projector, stop: threading.Event, on_exit: Callable[[], None]) -> None:
    """Run the loop, then release the clients whatever happened."""
    try:
        projector.run(stop)
    finally:
        on_exit()
