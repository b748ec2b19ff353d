"""Hostile records on the real Kafka and MariaDB: each is dead-lettered whole and the consumer goes on."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.admin import NewTopic

from consumers.dead_letter_topic import ANY_TIMESTAMP_MS, BROKER_DEFAULT_MAX_BYTES
from consumers.run import EXIT_DEAD_LETTERS, run_projection
from tests.conftest import random_suffix
from tests.support.consumer import consumer_thread, next_offsets, wait_for_offsets
from tests.support.harness import wait_until
from tests.support.kafka import admin, create_topics, delete_topics, read_all
from tests.support.mysql import view_rows
from ums_find.settings import Settings

KEY = b"Hostile00"  # one key: one partition, in this order
BEYOND_YEAR_9999_MS = 300_000_000_000_000  # a timestamp datetime cannot hold
NEAR_MAX = BROKER_DEFAULT_MAX_BYTES - 8_000  # as large as the main topic takes, with framing

HOSTILE: list[tuple[bytes, int | None, str]] = [
    (b'{"name": "Hostile00", "phone": 9000000000, "since": 1e999999999}', None, "since out of range"),
    (b'{"name": "Hostile00", "phone": "' + b"9" * 5000 + b'"}', None, "phone above 15 digits"),
    (b'{"name": "Hostile00", "phone": 9000000000}', BEYOND_YEAR_9999_MS, "since out of range"),
    (b'{"name": "Hostile00", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", None, "not JSON"),
    (b'{"name": "Hostile00", "phone": "' + b"9" * NEAR_MAX + b'"}', None, "phone above 15 digits"),
]
VALID = b'{"name": "Hostile00", "phone": 9876543210}'


@pytest.fixture
def hostile(database: Settings, kafka_server: Settings) -> Iterator[Settings]:
    """A database and topics of this test's own; the main topic takes any timestamp."""
    name = f"test-{random_suffix()}"
    settings = database.override(
        topic=name, dlq_topic=f"{name}.dlq", group_id=f"g-{name}", consumer_name=f"c-{name}"
    )
    create_topics(settings, main_config={"message.timestamp.after.max.ms": ANY_TIMESTAMP_MS})
    yield settings
    delete_topics(settings)


def publish(settings: Settings, records: list[tuple[bytes, int | None]]) -> list[Message]:
    """Write records as large as the broker takes (librdkafka's own default limit is lower)."""
    producer = Producer(
        {"bootstrap.servers": settings.kafka.bootstrap, "message.max.bytes": BROKER_DEFAULT_MAX_BYTES}
    )
    delivered: list[Message] = []
    errors: list[KafkaError] = []
    for value, ts in records:
        producer.produce(
            settings.kafka.topic,
            key=KEY,
            value=value,
            headers=[("__TypeId__", b"com.glarimy.User")],
            on_delivery=lambda err, msg: errors.append(err) if err else delivered.append(msg),
            **({"timestamp": ts} if ts is not None else {}),
        )
        producer.flush(30)  # one at a time: offsets in this order
    assert not errors and len(delivered) == len(records), errors
    return delivered


def test_each_hostile_record_is_dead_lettered_whole_and_the_next_valid_one_applies(hostile: Settings) -> None:
    delivered = publish(hostile, [(v, ts) for v, ts, _ in HOSTILE] + [(VALID, None)])
    with consumer_thread(hostile):  # fails unless it ends with code 0 when stopped
        wait_for_offsets(hostile, next_offsets(delivered))
    assert {n: p for n, (p, _) in view_rows(hostile).items()} == {"Hostile00": 9876543210}

    letters = {
        dict(m.headers() or [])["ums.original.offset"]: m
        for m in read_all(hostile, hostile.kafka.dlq_topic, 5)
    }
    assert len(letters) == len(HOSTILE)
    for (_value, _ts, reason), original in zip(HOSTILE, delivered, strict=False):
        letter = letters[str(original.offset()).encode()]
        headers = dict(letter.headers() or [])
        assert headers["ums.error"] == reason.encode()
        assert headers["ums.original.topic"] == hostile.kafka.topic.encode()
        assert headers["ums.original.partition"] == str(original.partition()).encode()
        assert headers["__TypeId__"] == b"com.glarimy.User"
        assert letter.key() == original.key() and letter.value() == original.value()
        assert letter.timestamp()[1] == original.timestamp()[1]


def exit_code(settings: Settings, timeout_s: float = 90.0) -> int | None:
    """Run the consumer until it ends by itself; None (after stopping it) if it did not."""
    stop, codes = threading.Event(), []
    thread = threading.Thread(target=lambda: codes.append(run_projection(settings, stop)), daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        stop.set()
        thread.join(30)
        return None
    return codes[0]


def test_a_missing_dead_letter_topic_stops_the_consumer_at_start_with_its_exit_code(
    hostile: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    missing = hostile.override(dlq_topic=f"{hostile.kafka.topic}.nowhere", consumer_http_port=0)
    assert exit_code(missing) == EXIT_DEAD_LETTERS
    assert f"the dead-letter topic {missing.kafka.dlq_topic} does not exist" in caplog.text


def test_a_dead_letter_the_dead_letter_topic_refuses_stops_the_consumer_with_its_exit_code(
    hostile: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # A dead-letter topic smaller than the main one (made by hand, not by us): the large
    # poison record cannot be dead-lettered, and retrying it would not help.
    small = hostile.override(dlq_topic=f"{hostile.kafka.topic}.small", consumer_http_port=0)
    client = admin(small)
    topic = NewTopic(small.kafka.dlq_topic, 1, 1, config={"max.message.bytes": "100000"})
    for future in client.create_topics([topic]).values():
        future.result(timeout=60)
    # Created is not yet known to every client: the broker's metadata follows the controller.
    wait_until(lambda: small.kafka.dlq_topic in client.list_topics(timeout=10).topics, 30, "the topic")
    try:
        publish(small, [(HOSTILE[-1][0], None)])
        assert exit_code(small) == EXIT_DEAD_LETTERS
        assert f"cannot write to the dead-letter topic {small.kafka.dlq_topic}" in caplog.text
        assert view_rows(small) == {}
    finally:
        client.delete_topics([small.kafka.dlq_topic])


def test_a_dead_letter_as_large_as_the_topic_takes_is_redriven_whole(hostile: Settings) -> None:
    from tests.support.processes import cli

    big = HOSTILE[-1][0]
    delivered = publish(hostile, [(big, None)])
    with consumer_thread(hostile):
        wait_for_offsets(hostile, next_offsets(delivered))
    redriven = cli(hostile, "dlq", "redrive", "--all")
    assert redriven.returncode == 0, redriven.stderr[-2000:]
    again = read_all(hostile, hostile.kafka.topic, 2)
    assert [m.value() for m in again] == [big, big]
