"""Every client the service builds, from the Kafka settings: security, error and log routing in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ums_find.kafka.client import (
    AdminClient,
    Consumer,
    GuardedAdmin,
    GuardedConsumer,
    GuardedProducer,
    KafkaError,
    Producer,
)
from ums_find.kafka.noise import librdkafka_logger, log_deduplicated
from ums_find.kafka.refusal import Refusals
from ums_find.kafka.security import security_config
from ums_find.settings import KafkaSettings

__all__ = ["admin", "client_config", "consumer", "producer"]

log = logging.getLogger(__name__)


def _log_error(err: KafkaError) -> None:
    # librdkafka retries transport errors by itself; only fatal ones end the process.
    log_deduplicated(log, f"kafka: {err}", logging.ERROR if err.fatal() else logging.WARNING)


def _error_cb(refusals: Refusals) -> Callable[[KafkaError], None]:
    def on_error(err: KafkaError) -> None:
        if refusals.note(err.name(), err.str()):
            log.debug("kafka refused: %s", err.name())  # raised from the client's next call
        else:
            _log_error(err)

    return on_error


def client_config(kafka: KafkaSettings, refusals: Refusals | None = None, **overrides: Any) -> dict[str, Any]:
    """What every client shares: the broker, its security options, error and log routing."""
    config: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap,
        **security_config(kafka),
        "error_cb": _error_cb(refusals or Refusals(kafka)),
        "logger": librdkafka_logger(),
    }
    config.update(overrides)
    return config


def consumer(kafka: KafkaSettings, group_id: str, **overrides: Any) -> Consumer:
    """A consumer that never commits or stores offsets on its own: the database is the truth."""
    session_ms = round(kafka.session_timeout_s * 1000)
    refusals = Refusals(kafka)
    config = client_config(
        kafka,
        refusals,
        **{
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "queued.max.messages.kbytes": 16384,
            "session.timeout.ms": session_ms,
            # The loop polls at least every few seconds even while it retries a fault; a
            # hung call is what the liveness probe catches, not a reason to linger in the group.
            "max.poll.interval.ms": max(300_000, session_ms + 1),
        },
    )
    if kafka.group_instance_id:
        # Static membership: a restarted process takes its partitions back without a rebalance.
        config["group.instance.id"] = kafka.group_instance_id
    config.update(overrides)
    return GuardedConsumer(config, refusals)


def producer(kafka: KafkaSettings, **overrides: Any) -> Producer:
    """An idempotent producer that waits for the full in-sync set and partitions as Java does.

    AddService (Java) and the API map a name to its partition with murmur2; librdkafka's
    default (CRC32) would put our own records of a name (publish, redrive) elsewhere.
    """
    defaults = {"partitioner": "murmur2_random", "acks": "all", "enable.idempotence": True, "linger.ms": 5}
    refusals = Refusals(kafka)
    return GuardedProducer(client_config(kafka, refusals, **{**defaults, **overrides}), refusals)


def admin(kafka: KafkaSettings, **overrides: Any) -> AdminClient:
    """An admin client (topics, their configs, metadata)."""
    refusals = Refusals(kafka)
    return GuardedAdmin(client_config(kafka, refusals, **overrides), refusals)
