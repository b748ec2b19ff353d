"""Lost or reset state against the real servers: the database's checkpoints are the only truth."""

from __future__ import annotations

import json
import logging
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import NewPartitions

import consumers.projector
from consumers.run import EXIT_CHECKPOINT_AHEAD
from tests.support.consumer import consumer_thread, next_offsets, wait_for_offsets, wait_until
from tests.support.kafka import admin, create_topics, delete_topics, produce
from tests.support.mysql import checkpoints, query, view_rows
from tests.support.processes import cli, free_port, http, output, process
from ums_find.settings import Settings
from ums_find.store import migrate


def user(name: str, phone: int) -> bytes:
    return json.dumps({"name": name, "phone": phone}).encode()


def produce_to(settings: Settings, records: dict[int, list[str]]) -> None:
    """Users by partition, each name with a phone of its own."""
    prod = Producer({"bootstrap.servers": settings.kafka.bootstrap, "acks": "all"})
    for part, names in records.items():
        for index, name in enumerate(names):
            prod.produce(
                settings.kafka.topic, key=name.encode(), value=user(name, 9000000000 + index), partition=part
            )
    assert prod.flush(30) == 0


def committed(settings: Settings, partitions: int = 3) -> dict[int, int]:
    """The consumer group's committed offsets (advisory: for tools only)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": settings.kafka.group_id})
    try:
        found = consumer.committed(
            [TopicPartition(settings.kafka.topic, p) for p in range(partitions)], timeout=10
        )
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in found if tp.offset >= 0}


@pytest.fixture
def no_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the stall watchdog's late re-seek, only a right start brings records back."""
    monkeypatch.setattr(consumers.projector, "STALL_CHECK_S", 86_400.0)


@pytest.mark.usefixtures("no_watchdog")
def test_a_lost_database_comes_back_whole_from_the_beginning_of_the_topic(stack: Settings) -> None:
    records = [(f"Someone{i:04}".encode(), user(f"Someone{i:04}", 9000000000 + i), None) for i in range(40)]
    ends = next_offsets(produce(stack, records))
    with consumer_thread(stack):
        wait_for_offsets(stack, ends)
    # The group's committed offsets are at the end: a start from them would apply nothing.
    wait_until(lambda: committed(stack) == ends, 30, "the advisory commits")

    query(stack, "DROP TABLE ums_users, ums_checkpoints")
    migrate(stack)
    with consumer_thread(stack):
        wait_for_offsets(stack, ends)
    assert {n: p for n, (p, _) in view_rows(stack).items()} == {
        f"Someone{i:04}": 9000000000 + i for i in range(40)
    }


def recreate_topics(settings: Settings) -> None:
    delete_topics(settings)

    def gone() -> bool:
        return settings.kafka.topic not in admin(settings).list_topics(timeout=10).topics

    wait_until(gone, 60, "the topic's deletion")
    # Creation right after deletion may be refused while the broker still removes it.
    deadline = time.monotonic() + 60
    while True:
        try:
            create_topics(settings)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_a_recreated_topic_is_reported_then_read_from_its_beginning(stack: Settings) -> None:
    produce_to(stack, {p: [f"OldUser{p}{i:03}" for i in range(3)] for p in range(3)})
    with consumer_thread(stack):
        wait_for_offsets(stack, {0: 3, 1: 3, 2: 3})
    recreate_topics(stack)
    produce_to(stack, {0: ["NewUser0001"], 1: ["NewUser0002"], 2: ["NewUser0003", "NewUser0004"]})

    status = json.loads(cli(stack, "status", "--json").stdout)
    assert status["checkpoints_ahead"] == [0, 1, 2]
    assert [(p["partition"], p["lag"], p["checkpoint_ahead"]) for p in status["partitions"]] == [
        (0, -2, True),
        (1, -2, True),
        (2, -1, True),
    ]
    assert "checkpoint ahead of the partition's end" in cli(stack, "status").stdout

    failed = cli(stack, "consume", UMS_ON_CHECKPOINT_AHEAD="fail")
    assert failed.returncode == EXIT_CHECKPOINT_AHEAD, failed.stderr
    assert "beyond the partition's end" in failed.stderr
    assert checkpoints(stack) == {0: 3, 1: 3, 2: 3}  # left for an operator

    port = free_port()
    with process(stack, "consume", UMS_CONSUMER_HTTP_PORT=str(port)) as proc:
        wait_until(lambda: checkpoints(stack) == {0: 1, 1: 1, 2: 2}, 60, "the checkpoints of the new topic")
        metrics = http(f"http://127.0.0.1:{port}/metrics")[2].decode()
        log = output(proc)
    phones = {n: p for n, (p, _) in view_rows(stack).items()}
    assert {n for n in phones if n.startswith("NewUser")} == {f"NewUser000{i}" for i in range(1, 5)}
    for part in range(3):
        assert f'ums_consumer_checkpoint_ahead_total{{partition="{part}"}} 1.0' in metrics
    assert log.count("is beyond the partition's end") == 3, log
    assert json.loads(cli(stack, "status", "--json").stdout)["checkpoints_ahead"] == []


@pytest.mark.usefixtures("no_watchdog")
def test_partitions_added_to_the_topic_are_followed_with_a_warning(
    stack: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    fast = stack.override(partitions_refresh_s=1.0)
    produce_to(stack, {p: [f"FirstUser{p}"] for p in range(3)})
    with consumer_thread(fast):
        wait_for_offsets(stack, {0: 1, 1: 1, 2: 1})
        client = admin(stack)  # kept alive until the future resolves
        for future in client.create_partitions([NewPartitions(stack.kafka.topic, 4)]).values():
            future.result(timeout=30)
        produce_to(stack, {3: ["AddedPartition1"]})
        wait_for_offsets(stack, {3: 1})
    assert "AddedPartition1" in view_rows(stack)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("went from 3 to 4 partitions" in w and "ums-find replay" in w for w in warnings), warnings


def test_a_topic_recreated_under_a_running_consumer_is_read_from_its_beginning(stack: Settings) -> None:
    fast = stack.override(partitions_refresh_s=1.0)
    produce_to(stack, {p: [f"OldUser{p}{i:03}" for i in range(3)] for p in range(3)})
    with consumer_thread(fast):
        wait_for_offsets(stack, {0: 3, 1: 3, 2: 3})
        recreate_topics(stack)
        produce_to(stack, {0: ["NewUser0001"], 1: ["NewUser0002"], 2: ["NewUser0003", "NewUser0004"]})
        wait_until(lambda: checkpoints(stack) == {0: 1, 1: 1, 2: 2}, 60, "the checkpoints of the new topic")
    assert {n for n in view_rows(stack) if n.startswith("NewUser")} == {f"NewUser000{i}" for i in range(1, 5)}


def test_a_replay_after_the_topic_was_recreated_takes_the_new_topic_as_it_is(stack: Settings) -> None:
    produce_to(stack, {p: [f"OldUser{p}{i:03}" for i in range(3)] for p in range(3)})
    with consumer_thread(stack):
        wait_for_offsets(stack, {0: 3, 1: 3, 2: 3})
    recreate_topics(stack)
    produce_to(stack, {0: ["NewUser0001"], 1: ["NewUser0002"]})
    done = cli(stack, "replay", timeout_s=120)
    assert done.returncode == 0, done.stderr
    assert checkpoints(stack) == {0: 1, 1: 1, 2: 0}
    assert set(view_rows(stack)) == {"NewUser0001", "NewUser0002"}


@pytest.mark.keep_forever
def test_records_deleted_below_the_checkpoint_are_reported_and_reading_goes_on(
    stack: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    produce_to(stack, {0: [f"Retained{i:04}" for i in range(6)]})
    query(
        stack,
        "INSERT INTO ums_checkpoints (consumer, topic, part, next_offset) VALUES (%s, %s, 0, 2)",
        (stack.consumer.name, stack.kafka.topic),
    )
    client = admin(stack)  # kept alive until the future resolves
    for future in client.delete_records([TopicPartition(stack.kafka.topic, 0, 4)]).values():
        future.result(timeout=30)
    with consumer_thread(stack):
        wait_for_offsets(stack, {0: 6})
    assert set(view_rows(stack)) == {"Retained0004", "Retained0005"}
    messages = [r.getMessage() for r in caplog.records]
    assert any("records 2 to 3 were deleted" in m for m in messages), messages
    assert not any("beyond the partition's end" in m for m in messages), messages
