"""The only module importing confluent_kafka: clients built from the Kafka settings, refusals raised."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka import (
    OFFSET_BEGINNING,
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicCollection,
    TopicPartition,
)
from confluent_kafka.admin import AclOperation, AdminClient, ConfigResource, NewTopic, ResourceType

from ums_find.kafka.refusal import Refusals

# Re-exported for the rest of the product, which never imports confluent_kafka itself.
__all__ = [
    "OFFSET_BEGINNING",
    "TIMESTAMP_CREATE_TIME",
    "TIMESTAMP_NOT_AVAILABLE",
    "AclOperation",
    "AdminClient",
    "ConfigResource",
    "Consumer",
    "GuardedAdmin",
    "GuardedConsumer",
    "GuardedProducer",
    "KafkaError",
    "KafkaException",
    "KafkaUnavailable",
    "Message",
    "NewTopic",
    "Producer",
    "RefusalGuard",
    "ResourceType",
    "TopicCollection",
    "TopicPartition",
    "raise_refusal",
]

T = TypeVar("T")
FIRST_SLICE_S = 0.5  # a metadata request's first wait; each next one doubles, within the caller's timeout
_FLUSH_SLICE_S = 0.5


class KafkaUnavailable(Exception):
    """The broker did not take what we had to write (or answer what we asked) in time."""


def _forever(timeout: float | None) -> float:
    return math.inf if timeout is None or timeout < 0 else timeout


class RefusalGuard:
    """Raises the broker's refusal (password, certificate) from the calls, where librdkafka would retry."""

    _base: Any = None  # the confluent-kafka class guarded: its own calls, without the guard's checks

    def __init__(self, config: dict[str, Any], refusals: Refusals) -> None:
        super().__init__(config)  # type: ignore[call-arg]
        self._refusals = refusals

    def _serve_errors(self) -> None:
        """Serve queued error callbacks, where that takes nothing the application polls for."""
        if self._base is not None:
            self._base.poll(self, 0)

    def check_refusal(self) -> None:
        """Raise KafkaRefused if the broker refused this client (its queued errors served first)."""
        self._serve_errors()
        self._refusals.check()

    def _sliced(self, call: Callable[[float], T], timeout: float | None) -> T:
        # A refused client fails every request until the caller's timeout: ask in growing
        # slices, so that a refusal ends the wait at once rather than after it all. Only a
        # slice that ran out is asked again; a failure before (librdkafka's own) is the answer.
        deadline, slice_s = time.monotonic() + _forever(timeout), FIRST_SLICE_S
        while True:
            step, started = max(0.0, min(slice_s, deadline - time.monotonic())), time.monotonic()
            try:
                found = call(step)
            except KafkaException:
                self.check_refusal()
                if time.monotonic() >= deadline or time.monotonic() - started < 0.9 * step:
                    raise
                slice_s *= 2
            else:
                self._refusals.clear()
                return found


class GuardedConsumer(RefusalGuard, Consumer):
    _base = Consumer

    def __init__(self, config: dict[str, Any], refusals: Refusals) -> None:
        super().__init__(config, refusals)
        self._subscribed = False

    def _serve_errors(self) -> None:
        # Polling a consumer that has partitions would take their records: only when it has none.
        if not self._subscribed and not Consumer.assignment(self):
            Consumer.poll(self, 0)

    def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        self._subscribed = True
        return Consumer.subscribe(self, *args, **kwargs)

    def poll(self, *args: Any, **kwargs: Any) -> Any:
        found = Consumer.poll(self, *args, **kwargs)
        self._refusals.check()
        return found

    def consume(self, *args: Any, **kwargs: Any) -> Any:
        found = Consumer.consume(self, *args, **kwargs)
        self._refusals.check()
        return found

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any:
        return self._sliced(lambda t: Consumer.list_topics(self, topic, timeout=t), timeout)

    def get_watermark_offsets(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return Consumer.get_watermark_offsets(self, *args, **kwargs)
        except KafkaException:
            self.check_refusal()
            raise


class GuardedProducer(RefusalGuard, Producer):
    _base = Producer

    def poll(self, *args: Any, **kwargs: Any) -> Any:
        served = Producer.poll(self, *args, **kwargs)
        self._refusals.check()
        return served

    def flush(self, timeout: float | None = None) -> int:
        # In slices: a refused producer never delivers, and would otherwise wait it all out.
        deadline = time.monotonic() + _forever(timeout)
        while True:
            left = int(Producer.flush(self, max(0.0, min(_FLUSH_SLICE_S, deadline - time.monotonic()))))
            self._refusals.check()
            if left == 0 or time.monotonic() >= deadline:
                return left


class GuardedAdmin(RefusalGuard, AdminClient):
    _base = AdminClient

    def list_topics(self, *args: Any, timeout: float = -1, **kwargs: Any) -> Any:
        return self._sliced(lambda t: AdminClient.list_topics(self, *args, timeout=t, **kwargs), timeout)


def raise_refusal(client: object) -> None:
    """After a failed call: raise KafkaRefused if the broker refused this client's password or certificate."""
    if isinstance(client, RefusalGuard):
        client.check_refusal()
