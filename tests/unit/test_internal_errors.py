"""A record whose decoding raises (a bug) is dead-lettered, logged and counted; the loop goes on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest
from confluent_kafka import Message

from consumers.batch import decode, plan
from consumers.projector import Projector
from ums_find.events import Event, Poison, parse
from ums_find.store import Change, Position

GOOD = b'{"name": "Someone01", "phone": 9000000000}'
BAD = b'{"name": "Explodes01", "phone": 9000000000}'


def record(offset: int, value: bytes, partition: int = 0) -> Message:
    return Message(topic="user-added", partition=partition, offset=offset, value=value, timestamp=(1, 0))


def fragile(key: bytes | None, value: bytes | None, timestamp_ms: int) -> Event | Poison:
    """The real parser, with a bug on one record."""
    if value == BAD:
        raise KeyError("a bug")
    return parse(key, value, timestamp_ms)


class Store:
    def __init__(self) -> None:
        self.applied: list[tuple[list[Change], list[Position]]] = []

    def apply(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        self.applied.append((list(changes), list(positions)))


class DeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    def send(self, poison: Sequence[tuple[Message, str]]) -> None:
        self.sent.extend((int(m.offset() or 0), reason) for m, reason in poison)


class Consumer:
    def commit(self, **_kwargs: Any) -> None:
        pass


def test_plan_turns_an_exception_into_a_dead_letter_and_reads_on() -> None:
    batch = plan(decode([record(0, GOOD), record(1, BAD), record(2, GOOD)], fragile), {0: None})
    assert [(m.offset(), r) for m, r in batch.poison] == [(1, "internal error: KeyError")]
    assert [type(e) for _m, e in batch.failures] == [KeyError]
    assert len(batch.changes) == 2
    assert batch.positions == [Position(0, None, 3)]


def test_the_projector_applies_the_rest_dead_letters_counts_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, letters = Store(), DeadLetters()
    projector = Projector(Consumer(), store, letters, "user-added", parser=fragile)  # type: ignore[arg-type]
    projector.positions[0] = None  # owned, nothing stored yet
    with caplog.at_level(logging.ERROR, logger="consumers.projector"):
        projector.apply([record(0, GOOD), record(1, BAD), record(2, GOOD)])
    assert letters.sent == [(1, "internal error: KeyError")]
    [(changes, positions)] = store.applied
    assert [c.name for c in changes] == ["Someone01", "Someone01"]
    assert positions == [Position(0, None, 3)]
    assert projector.positions == {0: 3}
    sample = projector.metrics.registry.get_sample_value
    assert sample("ums_consumer_internal_errors_total") == 1
    assert sample("ums_consumer_poison_records_total") == 1
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert (line.topic, line.partition, line.offset) == ("user-added", 0, 1)  # type: ignore[attr-defined]
    assert line.exc_info and line.exc_info[0] is KeyError
