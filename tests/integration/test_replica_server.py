"""The local read replica applies the primary's writes, and holds them back while paused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.replica import ReplicaPair, connect, query_one


@pytest.fixture
def table(replica_pair: ReplicaPair) -> Iterator[str]:
    """A fresh table on the primary (database and all dropped afterwards, on both servers)."""
    database = f"ums_test_{uuid.uuid4().hex[:10]}"
    with connect(replica_pair.primary) as primary:
        cursor = primary.cursor()
        cursor.execute(f"CREATE DATABASE {database}")
        cursor.execute(f"CREATE TABLE {database}.t (name VARCHAR(40) PRIMARY KEY)")
        cursor.close()
    yield f"{database}.t"
    with connect(replica_pair.primary) as primary:
        primary.cursor().execute(f"DROP DATABASE {database}")


def insert_on_primary(pair: ReplicaPair, table: str, name: str) -> None:
    with connect(pair.primary) as primary:
        cursor = primary.cursor()
        cursor.execute(f"INSERT INTO {table} (name) VALUES (%s)", (name,))
        cursor.close()


def on_replica(pair: ReplicaPair, table: str, name: str) -> bool:
    with connect(pair.replica) as replica:
        return query_one(replica, f"SELECT COUNT(*) FROM {table} WHERE name = %s", (name,)) == 1


def test_a_write_on_the_primary_appears_on_the_replica(replica_pair: ReplicaPair, table: str) -> None:
    insert_on_primary(replica_pair, table, "alice")
    assert replica_pair.wait_caught_up()
    assert on_replica(replica_pair, table, "alice")


def test_a_paused_replica_holds_writes_back_until_resumed(replica_pair: ReplicaPair, table: str) -> None:
    assert replica_pair.wait_caught_up()  # the table exists there
    replica_pair.pause()
    try:
        insert_on_primary(replica_pair, table, "bob")
        # Paused, it cannot apply the write however long it waits.
        assert not replica_pair.wait_caught_up(timeout_s=1)
        assert not on_replica(replica_pair, table, "bob")
    finally:
        replica_pair.resume()
    assert replica_pair.wait_caught_up()
    assert on_replica(replica_pair, table, "bob")


def test_the_replica_is_read_only_for_ordinary_accounts(replica_pair: ReplicaPair) -> None:
    with connect(replica_pair.replica) as replica:
        assert query_one(replica, "SELECT @@read_only") == 1
