"""`ums-find replay` as a process, beside a live consumer and API, on the real Kafka and MariaDB."""

from __future__ import annotations

import json
import random
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from confluent_kafka import KafkaError, Message, TopicPartition

from tests.samples import load_samples, raw
from tests.support.consumer import consumer_thread, next_offsets, wait_for_offsets, wait_until
from tests.support.kafka import admin, produce, producer, read_all
from tests.support.lookup_load import LookupLoad
from tests.support.mysql import query, view_rows
from tests.support.processes import api_server, cli, get_json, output, process
from ums_find.settings import Settings

SINCE = "2022-03-01T10:00:00Z"
SAMPLES = load_samples()


def record(name: str, phone: int) -> tuple[bytes, bytes, None]:
    value = json.dumps({"name": name, "phone": phone, "since": SINCE}).encode()
    return name.encode(), value, None


def model(messages: list[Message]) -> dict[str, int]:
    """What the view must hold after these records: name -> phone."""
    view: dict[str, int] = {}
    for msg in sorted(messages, key=lambda m: (m.partition(), m.offset())):
        name = msg.key().decode()
        if msg.value() is None:
            view.pop(name, None)
        else:
            view[name] = json.loads(msg.value())["phone"]
    return view


def phones(settings: Settings, table: str = "ums_users") -> dict[str, int]:
    return {name: phone for name, (phone, _since) in view_rows(settings, table).items()}


class Lookups(LookupLoad):
    """Eight threads asking the API for users whose answer must not change; wrong answers kept."""

    def __init__(self, base: str, expected: dict[str, int]) -> None:
        super().__init__(base)
        self.expected, self.names = expected, sorted(expected)

    def pick(self, rng: random.Random) -> str:
        return rng.choice(self.names)

    def good(self, name: str, status: int, body: Any) -> bool:
        return status == 200 and body == {"name": name, "phone": self.expected[name], "since": SINCE}


class Publisher:
    """Keeps writing new users, updates and erasures of names nobody looks up, until stopped."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.delivered: list[Message] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        prod, errors = producer(self.settings), []

        def done(err: KafkaError | None, msg: Message) -> None:
            (errors.append(err) if err else self.delivered.append(msg))

        def send(key: bytes, value: bytes | None) -> None:
            prod.produce(self.settings.kafka.topic, key=key, value=value, on_delivery=done)

        i = 0
        while not self.stop.wait(0.01):
            i += 1
            send(*record(f"arrival{i:06d}", 9100000000 + i)[:2])
            if i % 3 == 0:  # a later arrival changes, an earlier one goes
                send(*record(f"arrival{i - 1:06d}", 9200000000 + i)[:2])
                send(f"arrival{i - 2:06d}".encode(), None)
            prod.poll(0)
        prod.flush(30)
        assert not errors, errors[:3]


def test_replay_repairs_a_corrupted_view_while_lookups_and_records_go_on(stack: Settings) -> None:
    users = {f"steady{i:06d}": 9000000000 + i for i in range(12000)}
    first = produce(stack, [record(name, phone) for name, phone in users.items()])
    with process(stack, "consume") as consumer, api_server(stack) as base:
        wait_for_offsets(stack, next_offsets(first))
        names = sorted(users)
        query(stack, f"DELETE FROM ums_users WHERE name IN ({', '.join(['%s'] * 40)})", tuple(names[:40]))
        query(stack, "UPDATE ums_users SET phone = 9999999999 WHERE name LIKE 'steady0001%'")
        query(stack, "INSERT INTO ums_users VALUES ('NotOnTheTopic', 9000000001, '2022-03-01 10:00:00')")
        lookups = Lookups(base, {n: users[n] for n in names[200:] if not n.startswith("steady0001")})
        publisher = Publisher(stack)
        with lookups.running(8):
            publisher.thread.start()
            before = lookups.count
            result = cli(stack, "replay", timeout_s=150, UMS_REPLAY_BATCH_SIZE="500")
            during = lookups.count - before
            publisher.stop.set()
            publisher.thread.join(60)
            wait_for_offsets(stack, next_offsets(first + publisher.delivered))
        assert consumer.poll() is None, "the live consumer stopped"
        assert "Traceback" not in output(consumer)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "swapped in the rebuilt view" in result.stdout
    assert lookups.wrong == [], lookups.wrong[:5]
    assert during >= 300, f"only {during} lookups during the replay"
    assert len(publisher.delivered) > 30, "records did not keep arriving"
    assert phones(stack) == model(first + publisher.delivered)
    assert "NotOnTheTopic" in phones(stack, "ums_users_old")


@contextmanager
def holding_writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the live view's writer lock as a live batch would, from a connection of the test."""
    from ums_find.store import connect
    from ums_find.store.projection import writer_lock_name

    conn = connect(settings)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT GET_LOCK(%s, 10)", (writer_lock_name(settings.mysql.database, "ums_users"),))
        assert cursor.fetchall() == [(1,)]
        yield
    finally:
        conn.close()


def waiting_for_the_lock(proc: Any) -> None:
    """Wait until the replay has built the side table and waits for the writer lock."""
    wait_until(
        lambda: "taking the writer lock" in output(proc) or proc.poll() is not None, 60, "the side table"
    )
    assert proc.poll() is None, output(proc)


def test_an_aborted_replay_leaves_the_live_view_serving_and_the_next_one_succeeds(stack: Settings) -> None:
    users = {f"aborted{i:05d}": 9000000000 + i for i in range(3000)}
    delivered = produce(stack, [record(name, phone) for name, phone in users.items()])
    with process(stack, "consume"), api_server(stack) as base:
        wait_for_offsets(stack, next_offsets(delivered))
        query(stack, "UPDATE ums_users SET phone = 9999999999 WHERE name = 'aborted00007'")
        before = phones(stack)
        with holding_writer_lock(stack):
            with process(stack, "replay") as interrupted:
                waiting_for_the_lock(interrupted)
                interrupted.send_signal(signal.SIGINT)
                assert interrupted.wait(30) == 130, output(interrupted)
            assert phones(stack) == before
            with process(stack, "replay") as killed:
                waiting_for_the_lock(killed)
                second = cli(stack, "replay")
                assert second.returncode == 2 and "another replay" in second.stderr, second.stderr
                killed.kill()
                killed.wait(30)
            assert phones(stack) == before
            assert get_json(f"{base}/user/aborted00007") == (
                200,
                {"name": "aborted00007", "phone": 9999999999, "since": SINCE},
            )
            assert "aborted00001" in phones(stack, "ums_users_rebuild")  # left for the next start
        result = cli(stack, "replay", "--drop-old")
        assert result.returncode == 0, result.stderr[-3000:]
        assert get_json(f"{base}/user/aborted00007")[1]["phone"] == users["aborted00007"]
    assert phones(stack) == users
    tables = {row[0] for row in query(stack, "SHOW TABLES")}
    assert tables == {"ums_users", "ums_checkpoints"}


@pytest.mark.keep_forever
def test_verify_reports_planted_differences_exactly_and_sends_no_dead_letters(stack: Settings) -> None:
    delivered = produce(stack, [raw(s) for s in SAMPLES])
    poison = sum("dlq" in s["expect"] for s in SAMPLES)
    with consumer_thread(stack):
        wait_for_offsets(stack, next_offsets(delivered))
    clean = cli(stack, "replay", "--verify")
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert "identical" in clean.stdout and f"poison records: {poison} " in clean.stdout

    names = sorted(view_rows(stack))  # the first four are ASCII: the collation orders them as lower()
    query(stack, "DELETE FROM ums_users WHERE name IN (%s, %s)", (names[0], names[1]))
    query(stack, "UPDATE ums_users SET phone = phone + 1 WHERE name = %s", (names[2],))
    query(stack, "UPDATE ums_users SET name = UPPER(name) WHERE name = %s", (names[3],))
    query(stack, "INSERT INTO ums_users VALUES ('NotOnTheTopic', 9000000001, '2022-03-01 10:00:00')")
    planted = cli(stack, "replay", "--verify")
    assert planted.returncode == 1, planted.stderr[-3000:]
    rows = len(names)
    changed = sorted([names[2], names[3].upper()], key=str.lower)
    assert planted.stdout.splitlines()[1:] == [
        f"live view: {rows - 1} rows; rebuilt from the topic: {rows} rows",
        f"missing from the live view: 2; first: {', '.join(sorted(names[:2], key=str.lower))}",
        "only in the live view: 1; first: NotOnTheTopic",
        f"different in the live view: 2; first: {', '.join(changed)}",
    ]
    assert len(read_all(stack, stack.kafka.dlq_topic, poison + 1, timeout_s=3)) == poison


@pytest.mark.keep_forever
def test_a_topic_missing_its_first_records_needs_force(stack: Settings) -> None:
    delivered = produce(stack, [record(f"truncated{i:03d}", 9000000000 + i) for i in range(30)])
    first = delivered[0]
    client = admin(stack)
    gone = TopicPartition(stack.kafka.topic, first.partition(), first.offset() + 1)
    for future in client.delete_records([gone]).values():
        future.result(timeout=30)
    refused = cli(stack, "replay")
    assert refused.returncode == 2
    assert f"partitions [{first.partition()}]" in refused.stderr and "--force" in refused.stderr
    forced = cli(stack, "replay", "--force")
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert phones(stack) == model(delivered[1:])


def test_a_live_consumer_behind_the_replay_resumes_from_its_positions_without_reapplying(
    stack: Settings,
) -> None:
    from consumers.run import build_projector
    from tests.support.mysql import checkpoints

    first = produce(stack, [record(f"lagging{i:04d}", 9000000000 + i) for i in range(60)])
    projector, consumer, dead_letters, store = build_projector(stack)
    projector.subscribe()
    try:
        wait_until(lambda: projector.step() or checkpoints(stack) == next_offsets(first), 60, "the live view")
        # The live consumer holds still while more arrives and the replay reads past it.
        second = produce(stack, [record(f"lagging{i:04d}", 9100000000 + i) for i in range(30, 90)])
        result = cli(stack, "replay")
        assert result.returncode == 0, result.stderr[-3000:]
        wanted = next_offsets(first + second)
        assert checkpoints(stack) == wanted
        # Its fence sees the replay's positions when it writes next: it reloads them.
        wait_until(lambda: projector.step() or projector.positions == wanted, 30, "the live consumer")
        assert projector.applied == len(first)
    finally:
        consumer.close()
        dead_letters.flush(5)
        store.close()
    assert phones(stack) == model(first + second)
