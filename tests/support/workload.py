"""A stream like production's, only rougher: repeats, tombstones and ~1% poison; and its model."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from confluent_kafka import KafkaError, Message, Producer

from ums_find.settings import Settings

Record = tuple[bytes, bytes | None]
_POISON = (b"not json", b'{"name": "Short", "phone": 9876543210}', b'{"phone": 12, "name": "%s"}')


def records(count: int, names: int = 3000, seed: int = 7) -> list[Record]:
    """`count` keyed records over `names` names: ~5% tombstones, ~1% poison, the rest upserts."""
    rng = random.Random(seed)
    out: list[Record] = []
    for index in range(count):
        name = f"WorkUser{rng.randrange(names):06d}"
        roll = rng.random()
        if roll < 0.01:
            value: bytes | None = rng.choice(_POISON).replace(b"%s", name.encode())
        elif roll < 0.06:
            value = None
        else:
            since = datetime.fromtimestamp(1_600_000_000 + index, UTC).isoformat()
            value = json.dumps({"name": name, "phone": 9_000_000_000 + rng.randrange(10**9), "since": since})
            value = value.encode()
        out.append((name.encode(), value))
    return out


def is_poison(value: bytes | None) -> bool:
    """Whether a record of `records` is one of its poison kinds."""
    return value is not None and not value.startswith(b'{"name": "WorkUser')


def model(delivered: Sequence[Message], below: dict[int, int] | None = None) -> dict[str, int]:
    """name -> phone after the delivered records (only those below `below`'s offsets, if given)."""
    view: dict[str, int] = {}
    for msg in sorted(delivered, key=lambda m: (m.partition(), m.offset())):
        if below is not None and msg.offset() >= below.get(msg.partition(), 0):
            continue
        name, value = msg.key().decode(), msg.value()
        if value is None:
            view.pop(name, None)
        elif not is_poison(value):
            view[name] = int(json.loads(value)["phone"])
    return view


def poison_positions(delivered: Sequence[Message]) -> set[tuple[int, int]]:
    """(partition, offset) of every poison record."""
    return {(m.partition(), m.offset()) for m in delivered if is_poison(m.value())}


class StreamProducer(threading.Thread):
    """Produces records in chunks with pauses, surviving broker restarts; `delivered` when done."""

    def __init__(self, settings: Settings, items: Sequence[Record], chunk: int = 2000, pause_s: float = 0.3):
        super().__init__(daemon=True)
        self._settings, self._items, self._chunk, self._pause_s = settings, items, chunk, pause_s
        self.delivered: list[Message] = []
        self.errors: list[str] = []

    def run(self) -> None:
        prod = Producer(
            {"bootstrap.servers": self._settings.kafka.bootstrap, "acks": "all", "enable.idempotence": True}
        )

        def done(err: KafkaError | None, msg: Message) -> None:
            (self.errors.append(str(err)) if err is not None else self.delivered.append(msg))

        for start in range(0, len(self._items), self._chunk):
            for key, value in self._items[start : start + self._chunk]:
                prod.produce(self._settings.kafka.topic, key=key, value=value, on_delivery=done)
            prod.poll(0)
            time.sleep(self._pause_s)
        prod.flush(180)

    def finish(self, timeout_s: float = 200.0) -> list[Message]:
        """Wait for every record to be acknowledged; the delivered records."""
        self.join(timeout_s)
        assert not self.is_alive(), "the producer did not finish"
        assert len(self.delivered) == len(self._items), f"undelivered: {self.errors[:3]}"
        return self.delivered


def total(offsets: dict[int, int]) -> int:
    """The sum of a partition -> offset map: a measure of progress."""
    return sum(offsets.values())
