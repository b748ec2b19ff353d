"""Wire and run the live projection consumer."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, Producer

from consumers import health
from consumers.kafka import DeadLetters, KafkaUnavailable, consumer_config, producer_config
from consumers.metrics import ConsumerMetrics
from consumers.projector import Projector, RetryBudgetExceeded
from ums_find.settings import Settings
from ums_find.store import ProjectionStore

log = logging.getLogger(__name__)

EXIT_RESTART = 3  # a fault outlasted its bound: restart from the checkpoint
EXIT_PORT = 2  # the probe port could not be opened
_WAKEUP: list[socket.socket] = []


def build_projector(settings: Settings) -> tuple[Projector, Consumer, Producer, ProjectionStore]:
    """The live consumer's parts, from the settings."""
    consumer = Consumer(consumer_config(settings, settings.group_id))
    producer = Producer(producer_config(settings))
    store = ProjectionStore(settings, settings.consumer_name, settings.topic)
    projector = Projector(
        consumer,
        store,
        DeadLetters(producer, settings.dlq_topic, timeout_s=min(10.0, settings.shutdown_s / 2)),
        settings.topic,
        batch_size=settings.batch_size,
        batch_wait_s=settings.batch_wait_s,
        retry_limit_s=settings.db_retry_max_s,
        metrics=ConsumerMetrics(),
    )
    return projector, consumer, producer, store


def run_projection(settings: Settings, stop: threading.Event) -> int:
    """Consume until stopped; the exit code says whether to restart."""
    projector, consumer, producer, store = build_projector(settings)
    server = None
    projector.metrics.watch_loop(projector, settings.consumer_stall_s)
    if settings.consumer_http_port:
        try:
            server = health.serve(
                settings.http_host,
                settings.consumer_http_port,
                projector,
                settings.consumer_stall_s,
                projector.metrics.registry,
            )
        except OSError as exc:
            log.error("cannot serve probes on port %d: %s", settings.consumer_http_port, exc)
            return EXIT_PORT
    log.info("consuming %s as %s (group %s)", settings.topic, settings.consumer_name, settings.group_id)
    try:
        projector.run(stop)
        return 0
    except (RetryBudgetExceeded, KafkaUnavailable) as exc:
        log.error("stopping to restart from the checkpoint: %s", exc)
        return EXIT_RESTART
    finally:
        _close(consumer, producer, store, settings.shutdown_s / 2)
        if server is not None:
            server.shutdown()
        log.info("stopped after applying %d records", projector.applied)


def _close(consumer: Consumer, producer: Producer, store: ProjectionStore, budget_s: float) -> None:
    # close() leaves the group and may wait on an unreachable broker: never past the budget.
    deadline = time.monotonic() + budget_s
    bounded(consumer.close, budget_s, "closing the consumer")
    producer.flush(max(0.0, deadline - time.monotonic()))
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
