"""Wire and run the live projection consumer."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from consumers import health
from consumers.ahead import hand_over_briskly
from consumers.backoff import Backoff
from consumers.dead_letter_topic import check_dead_letter_topic, producer_limit
from consumers.kafka import DeadLetters, DeadLettersRefused, KafkaUnavailable
from consumers.metrics import ConsumerMetrics
from consumers.projector import CheckpointAhead, Projector, RetryBudgetExceeded
from ums_find import kafka
from ums_find.kafka import Consumer, Producer
from ums_find.settings import Settings
from ums_find.store import DatabaseUnavailable, ProjectionStore

log = logging.getLogger(__name__)

EXIT_RESTART = 3  # a fault outlasted its bound: restart from the checkpoint
EXIT_PORT = 2  # the probe port could not be opened
EXIT_DEAD_LETTERS = 4  # the dead-letter topic is missing, not writable or refuses a record: fix it first
EXIT_CHECKPOINT_AHEAD = 5  # a checkpoint beyond its partition's end, with UMS_ON_CHECKPOINT_AHEAD=fail
_WAKEUP: list[socket.socket] = []


def build_projector(
    settings: Settings, dead_letter_max_bytes: int | None = None, metrics: ConsumerMetrics | None = None
) -> tuple[Projector, Consumer, Producer, ProjectionStore]:
    """The live consumer's parts, from the settings; its producer takes records as large as the DLQ does."""
    # A fetch position out of the partition's range is an error for the loop to judge,
    # not a silent jump to the earliest record (which the checkpoint would then skip).
    # Partitions added to the topic are assigned at the next metadata refresh.
    overrides = {
        "auto.offset.reset": "error",
        "topic.metadata.refresh.interval.ms": round(settings.http.partitions_refresh_s * 1000),
    }
    consumer = kafka.consumer(settings.kafka, settings.kafka.group_id, **overrides)
    # Never auto-create the dead-letter topic: a broker's defaults would refuse large records.
    limits = (
        {} if dead_letter_max_bytes is None else {"message.max.bytes": producer_limit(dead_letter_max_bytes)}
    )
    producer = kafka.producer(settings.kafka, **{"allow.auto.create.topics": False}, **limits)
    store = ProjectionStore(settings.mysql, settings.consumer.name, settings.kafka.topic)
    projector = Projector(
        consumer,
        store,
        DeadLetters(producer, settings.kafka.dlq_topic, timeout_s=min(10.0, settings.shutdown_s / 2)),
        settings.kafka.topic,
        batch_size=settings.consumer.batch_size,
        batch_wait_s=settings.consumer.batch_wait_s,
        retry_limit_s=settings.consumer.retry_max_s,
        metrics=metrics or ConsumerMetrics(),
        on_checkpoint_ahead=settings.consumer.on_checkpoint_ahead,
        decode_workers=settings.consumer.decode_workers,
    )
    return projector, consumer, producer, store


@dataclass
class _Phase:
    """What the probes read: live but not ready while the start-up checks wait, then the projector."""

    projector: Projector | None = None

    @property
    def last_turn(self) -> float:
        return self.projector.last_turn if self.projector else time.monotonic()

    @property
    def faulted(self) -> bool:
        return self.projector.faulted if self.projector else True

    @property
    def pending(self) -> set[int]:
        return self.projector.pending if self.projector else set()


def run_projection(settings: Settings, stop: threading.Event) -> int:
    """Consume until stopped; the exit code says whether to restart."""
    hand_over_briskly()
    metrics, phase, server = ConsumerMetrics(), _Phase(), None
    metrics.watch_loop(phase, settings.consumer.stall_s)
    if settings.consumer.http_port:
        try:
            server = health.serve(
                settings.http.host,
                settings.consumer.http_port,
                phase,
                settings.consumer.stall_s,
                metrics.registry,
            )
        except OSError as exc:
            log.error("cannot serve probes on port %d: %s", settings.consumer.http_port, exc)
            return EXIT_PORT
    try:
        return _consume(settings, stop, metrics, phase)
    finally:
        if server is not None:
            server.shutdown()


def _consume(settings: Settings, stop: threading.Event, metrics: ConsumerMetrics, phase: _Phase) -> int:
    try:
        limit = wait_for_dead_letter_topic(settings, stop)
    except DeadLettersRefused as exc:
        log.error("stopping: %s", exc)
        return EXIT_DEAD_LETTERS
    except RetryBudgetExceeded as exc:
        log.error("stopping to restart: %s", exc)
        return EXIT_RESTART
    if limit is None:  # stopped while waiting
        return 0
    projector, consumer, producer, store = build_projector(settings, limit, metrics)
    phase.projector = projector
    log.info(
        "consuming %s as %s (group %s)", settings.kafka.topic, settings.consumer.name, settings.kafka.group_id
    )
    try:
        _check_database(store)
        projector.run(stop)
        return 0
    except DeadLettersRefused as exc:
        log.error("stopping: %s", exc)
        return EXIT_DEAD_LETTERS
    except (RetryBudgetExceeded, KafkaUnavailable) as exc:
        log.error("stopping to restart from the checkpoint: %s", exc)
        return EXIT_RESTART
    except CheckpointAhead as exc:
        log.error("stopping: %s; UMS_ON_CHECKPOINT_AHEAD=fail leaves it to an operator", exc)
        return EXIT_CHECKPOINT_AHEAD
    finally:
        projector.close()
        _close(consumer, producer, store, settings.shutdown_s / 2)
        log.info("stopped after applying %d records", projector.applied)


def _check_database(store: ProjectionStore) -> None:
    # A refused password or certificate ends the run at once (DatabaseRefused, exit code 6,
    # from the command); an outage is the loop's to wait out.
    try:
        store.load_positions([])
    except DatabaseUnavailable:
        pass


def wait_for_dead_letter_topic(settings: Settings, stop: threading.Event) -> int | None:
    """The dead-letter topic's record size limit, waiting while the broker does not answer (None: stopped)."""
    backoff = Backoff(settings.consumer.retry_max_s, cap_s=5.0)
    while not stop.is_set():
        try:
            limit = check_dead_letter_topic(settings.kafka)
        except KafkaUnavailable as exc:
            stop.wait(backoff.next_delay(str(exc)))
            continue
        backoff.reset()
        log.info("dead letters go to %s (records up to %d bytes)", settings.kafka.dlq_topic, limit)
        return limit
    return None


def _close(consumer: Consumer, producer: Producer, store: ProjectionStore, budget_s: float) -> None:
    # close() leaves the group and may wait on an unreachable broker: never past the budget.
    deadline = time.monotonic() + budget_s
    bounded(consumer.close, budget_s, "closing the consumer")
    try:
        producer.flush(max(0.0, deadline - time.monotonic()))
    except kafka.KafkaRefused:
        pass  # what ends the run: its caller reports it
    store.close()


def bounded(work: Callable[[], object], timeout_s: float, what: str) -> bool:
    """Run `work` in a daemon thread for at most `timeout_s`; whether it finished."""
    thread = threading.Thread(target=work, name=what, daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        log.warning("%s took longer than %.1f s; going on without it", what, timeout_s)
        return False
    return True


def exit_after_signal(stop: threading.Event, grace_s: float) -> None:
    """Once a signal arrives, end the process hard if it has not ended within `grace_s`.

    Call from the main thread after the signal handlers are installed. The C-level
    handler writes to a wake-up socket at once, so the grace period starts at the signal
    even while the main thread sits in a blocking call that delays the Python handler.
    """
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    _WAKEUP.append(writer)  # the socket must outlive this function
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def watch() -> None:
        reader.recv(1)
        stop.set()
        time.sleep(grace_s)
        log.error("not stopped within %.1f s of the signal; exiting now", grace_s)
        logging.shutdown()
        os._exit(EXIT_RESTART)

    threading.Thread(target=watch, name="shutdown-watchdog", daemon=True).start()
