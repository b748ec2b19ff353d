"""Fixtures shared by every suite: settings, and per-test databases and topics."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ums_find.settings import Settings

if TYPE_CHECKING:
    from tests.support.replica import ReplicaPair
    from tests.support.secure import SecureStack


def random_suffix() -> str:
    """A short random id for names in the shared servers."""
    return uuid.uuid4().hex[:10]


def base_settings() -> Settings:
    """Settings from the environment (the local stack by default)."""
    return Settings.from_env()


def _reachable(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def _require(name: str, address: str) -> None:
    if not _reachable(address):
        pytest.fail(f"{name} is not reachable at {address}: run `make up` first")


@pytest.fixture(scope="session")
def mysql_server() -> Settings:
    """The shared MariaDB, which `make test` starts (`make up`)."""
    settings = base_settings()
    _require("MySQL", f"{settings.mysql.host}:{settings.mysql.port}")
    return settings


@pytest.fixture(scope="session")
def kafka_server() -> Settings:
    """The shared Kafka broker, which `make test` starts (`make up`)."""
    settings = base_settings()
    _require("Kafka", settings.kafka.bootstrap.split(",")[0])
    return settings


@pytest.fixture
def database(mysql_server: Settings) -> Iterator[Settings]:
    """Settings pointing at a fresh, migrated database of this test's own."""
    from tests.support.mysql import drop_database
    from ums_find.store import migrate

    settings = mysql_server.override(mysql_database=f"ums_test_{random_suffix()}")
    migrate(settings)
    yield settings
    drop_database(settings)


@pytest.fixture
def topics(kafka_server: Settings, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings pointing at a fresh topic (3 partitions, compacted) and its DLQ.

    Mark a test `keep_forever` for a topic that is not compacted (it takes keyless records).
    """
    from tests.support.kafka import create_topics, delete_topics

    name = f"test-{random_suffix()}"
    settings = kafka_server.override(
        topic=name, dlq_topic=f"{name}.dlq", group_id=f"g-{name}", consumer_name=f"c-{name}"
    )
    create_topics(settings, compact=request.node.get_closest_marker("keep_forever") is None)
    yield settings
    delete_topics(settings)


@pytest.fixture
def stack(database: Settings, topics: Settings) -> Settings:
    """A database and topics of this test's own, in one settings object."""
    return database.override(
        topic=topics.kafka.topic,
        dlq_topic=topics.kafka.dlq_topic,
        group_id=topics.kafka.group_id,
        consumer_name=topics.consumer.name,
    )


@pytest.fixture(scope="session")
def secure_stack() -> Iterator[SecureStack]:
    """Kafka over SASL_SSL and a MariaDB requiring TLS, started on first use, stopped at the end."""
    from tests.support.secure import start_secure_stack

    stack = start_secure_stack()
    try:
        yield stack
    finally:
        stack.run("down-secure")


@pytest.fixture(scope="session")
def replica_pair() -> Iterator[ReplicaPair]:
    """A MariaDB primary and its read replica, started on first use, stopped at the end."""
    from tests.support.replica import start_replica_pair

    pair = start_replica_pair(base_settings())
    try:
        yield pair
    finally:
        pair.run("down-replica")
