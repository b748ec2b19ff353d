"""Create the topic and its dead-letter topic when they are missing."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from consumers.kafka import KafkaUnavailable
from ums_find.settings import Settings

log = logging.getLogger(__name__)

PARTITIONS = 3


def wanted_topics(settings: Settings) -> list[NewTopic]:
    """The topic compacted (the contract's default), the DLQ kept forever (its records may lack keys)."""
    return [
        NewTopic(settings.kafka.topic, PARTITIONS, 1, config={"cleanup.policy": "compact"}),
        NewTopic(settings.kafka.dlq_topic, PARTITIONS, 1, config={"retention.ms": "-1"}),
    ]


def ensure_topics(settings: Settings, timeout_s: float = 15.0) -> list[str]:
    """Create whichever of the two topics does not exist; return the names created."""
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap})
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
        missing = [t for t in wanted_topics(settings) if t.topic not in existing]
        if not missing:
            return []
        futures = admin.create_topics(missing, operation_timeout=timeout_s)
        return [name for name, future in futures.items() if _created(future, timeout_s)]
    except KafkaException as exc:
        raise KafkaUnavailable(f"cannot reach Kafka at {settings.kafka.bootstrap}: {exc}") from exc


def _created(future: object, timeout_s: float) -> bool:
    try:
        future.result(timeout=timeout_s)  # type: ignore[attr-defined]
    except KafkaException as exc:
        # Another process created it in the meantime: what we wanted exists.
        if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return False
        raise
    log.info("created topic %s", future)
    return True
