"""The loop cuts a large poll into batches and decodes each next one while the last is written."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from confluent_kafka import Message

from consumers.ahead import ReadAhead
from consumers.batch import Parser
from consumers.projector import Projector
from tests.unit.fakes import FakeDeadLetters, FakeSource, FakeWriter
from ums_find.events import Event, Poison, parse
from ums_find.store import Change, DatabaseUnavailable, Position

TOPIC = "user-added"


def user(i: int) -> bytes:
    return b'{"name": "Someone%04d", "phone": %d}' % (i, 9000000000 + i)


def loop(count: int, writer: FakeWriter, parser: Parser = parse) -> Projector:
    source = FakeSource(TOPIC, {0: [user(i) for i in range(count)]})
    projector = Projector(
        source,  # type: ignore[arg-type]
        writer,
        FakeDeadLetters(),
        TOPIC,
        batch_size=10,
        batch_wait_s=0,
        parser=parser,
    )
    projector.subscribe()
    source.rebalances.append(("assign", [0]))
    return projector


def test_a_poll_of_several_batches_is_written_batch_by_batch_in_order() -> None:
    writer = FakeWriter()
    projector = loop(25, writer)
    projector.step()
    assert writer.batches == [[Position(0, None, 10)], [Position(0, 10, 20)], [Position(0, 20, 25)]]
    assert len(writer.rows) == 25 and writer.checkpoints == {0: 25}
    projector.close()


class WaitingWriter(FakeWriter):
    """Writes the first batch only once the parser has started on the second."""

    def __init__(self, second_started: threading.Event) -> None:
        super().__init__()
        self.second_started = second_started
        self.overlapped: list[bool] = []

    def apply(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        if not self.batches:
            self.overlapped.append(self.second_started.wait(5))
        super().apply(changes, positions)


def test_the_next_batch_is_decoded_in_its_own_thread_while_the_last_is_written() -> None:
    second_started = threading.Event()
    threads: set[str] = set()

    def parser(key: bytes | None, value: bytes | None, timestamp_ms: int) -> Event | Poison:
        threads.add(threading.current_thread().name)
        if value is not None and b"Someone0010" in value:
            second_started.set()
        return parse(key, value, timestamp_ms)

    writer = WaitingWriter(second_started)
    projector = loop(20, writer, parser)
    projector.step()
    assert writer.overlapped == [True]
    assert writer.checkpoints == {0: 20}
    assert any(name.startswith("decode") for name in threads)
    projector.close()


def test_a_fault_in_a_later_batch_is_retried_after_the_earlier_ones_are_written() -> None:
    writer = FakeWriter()
    projector = loop(25, writer)
    original = writer.apply
    calls = {"n": 0}

    def apply(changes: Sequence[Change], positions: Sequence[Position]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise DatabaseUnavailable("down for a moment")
        original(changes, positions)

    writer.apply = apply  # type: ignore[method-assign]
    projector.step()
    assert calls["n"] == 4  # the second batch once more
    assert [b[0].next_offset for b in writer.batches] == [10, 20, 25]
    projector.close()


def test_a_stop_between_batches_leaves_the_rest_to_the_next_start() -> None:
    writer = FakeWriter()
    projector = loop(25, writer)
    stop = threading.Event()
    original = writer.apply

    def apply(changes: Sequence[Change], positions: Sequence[Position]) -> None:
        original(changes, positions)
        stop.set()

    writer.apply = apply  # type: ignore[method-assign]
    projector._stop = stop  # what run() sets
    projector.step()
    assert writer.checkpoints == {0: 10}
    projector.close()


def test_read_ahead_yields_every_record_once_in_order_and_a_raising_parser_gives_poison() -> None:
    messages = [
        Message(topic=TOPIC, partition=0, offset=i, value=user(i), timestamp=(1, 0)) for i in range(23)
    ]

    def parser(key: bytes | None, value: bytes | None, timestamp_ms: int) -> Event | Poison:
        if value is not None and b"Someone0017" in value:
            raise KeyError("a bug")
        return parse(key, value, timestamp_ms)

    ahead = ReadAhead(parser, 5)
    batches = list(ahead.batches(messages))
    ahead.close()
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert [offset for b in batches for _part, offset, *_ in b] == list(range(23))
    [(outcome, failure)] = [(r[3], r[4]) for b in batches for r in b if r[4] is not None]
    assert isinstance(outcome, Poison) and isinstance(failure, KeyError)
