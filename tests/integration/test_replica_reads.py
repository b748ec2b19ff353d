"""The API's reader on the real primary/replica pair: replica reads, lag bound, fallback, swap."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.relay import Relay
from tests.support.replica import ReplicaPair, connect, read_host
from ums_find.settings import Settings
from ums_find.store import Scope, migrate
from ums_find.store.replicas import ReplicaReader


@pytest.fixture
def settings(replica_pair: ReplicaPair) -> Iterator[Settings]:
    """A fresh view on the primary, read through its replica."""
    database = f"ums_test_{uuid.uuid4().hex[:10]}"
    primary = replica_pair.primary.override(mysql_database=database)
    migrate(primary)
    replica = replica_pair.replica.mysql
    yield primary.override(mysql_read_hosts=f"{replica.host}:{replica.port}", mysql_read_max_lag_s=60)
    with connect(replica_pair.primary) as conn:
        conn.cursor().execute(f"DROP DATABASE {database}")


def reader_of(settings: Settings) -> ReplicaReader:
    """The API's reader of these settings."""
    return ReplicaReader(settings.mysql, Scope(settings.consumer.name, settings.kafka.topic), 2)


def write(settings: Settings, name: str, offset: int, table: str = "ums_users") -> None:
    """A row and its checkpoint in one transaction, as the consumer writes them."""
    with connect(settings) as conn:
        cursor = conn.cursor()
        db = settings.mysql.database
        cursor.execute("START TRANSACTION")
        cursor.execute(f"INSERT INTO {db}.{table} VALUES (%s, 1, NOW(6))", (name,))
        cursor.execute(
            f"REPLACE INTO {db}.ums_checkpoints (consumer, topic, part, next_offset) VALUES (%s, %s, 0, %s)",
            (settings.consumer.name, settings.kafka.topic, offset),
        )
        cursor.execute("COMMIT")


def test_reads_come_from_a_caught_up_replica(replica_pair: ReplicaPair, settings: Settings) -> None:
    write(settings, "alice", 1)
    assert replica_pair.wait_caught_up()
    reader = reader_of(settings)
    assert reader.positions() == {0: 1}
    assert reader.serving == read_host(replica_pair)
    assert reader.fetch("alice") is not None


def test_a_paused_replica_past_the_bound_falls_back_to_the_primary(
    replica_pair: ReplicaPair, settings: Settings
) -> None:
    write(settings, "alice", 1)
    assert replica_pair.wait_caught_up()
    reader = reader_of(settings.override(mysql_read_max_lag_s=0.1))
    reader.positions()
    replica_pair.pause()
    try:
        write(settings, "bob", 2)
        assert not replica_pair.wait_caught_up(timeout_s=1)  # at least a second behind now
        # Read-your-writes: the position answered is the primary's, and so is the row.
        assert reader.positions() == {0: 2}
        assert reader.serving == "primary"
        assert reader.fetch("bob") is not None
    finally:
        replica_pair.resume()
    assert replica_pair.wait_caught_up()
    assert reader.positions() == {0: 2}
    assert reader.serving == read_host(replica_pair)


def test_a_wait_moves_to_the_primary_and_positions_never_go_back_after_it(
    replica_pair: ReplicaPair, settings: Settings
) -> None:
    write(settings, "alice", 1)
    assert replica_pair.wait_caught_up()
    reader = reader_of(settings)  # a generous bound: a paused replica stays usable ...
    assert reader.positions() == {0: 1} and reader.serving == read_host(replica_pair)
    replica_pair.pause()
    try:
        write(settings, "bob", 2)
        assert reader.positions() == {0: 1}  # ... within the bound
        reader.wanted = lambda: {0: 2}  # a request waits for bob's record: only the primary has it
        assert reader.positions() == {0: 2} and reader.serving == "primary"
        reader.wanted = dict
        # The replica, still within the bound, is behind what this process answered with.
        assert reader.positions() == {0: 2} and reader.serving == "primary"
    finally:
        replica_pair.resume()
    assert replica_pair.wait_caught_up()
    assert reader.positions() == {0: 2} and reader.serving == read_host(replica_pair)


def test_with_the_primary_gone_a_replica_that_covers_keeps_answering(
    replica_pair: ReplicaPair, settings: Settings
) -> None:
    write(settings, "alice", 1)
    assert replica_pair.wait_caught_up()
    relay = Relay(settings.mysql.host, settings.mysql.port)
    try:
        reader = reader_of(settings.override(mysql_host="127.0.0.1", mysql_port=relay.port))
        assert reader.positions() == {0: 1}
        relay.close()  # the primary is gone for this reader
        assert reader.positions() == {0: 1} and reader.serving == read_host(replica_pair)
        assert reader.fetch("alice") is not None
        reader.ping()
    finally:
        relay.close()


def test_the_replay_swap_on_a_replica_shows_old_or_new_never_an_error(
    replica_pair: ReplicaPair, settings: Settings
) -> None:
    write(settings, "alice", 1)
    db = settings.mysql.database
    with connect(settings) as conn:
        cursor = conn.cursor()
        cursor.execute(f"CREATE TABLE {db}.ums_users_new LIKE {db}.ums_users")
        cursor.execute(f"INSERT INTO {db}.ums_users_new VALUES ('carol', 2, NOW(6))")
    assert replica_pair.wait_caught_up()
    reader = reader_of(settings)
    reader.positions()
    assert reader.serving == read_host(replica_pair)
    seen = set()
    with connect(settings) as conn:
        for _ in range(3):
            swap = f"RENAME TABLE {db}.ums_users TO {db}.ums_users_old, {db}.ums_users_new TO {db}.ums_users"
            conn.cursor().execute(swap)
            for _ in range(50):
                # Each lookup sees one view or the other; a missing table would raise here.
                seen.add(reader.fetch("alice") is not None)
            back = f"RENAME TABLE {db}.ums_users TO {db}.ums_users_new, {db}.ums_users_old TO {db}.ums_users"
            conn.cursor().execute(back)
    assert reader.serving == read_host(replica_pair)  # no fetch failed over to the primary
    assert replica_pair.wait_caught_up()
    assert reader.fetch("alice") is not None and reader.fetch("carol") is None
