"""Fixtures of the end-to-end suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import random_suffix
from tests.support.mysql import drop_database
from tests.support.replica import ReplicaPair
from ums_find.settings import Settings
from ums_find.store import migrate


@pytest.fixture
def replica_stack(replica_pair: ReplicaPair, topics: Settings) -> Iterator[Settings]:
    """A fresh database on the replica pair's primary (replicated) and topics of this test's own."""
    settings = replica_pair.primary.override(
        mysql_database=f"ums_test_{random_suffix()}",
        topic=topics.kafka.topic,
        dlq_topic=topics.kafka.dlq_topic,
        group_id=topics.kafka.group_id,
        consumer_name=topics.consumer.name,
    )
    migrate(settings)
    yield settings
    drop_database(settings)
