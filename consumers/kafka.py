"""The dead-letter sink: poison records copied, with why and whence, to the dead-letter topic."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ums_find.kafka import (
    Delivery,
    KafkaError,
    KafkaUnavailable,
    Message,
    Outgoing,
    Producer,
    deliver_all,
    log_deduplicated,
)

__all__ = ["DeadLetters", "DeadLettersRefused", "KafkaUnavailable", "log_deduplicated", "record_timestamp"]

log = logging.getLogger(__name__)


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
        # Earlier tries' deliveries with records still pending: a record left pending by a
        # timed-out flush may fail for good later, and its report lands there.
        self._earlier: list[Delivery] = []

    def send(self, poison: Sequence[tuple[Message, str]]) -> None:
        """Write every dead letter, or raise (KafkaUnavailable: retry; DeadLettersRefused: stop)."""
        if not poison:
            return
        self._raise_permanent()
        self._earlier = [d for d in self._earlier if d.outstanding]
        for earlier in self._earlier:
            earlier.failed.clear()
        for msg, reason in poison:
            log.warning("poison record %s[%s]@%s: %s", msg.topic(), msg.partition(), msg.offset(), reason)
        letters = [self._letter(msg, reason) for msg, reason in poison]
        delivery = deliver_all(self._producer, letters, self._timeout_s)
        self._earlier.append(delivery)
        self._raise_permanent()
        if not delivery.complete or any(d.failed for d in self._earlier):
            errors = [e for d in self._earlier for e in d.errors()][:3]
            left = delivery.outstanding + delivery.unqueued
            raise KafkaUnavailable(f"dead letters not delivered: {left} pending, errors {errors}")

    def _letter(self, msg: Message, reason: str) -> Outgoing:
        return Outgoing(
            self._topic,
            msg.key(),
            msg.value(),
            headers=dead_letter_headers(msg, reason),
            timestamp=record_timestamp(msg),
        )

    def _raise_permanent(self) -> None:
        for delivery in self._earlier:
            for err, record in delivery.failed:
                if err.code() in _PERMANENT:
                    raise DeadLettersRefused(
                        f"cannot write to the dead-letter topic {self._topic}: {err.str()} "
                        f"(a record of {record.size} bytes)"
                    )


def record_timestamp(msg: Message) -> int:
    """The record's timestamp in ms (0 when the broker gave none)."""
    _kind, value = msg.timestamp()
    return int(value) if value is not None and value >= 0 else 0
