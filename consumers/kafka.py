"""Thin settings for confluent-kafka clients, and the dead-letter producer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from ums_find.settings import Settings

log = logging.getLogger(__name__)


class KafkaUnavailable(Exception):
    """The broker did not take what we had to write in time."""


def _log_error(err: KafkaError) -> None:
    # librdkafka retries transport errors by itself; only fatal ones end the process.
    level = logging.ERROR if err.fatal() else logging.WARNING
    log.log(level, "kafka: %s", err)


def consumer_config(settings: Settings, group_id: str, **overrides: Any) -> dict[str, Any]:
    """A consumer that never commits or stores offsets on its own: the database is the truth."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "error_cb": _log_error,
        "queued.max.messages.kbytes": 16384,
    }
    config.update(overrides)
    return config


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """An idempotent producer that waits for the full in-sync set."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "error_cb": _log_error,
    }
    config.update(overrides)
    return config


def dead_letter_headers(msg: Message, reason: str) -> list[tuple[str, str | bytes | None]]:
    """The original headers, then why and whence, as UTF-8 text."""
    original: list[tuple[str, str | bytes | None]] = [(h[0], h[1]) for h in msg.headers() or []]
    return [
        *original,
        ("ums.error", reason.encode("utf-8")),
        ("ums.original.topic", str(msg.topic()).encode("utf-8")),
        ("ums.original.partition", str(msg.partition()).encode("utf-8")),
        ("ums.original.offset", str(msg.offset()).encode("utf-8")),
    ]


class DeadLetters:
    """Sends poison records to the dead-letter topic and waits until the broker has them."""

    def __init__(self, producer: Producer, topic: str, timeout_s: float = 30.0) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout_s = timeout_s

    def send(self, poison: Sequence[tuple[Message, str]]) -> None:
        """Write every dead letter, or raise KafkaUnavailable having written maybe some."""
        if not poison:
            return
        failures: list[str] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                failures.append(str(err))

        for msg, reason in poison:
            log.warning("poison record %s[%s]@%s: %s", msg.topic(), msg.partition(), msg.offset(), reason)
            self._producer.produce(
                self._topic,
                key=msg.key(),
                value=msg.value(),
                headers=dead_letter_headers(msg, reason),
                timestamp=record_timestamp(msg),
                on_delivery=delivered,
            )
        left = self._producer.flush(self._timeout_s)
        if left or failures:
            raise KafkaUnavailable(f"dead letters not delivered: {left} pending, errors {failures[:3]}")


def record_timestamp(msg: Message) -> int:
    """The record's timestamp in ms (0 when the broker gave none)."""
    _kind, value = msg.timestamp()
    return int(value) if value is not None and value >= 0 else 0
