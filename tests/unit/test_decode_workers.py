"""Decoding in worker processes gives what decoding in the loop's process gives, through a worker's death."""

from __future__ import annotations

import logging
import multiprocessing
import os

import pytest
from confluent_kafka import Message

from consumers.ahead import ReadAhead
from consumers.batch import Parser, decode
from ums_find.events import Event, Poison, parse

TOPIC = "user-added"
RECORDS = [
    b'{"name": "Someone0001", "phone": 9000000001, "since": "2024-02-29T10:00:00Z"}',
    b'{"name": "Someone0002", "phone": 9000000002}',
    b"not json",
    b'{"name": "Someone0001", "phone": 9000000003}',
    b'{"name": "short", "phone": 9000000004}',
    b'{"name": "Someone0005", "phone": 9000000005, "since": 1700000000.999999999}',
    b"",
]


def messages(count: int) -> list[Message]:
    return [
        Message(
            topic=TOPIC,
            partition=i % 3,
            offset=i,
            key=b"Someone%04d" % i,
            value=RECORDS[i % len(RECORDS)] if i % 11 else None,  # a tombstone now and then
            timestamp=(1, 1_700_000_000_000 + i),
        )
        for i in range(count)
    ]


def in_order(batches: list[list]) -> list[tuple]:  # type: ignore[type-arg]
    return [(part, offset, outcome, failure) for b in batches for part, offset, _msg, outcome, failure in b]


def by_workers(parser: Parser, size: int, *polls: list[Message], workers: int = 1) -> list[list[tuple]]:  # type: ignore[type-arg]
    """Each poll's records as one ReadAhead with worker processes decodes them, in order."""
    ahead = ReadAhead(parser, size, workers=workers)
    try:
        return [in_order(list(ahead.batches(poll))) for poll in polls]
    finally:
        ahead.close()


def test_worker_processes_give_what_the_loop_process_gives_in_order() -> None:
    records = messages(57)
    [got] = by_workers(parse, 10, records, workers=2)
    assert got == in_order([decode(records)])
    assert sum(1 for _p, _o, outcome, _f in got if isinstance(outcome, Poison)) > 0


def raising(key: bytes | None, value: bytes | None, timestamp_ms: int) -> Event | Poison:
    if value and b"Someone0002" in value:
        raise KeyError("a bug")
    return parse(key, value, timestamp_ms)


def test_an_error_raised_in_a_worker_comes_back_as_that_error_with_its_traceback() -> None:
    [got] = by_workers(raising, 5, messages(14))
    failures = [(outcome, failure) for _p, _o, outcome, failure in got if failure is not None]
    assert [outcome.reason for outcome, _ in failures] == ["internal error: KeyError"] * 2
    for _outcome, failure in failures:
        assert isinstance(failure, KeyError)
        assert any("in raising" in note for note in failure.__notes__)


def dying(key: bytes | None, value: bytes | None, timestamp_ms: int) -> Event | Poison:
    if multiprocessing.parent_process() is not None and key == b"Someone0012":
        os._exit(3)  # the worker process dies mid-batch
    return parse(key, value, timestamp_ms)


def test_a_worker_that_dies_costs_nothing_its_batch_is_decoded_here(caplog: pytest.LogCaptureFixture) -> None:
    records = messages(40)
    with caplog.at_level(logging.WARNING, "consumers.ahead"):
        got, again = by_workers(dying, 10, records, records[20:])  # a new pool serves the next poll
    assert got == in_order([decode(records)])
    assert again == in_order([decode(records[20:])])
    assert "a decoding process died" in caplog.text


class Unpicklable(Exception):
    def __init__(self, handle: object) -> None:
        super().__init__("holds a handle")
        self.handle = handle


def raising_unpicklable(key: bytes | None, value: bytes | None, timestamp_ms: int) -> Event | Poison:
    if value and b"Someone0002" in value:
        raise Unpicklable(lambda: None)  # a lambda does not pickle
    return parse(key, value, timestamp_ms)


def test_an_error_that_cannot_cross_comes_back_as_its_text() -> None:
    [got] = by_workers(raising_unpicklable, 5, messages(8))
    [(outcome, failure)] = [(o, f) for _p, _off, o, f in got if f is not None]
    assert outcome.reason == "internal error: Unpicklable"
    assert isinstance(failure, RuntimeError) and "Unpicklable: holds a handle" in str(failure)
    assert "in raising_unpicklable" in str(failure)
