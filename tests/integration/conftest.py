"""Fixtures of the integration suite: a private server pair for the tests that stop servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import base_settings, random_suffix
from tests.support.faults import PrivateStack, start_private_stack
from ums_find.settings import Settings


@pytest.fixture(scope="session")
def private_stack() -> Iterator[PrivateStack]:
    """A MariaDB and a Kafka of this session's own, started once and stopped at the end."""
    stack = start_private_stack(base_settings())
    try:
        yield stack
    finally:
        stack.run("down")


@pytest.fixture
def private(private_stack: PrivateStack) -> Settings:
    """A fresh database and topics on the private servers."""
    from tests.support.kafka import create_topics
    from ums_find.store import migrate

    # Start servers a previous test left stopped (idempotent when they run).
    private_stack.run("start-mariadb")
    private_stack.run("start-kafka")
    name = f"test-{random_suffix()}"
    settings = private_stack.settings.override(
        mysql_database=f"ums_test_{random_suffix()}",
        topic=name,
        dlq_topic=f"{name}.dlq",
        group_id=f"g-{name}",
        consumer_name=f"c-{name}",
    )
    migrate(settings)
    create_topics(settings)
    return settings
