"""Create the topic and its dead-letter topic when they are missing."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from consumers.dead_letter_topic import BROKER_DEFAULT_MAX_BYTES, dead_letter_config, max_message_bytes
from consumers.kafka import KafkaUnavailable
from ums_find.settings import Settings

log = logging.getLogger(__name__)

PARTITIONS = 3


def wanted_topics(settings: Settings, main_max_bytes: int = BROKER_DEFAULT_MAX_BYTES) -> list[NewTopic]:
    """The topic compacted (the contract's default), the DLQ able to take any record of it."""
    return [
        NewTopic(settings.kafka.topic, PARTITIONS, 1, config={"cleanup.policy": "compact"}),
        NewTopic(settings.kafka.dlq_topic, PARTITIONS, 1, config=dead_letter_config(main_max_bytes)),
    ]


def ensure_topics(settings: Settings, timeout_s: float = 15.0) -> list[str]:
    """Create whichever of the two topics does not exist; return the names created."""
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap})
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
        created = []
        main, dlq = wanted_topics(settings)
        if main.topic not in existing:
            created += _create(admin, main, timeout_s)
        if dlq.topic not in existing:
            # Sized from the topic as it is, whoever created it and with whatever limit.
            main_max = max_message_bytes(admin, [main.topic], timeout_s)[main.topic]
            created += _create(admin, wanted_topics(settings, main_max)[1], timeout_s)
        return created
    except KafkaException as exc:
        raise KafkaUnavailable(f"cannot reach Kafka at {settings.kafka.bootstrap}: {exc}") from exc


def _create(admin: AdminClient, topic: NewTopic, timeout_s: float) -> list[str]:
    futures = admin.create_topics([topic], operation_timeout=timeout_s)
    return [name for name, future in futures.items() if _created(future, timeout_s)]


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
