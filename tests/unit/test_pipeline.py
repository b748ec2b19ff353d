"""The pipelined writer around a projection store: queued writes, in order, failures surfacing later."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import pytest

from consumers.pipeline import PipelinedStore, WriterFailed
from tests.unit.fakes import FakeWriter
from ums_find.store import Change, DatabaseUnavailable, Position


class GatedWriter(FakeWriter):
    """A fake store whose writes wait for `gate`, and which logs the order of its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.calls: list[str] = []
        self.closed = False

    def apply(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        self.gate.wait(60)
        super().apply(changes, positions)
        self.calls.append("apply")

    def load_positions(self, partitions: Iterable[int]) -> dict[int, int | None]:
        self.calls.append("load")
        return super().load_positions(partitions)

    def close(self) -> None:
        self.closed = True


def pipelined(store: GatedWriter) -> PipelinedStore:
    return PipelinedStore(store, retry_limit_s=60.0)  # type: ignore[arg-type]


def test_apply_returns_before_the_write_and_flush_waits_for_it() -> None:
    store = GatedWriter()
    writer = pipelined(store)
    writer.apply([], [Position(0, None, 3)])
    assert store.checkpoints == {}  # queued, not written: the wrapper's whole point
    store.gate.set()
    writer.flush()
    assert store.checkpoints == {0: 3}
    writer.close()
    assert store.closed


def test_checkpoints_are_loaded_once_the_queued_batches_are_written() -> None:
    store = GatedWriter()
    writer = pipelined(store)
    writer.apply([], [Position(0, None, 3)])
    threading.Timer(0.05, store.gate.set).start()
    assert writer.load_positions([0]) == {0: 3}
    assert store.calls == ["apply", "load"]
    writer.close()


def test_a_fault_worth_retrying_is_retried_in_the_writer() -> None:
    store = GatedWriter()
    store.gate.set()
    store.faults = [DatabaseUnavailable("down")]
    writer = pipelined(store)
    writer.apply([], [Position(0, None, 1)])
    writer.flush()
    assert store.checkpoints == {0: 1}
    writer.close()


def test_a_failed_write_ends_the_run_at_a_later_call() -> None:
    store = GatedWriter()
    store.gate.set()
    store.checkpoints = {0: 7}  # the fence refuses: no retry cures that
    writer = pipelined(store)
    writer.apply([], [Position(0, None, 1)])
    with pytest.raises(WriterFailed):
        writer.flush()
    with pytest.raises(WriterFailed):
        writer.apply([], [Position(0, 7, 8)])
    writer.close()
    assert store.closed
