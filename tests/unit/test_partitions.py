"""Where the view stands in each owned partition, against an in-memory topic and store."""

from __future__ import annotations

from confluent_kafka import TopicPartition

from consumers.metrics import ConsumerMetrics
from consumers.partitions import Partitions
from consumers.start import RESET
from tests.unit.fakes import FakeSource, FakeWriter
from ums_find.store import Position

TOPIC = "user-added"


def owned(
    logs: dict[int, list[bytes | None]], checkpoints: dict[int, int] | None = None
) -> tuple[Partitions, FakeSource, ConsumerMetrics]:
    source, metrics = FakeSource(TOPIC, logs), ConsumerMetrics()
    parts = Partitions(source, FakeWriter(checkpoints), TOPIC, metrics, RESET)  # type: ignore[arg-type]
    source.subscribe([TOPIC], parts.on_assign, parts.on_revoke, parts.on_revoke)
    return parts, source, metrics


def test_a_partition_read_again_from_its_beginning_is_fenced_on_its_stale_checkpoint() -> None:
    parts, source, _ = owned({0: [b"a"], 1: [b"b"]}, {0: 500, 1: 0})
    parts.on_assign(source, [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
    assert parts.positions == {0: None, 1: 0} and parts.expected == {0: 500}
    fenced = parts.fenced([Position(0, None, 1), Position(1, 0, 1)])
    assert fenced == [Position(0, 500, 1), Position(1, 0, 1)]
    parts.advance(fenced)
    assert parts.positions == {0: 1, 1: 1} and parts.expected == {}
    assert parts.fenced([Position(0, 1, 2)]) == [Position(0, 1, 2)]


def test_a_reload_pauses_the_partition_and_forgets_where_it_stood() -> None:
    parts, source, _ = owned({0: [b"a"], 1: [b"b"]}, {0: 500, 1: 0})
    parts.on_assign(source, [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
    parts.reload([0])
    assert parts.positions == {1: 0} and parts.expected == {} and parts.pending == {0}
    assert source.paused == {0}
    [start] = parts.pending_starts()
    parts.start([start])
    assert parts.pending == set() and source.paused == set() and source.seeks == [(0, start.fetch)]


def test_a_start_for_a_partition_revoked_meanwhile_is_dropped() -> None:
    parts, source, metrics = owned({0: [b"a"], 1: [b"b"]}, {0: 0, 1: 0})
    parts.on_assign(source, [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
    metrics.positions(parts.positions, {})
    parts.reload([0, 1])
    starts = parts.pending_starts()
    parts.on_revoke(source, [TopicPartition(TOPIC, 0)])
    parts.start(starts)
    assert parts.positions == {1: 0} and parts.pending == set() and [s for s, _ in source.seeks] == [1]
    assert metrics.registry.get_sample_value("ums_consumer_checkpoint", {"partition": "0"}) is None


def test_reading_from_the_beginning_owns_exactly_those_partitions() -> None:
    parts, source, _ = owned({0: [b"a"], 1: [b"b"], 2: [b"c"]})
    source.low = {1: 1}
    parts.read_from_beginning([0, 1])
    assert parts.positions == {0: None, 1: None} and source.fetch == {0: 0, 1: 1}


def test_a_partition_with_records_waiting_is_sought_again_where_it_stands() -> None:
    parts, source, _ = owned({0: [b"a", b"b", b"c"], 1: [b"d"], 2: [b"e", b"f"]}, {0: 1, 1: 1})
    source.low = {2: 1}
    parts.on_assign(source, [TopicPartition(TOPIC, p) for p in (0, 1, 2)])
    parts.unstick(15.0)
    assert source.seeks == [(0, 1), (2, 1)]  # partition 1 is read to its end
    assert parts.highs() == {0: 3, 1: 1, 2: 2}
