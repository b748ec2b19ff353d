"""Write records and learn, from their delivery reports, which the broker has and which failed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ums_find.kafka.client import KafkaError, KafkaException, Message, Producer


@dataclass(frozen=True)
class Outgoing:
    """One record to write."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, str | bytes | None]] | None = None
    partition: int = -1
    timestamp: int = 0

    @property
    def size(self) -> int:
        """Key and value bytes."""
        return len(self.key or b"") + len(self.value or b"")


@dataclass
class Delivery:
    """What became of records handed to `deliver_all`; late reports (after its flush) still land here."""

    written: list[Message] = field(default_factory=list)
    failed: list[tuple[KafkaError, Outgoing]] = field(default_factory=list)
    outstanding: int = 0  # queued, no report yet
    unqueued: int = 0  # never queued: the local queue stayed full

    @property
    def complete(self) -> bool:
        """Every record written, none failed, pending or left out."""
        return not self.failed and not self.outstanding and not self.unqueued

    def errors(self, count: int = 3) -> list[str]:
        """The first failures, as text."""
        return [str(err) for err, _record in self.failed[:count]]

    def done(self, record: Outgoing, err: KafkaError | None, msg: Message) -> None:
        """The delivery report of one record."""
        self.outstanding -= 1
        (self.written.append(msg) if err is None else self.failed.append((err, record)))


def deliver_all(
    client: Producer,
    records: Iterable[Outgoing],
    timeout_s: float,
    on_queued: Callable[[], None] | None = None,
) -> Delivery:
    """Produce every record with a delivery report, then flush for up to `timeout_s`.

    While the local queue is full, each record waits up to `timeout_s` for deliveries to
    make room (then it and the rest count as `unqueued`); a record the client refuses at
    once (too large, unknown partition) is a failure, not an exception.
    """
    delivery = Delivery()
    queue = iter(records)
    for record in queue:
        if not _produce(client, record, delivery, time.monotonic() + timeout_s):
            delivery.unqueued = 1 + sum(1 for _ in queue)
            break
        if on_queued is not None:
            on_queued()
    client.flush(timeout_s)
    return delivery


def _produce(client: Producer, record: Outgoing, delivery: Delivery, deadline: float) -> bool:
    options: dict[str, Any] = {"key": record.key, "value": record.value, "partition": record.partition}
    if record.headers is not None:
        options["headers"] = record.headers
    if record.timestamp:
        options["timestamp"] = record.timestamp
    while True:
        try:
            client.produce(record.topic, **options, on_delivery=partial(delivery.done, record))
        except BufferError:  # the local queue is full: let deliveries drain first
            if time.monotonic() >= deadline:
                return False
            client.poll(0.1)
            continue
        except KafkaException as exc:
            delivery.failed.append((exc.args[0], record))
            return True
        delivery.outstanding += 1
        client.poll(0)
        return True
