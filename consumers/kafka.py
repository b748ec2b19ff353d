"""Thin settings for confluent-kafka clients, and the dead-letter producer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from ums_find.settings import Settings

log = logging.getLogger(__name__)


class KafkaUnavailable(Exception):
    """The broker did not take what we had to write in time."""


class DeadLettersRefused(Exception):
    """A dead letter cannot be written for a reason retrying will not cure (size, topic, rights)."""


# Delivery errors of a dead letter that no retry cures: the consumer stops instead.
_PERMANENT = {
    KafkaError.MSG_SIZE_TOO_LARGE,
    KafkaError.RECORD_LIST_TOO_LARGE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._UNKNOWN_TOPIC,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    KafkaError.TOPIC_EXCEPTION,
    KafkaError.INVALID_TIMESTAMP,  # the DLQ refuses the record's timestamp, which a dead letter keeps
}


_LAST_LOGGED: dict[str, float] = {}
_REPEAT_S = 60.0


def log_deduplicated(logger: logging.Logger, message: str, level: int = logging.WARNING) -> None:
    """Log a message once a minute at most: an outage repeats the same error many times a second."""
    now = time.monotonic()
    if now - _LAST_LOGGED.get(message, -_REPEAT_S) >= _REPEAT_S:
        if len(_LAST_LOGGED) > 1000:
            _LAST_LOGGED.clear()
        _LAST_LOGGED[message] = now
        logger.log(level, message)
    else:
        logger.debug(message)


class _Repeats(logging.Filter):
    """Drops a librdkafka line that repeats one logged within the minute (numbers aside)."""

    def filter(self, record: logging.LogRecord) -> bool:
        key = re.sub(r"[0-9]+", "#", record.getMessage())
        now = time.monotonic()
        if now - _LAST_LOGGED.get(key, -_REPEAT_S) < _REPEAT_S:
            return False
        _LAST_LOGGED[key] = now
        return True


def librdkafka_logger() -> logging.Logger:
    """The logger librdkafka's own lines go to (instead of raw stderr), repeats dropped."""
    logger = logging.getLogger("librdkafka")
    if not any(isinstance(f, _Repeats) for f in logger.filters):
        logger.addFilter(_Repeats())
    return logger


def _log_error(err: KafkaError) -> None:
    # librdkafka retries transport errors by itself; only fatal ones end the process.
    log_deduplicated(log, f"kafka: {err}", logging.ERROR if err.fatal() else logging.WARNING)


def consumer_config(settings: Settings, group_id: str, **overrides: Any) -> dict[str, Any]:
    """A consumer that never commits or stores offsets on its own: the database is the truth."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka.bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "error_cb": _log_error,
        "logger": librdkafka_logger(),
        "queued.max.messages.kbytes": 16384,
        "session.timeout.ms": round(settings.kafka.session_timeout_s * 1000),
        # The loop polls at least every few seconds even while it retries a fault; a
        # hung call is what the liveness probe catches, not a reason to linger in the group.
        "max.poll.interval.ms": max(300_000, round(settings.kafka.session_timeout_s * 1000) + 1),
    }
    if settings.kafka.group_instance_id:
        # Static membership: a restarted process takes its partitions back without a rebalance.
        config["group.instance.id"] = settings.kafka.group_instance_id
    config.update(overrides)
    return config


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """An idempotent producer that waits for the full in-sync set and partitions as Java does.

    AddService (Java) and the API map a name to its partition with murmur2; librdkafka's
    default (CRC32) would put our own records of a name (publish, redrive) elsewhere.
    """
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka.bootstrap,
        "partitioner": "murmur2_random",
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "error_cb": _log_error,
        "logger": librdkafka_logger(),
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

    def __init__(self, producer: Producer, topic: str, timeout_s: float = 10.0) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout_s = timeout_s
        # (error, record size) of every failed delivery, earlier tries' included: a record
        # left pending by a timed-out flush may fail for good later.
        self._errors: list[tuple[KafkaError, int]] = []

    def send(self, poison: Sequence[tuple[Message, str]]) -> None:
        """Write every dead letter, or raise (KafkaUnavailable: retry; DeadLettersRefused: stop)."""
        if not poison:
            return
        self._raise_permanent()
        self._errors.clear()
        for msg, reason in poison:
            log.warning("poison record %s[%s]@%s: %s", msg.topic(), msg.partition(), msg.offset(), reason)
            self._produce(msg, reason)
        left = self._producer.flush(self._timeout_s)
        self._raise_permanent()
        if left or self._errors:
            errors = [str(e) for e, _size in self._errors[:3]]
            raise KafkaUnavailable(f"dead letters not delivered: {left} pending, errors {errors}")

    def _produce(self, msg: Message, reason: str) -> None:
        try:
            self._producer.produce(
                self._topic,
                key=msg.key(),
                value=msg.value(),
                headers=dead_letter_headers(msg, reason),
                timestamp=record_timestamp(msg),
                on_delivery=self._delivered,
            )
        except BufferError as exc:  # the local queue is full: the broker is slow or away
            raise KafkaUnavailable(f"dead letters not queued: {exc}") from exc
        except KafkaException as exc:
            self._delivered(exc.args[0], msg)
            self._raise_permanent()
            raise KafkaUnavailable(f"dead letter not queued: {exc}") from exc

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._errors.append((err, len(msg.key() or b"") + len(msg.value() or b"")))

    def _raise_permanent(self) -> None:
        for err, size in self._errors:
            if err.code() in _PERMANENT:
                raise DeadLettersRefused(
                    f"cannot write to the dead-letter topic {self._topic}: {err.str()} "
                    f"(a record of {size} bytes)"
                )


def record_timestamp(msg: Message) -> int:
    """The record's timestamp in ms (0 when the broker gave none)."""
    _kind, value = msg.timestamp()
    return int(value) if value is not None and value >= 0 else 0
