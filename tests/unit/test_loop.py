"""The consume loop's logic against in-memory ports: no broker, no database."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import KafkaError, Message

from consumers.backoff import RetryBudgetExceeded
from consumers.batch import records
from consumers.kafka import DeadLettersRefused, KafkaUnavailable
from consumers.projector import CheckpointAhead, Projector
from consumers.start import FAIL
from tests.unit.fakes import FakeDeadLetters, FakeSource, FakeWriter
from ums_find.store import DatabaseUnavailable

TOPIC = "user-added"
POISON = b"not json"


def user(i: int) -> bytes:
    return b'{"name": "Someone%04d", "phone": %d}' % (i, 9000000000 + i)


def loop(
    logs: dict[int, list[bytes | None]], checkpoints: dict[int, int] | None = None, **options: object
) -> tuple[Projector, FakeSource, FakeWriter, FakeDeadLetters]:
    source, writer, letters = FakeSource(TOPIC, logs), FakeWriter(checkpoints), FakeDeadLetters()
    projector = Projector(source, writer, letters, TOPIC, batch_wait_s=0, **options)  # type: ignore[arg-type]
    projector.subscribe()
    return projector, source, writer, letters


def test_assigned_partitions_start_at_their_checkpoints_and_advance() -> None:
    projector, source, writer, _ = loop({0: [user(i) for i in range(5)], 1: [user(9)]}, {0: 3})
    source.rebalances.append(("assign", [0, 1]))
    projector.step()
    assert writer.checkpoints == {0: 5, 1: 1}
    assert projector.positions == {0: 5, 1: 1}
    assert set(writer.rows) == {"Someone0003", "Someone0004", "Someone0009"}
    assert source.commits[-1] == {0: 5, 1: 1}


def test_a_missing_checkpoint_starts_at_the_beginning_and_fences_on_none() -> None:
    projector, source, writer, _ = loop({0: [user(i) for i in range(3)]})
    source.low = {0: 1}  # retention took record 0: reading goes on from the earliest left
    source.rebalances.append(("assign", [0]))
    projector.step()
    assert writer.checkpoints == {0: 3} and set(writer.rows) == {"Someone0001", "Someone0002"}
    assert writer.batches[0][0].expected is None


def test_a_checkpoint_ahead_reads_from_the_beginning_replacing_the_stale_one() -> None:
    projector, source, writer, _ = loop({0: [user(0), user(1)]}, {0: 500})
    source.rebalances.append(("assign", [0]))
    projector.step()
    [[position]] = writer.batches
    assert (position.expected, position.next_offset) == (500, 2)
    assert projector.expected == {}
    assert (
        projector.metrics.registry.get_sample_value("ums_consumer_checkpoint_ahead_total", {"partition": "0"})
        == 1
    )


def test_a_checkpoint_ahead_stops_the_loop_when_the_policy_says_fail() -> None:
    projector, source, writer, _ = loop({0: [user(0)]}, {0: 500}, on_checkpoint_ahead=FAIL)
    source.rebalances.append(("assign", [0]))
    projector.step()  # the callback cannot raise: the loop does, at its next turn
    assert writer.batches == []
    with pytest.raises(CheckpointAhead):
        projector.step()


def test_unreadable_checkpoints_keep_the_partition_paused_until_loaded() -> None:
    projector, source, writer, _ = loop({0: [user(0), user(1)]}, {0: 1})
    writer.faults = [DatabaseUnavailable("down"), DatabaseUnavailable("down")]
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)  # serve the assignment: the first load fails
    assert projector.pending == {0} and source.paused == {0}
    projector.step()  # the loop retries the load, then reads from the checkpoint
    assert projector.pending == set() and writer.checkpoints == {0: 2}
    assert (0, 1) in source.seeks and set(writer.rows) == {"Someone0001"}


def test_a_stale_position_reloads_the_checkpoint_and_seeks_there() -> None:
    projector, source, writer, _ = loop({0: [user(i) for i in range(6)]}, {0: 0})
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)
    writer.checkpoints[0] = 4  # another writer (a replay's swap) moved it
    projector.apply(source.consume(10, 0))
    assert projector.pending == {0} and 0 in source.paused and writer.batches == []
    projector.step()
    assert source.seeks[-1] == (0, 4)
    assert writer.checkpoints == {0: 6} and set(writer.rows) == {"Someone0004", "Someone0005"}


def test_a_fault_is_retried_paused_and_the_batch_applied_once() -> None:
    projector, source, writer, _ = loop({0: [user(0), user(1)]}, {0: 0})
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)
    writer.faults = [DatabaseUnavailable("down")]
    projector.apply(source.consume(10, 0))
    assert source.pauses and all(p == {0} for p in source.pauses)  # nothing fetched meanwhile
    assert source.paused == set() and not projector.faulted
    assert writer.batches[0][0].next_offset == 2 and projector.positions == {0: 2}
    assert projector.metrics.registry.get_sample_value("ums_consumer_retries_total") == 1


def test_a_fault_past_the_retry_budget_gives_up_without_moving() -> None:
    projector, source, writer, _ = loop({0: [user(0)]}, {0: 0}, retry_limit_s=0.0)
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)
    writer.faults = [DatabaseUnavailable("down")] * 3
    with pytest.raises(RetryBudgetExceeded):
        projector.apply(source.consume(10, 0))
    assert writer.checkpoints == {0: 0} and projector.positions == {0: 0}


def test_a_partition_revoked_during_a_retry_leaves_the_batch() -> None:
    projector, source, writer, _ = loop({0: [user(0)], 1: [user(1)]}, {0: 0, 1: 0})
    source.rebalances.append(("assign", [0, 1]))
    source.consume(0, 0)
    batch = source.consume(10, 0)
    writer.faults = [DatabaseUnavailable("down")]
    source.rebalances.append(("revoke", [0, 1]))
    source.rebalances.append(("assign", [1]))  # served by the poll of the retry's wait
    projector.apply(batch)
    assert writer.checkpoints == {0: 0, 1: 1} and set(writer.rows) == {"Someone0001"}
    assert projector.positions == {1: 1}


def test_poison_is_dead_lettered_before_the_checkpoint_passes_it() -> None:
    projector, source, writer, letters = loop({0: [user(0), POISON, user(2)]}, {0: 0})
    source.rebalances.append(("assign", [0]))
    letters.faults = [KafkaUnavailable("broker away")]
    projector.step()
    assert [(p, o) for p, o, _ in letters.sent] == [(0, 1)] and writer.checkpoints == {0: 3}
    assert projector.metrics.registry.get_sample_value("ums_consumer_poison_records_total") == 1


def test_a_refused_dead_letter_stops_without_moving_the_checkpoint() -> None:
    projector, source, writer, letters = loop({0: [user(0), POISON]}, {0: 0})
    source.rebalances.append(("assign", [0]))
    letters.faults = [DeadLettersRefused("too large")]
    with pytest.raises(DeadLettersRefused):
        projector.step()
    assert writer.checkpoints == {0: 0} and writer.batches == [] and projector.positions == {0: 0}


def test_a_refused_seek_assigns_again_from_the_applied_positions() -> None:
    projector, source, writer, _ = loop({0: [user(0), user(1)], 1: [user(5)]}, {0: 1, 1: 1})
    source.rebalances.append(("assign", [0, 1]))
    source.consume(0, 0)
    projector.pending.add(0)
    projector.positions.pop(0)
    source.refuse_seek = True
    projector.step()
    assert source.assigns[-1] == {0: 1, 1: 1}  # each from where the view stands
    assert source.fetch == {0: 2, 1: 1} and writer.checkpoints == {0: 2, 1: 1}


def test_reading_from_the_beginning_fetches_from_the_low_watermark() -> None:
    projector, source, _, _ = loop({0: [user(0)]})
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)
    assert projector.positions == {0: None} and source.fetch == {0: 0}


def test_records_before_the_position_are_not_applied_again() -> None:
    projector, source, writer, _ = loop({0: [user(i) for i in range(4)]}, {0: 0})
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)
    fetched = source.consume(10, 0)
    projector.apply(fetched[:3])
    writer.rows.clear()
    projector.apply(fetched)  # fetched again, as after a seek back
    assert set(writer.rows) == {"Someone0003"} and writer.checkpoints == {0: 4}


def event(code: int, partition: int = 0, fatal: bool = False) -> Message:
    return Message(topic=TOPIC, partition=partition, offset=-1, error=KafkaError(code, "event", fatal=fatal))


def test_an_offset_reset_event_checks_the_checkpoint_again() -> None:
    projector, source, writer, _ = loop({0: [user(0), user(1)]}, {0: 1})
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)
    source.events.append(event(KafkaError._AUTO_OFFSET_RESET))
    projector.step()  # the event, alone in the batch: the partition waits for its checkpoint
    assert projector.pending == {0} and 0 in source.paused and writer.batches == []
    projector.step()
    assert source.seeks[-1] == (0, 1) and writer.checkpoints == {0: 2}


def test_a_fatal_consume_error_stops_the_loop() -> None:
    projector, source, writer, _ = loop({0: [user(0)]}, {0: 0})
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)
    source.events.append(event(KafkaError._FATAL, fatal=True))
    with pytest.raises(KafkaUnavailable):
        projector.step()
    assert writer.batches == []


def test_the_end_of_a_partition_is_no_error(caplog: pytest.LogCaptureFixture) -> None:
    projector, source, writer, _ = loop({0: [user(0)]}, {0: 0})
    source.rebalances.append(("assign", [0]))
    source.consume(0, 0)
    source.events.append(event(KafkaError._PARTITION_EOF))
    with caplog.at_level(logging.DEBUG, logger="consumers"):
        projector.step()
    assert writer.checkpoints == {0: 1} and not [r for r in caplog.records if "consume error" in r.message]


def test_records_keep_their_order_and_offer_each_event_first() -> None:
    taken: list[int] = []

    def take_eof(msg: Message, err: KafkaError) -> bool:
        taken.append(int(msg.partition() or 0))
        return bool(err.code() == KafkaError._PARTITION_EOF)

    good = [Message(topic=TOPIC, partition=0, offset=i, value=user(i)) for i in range(2)]
    batch = [good[0], event(KafkaError._PARTITION_EOF, 1), event(KafkaError._TRANSPORT, 2), good[1]]
    assert records(batch, take_eof) == good and taken == [1, 2]
    with pytest.raises(KafkaUnavailable):
        records([good[0], event(KafkaError._FATAL, fatal=True)], take_eof)
