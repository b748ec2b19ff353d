"""Create the topic and its dead-letter topic when they are missing."""

from __future__ import annotations

from consumers.dead_letter_topic import BROKER_DEFAULT_MAX_BYTES, dead_letter_config, max_message_bytes
from consumers.kafka import KafkaUnavailable
from ums_find import kafka
from ums_find.kafka import KafkaException, NewTopic
from ums_find.settings import KafkaSettings

PARTITIONS = 3


def wanted_topics(settings: KafkaSettings, main_max_bytes: int = BROKER_DEFAULT_MAX_BYTES) -> list[NewTopic]:
    """The topic compacted (the contract's default), the DLQ able to take any record of it."""
    return [
        NewTopic(settings.topic, PARTITIONS, 1, config={"cleanup.policy": "compact"}),
        NewTopic(settings.dlq_topic, PARTITIONS, 1, config=dead_letter_config(main_max_bytes)),
    ]


def ensure_topics(settings: KafkaSettings, timeout_s: float = 15.0) -> list[str]:
    """Create whichever of the two topics does not exist; return the names created."""
    admin = kafka.admin(settings)
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
        created = []
        main, dlq = wanted_topics(settings)
        if main.topic not in existing:
            created += kafka.create_topics(admin, [main], timeout_s)
        if dlq.topic not in existing:
            # Sized from the topic as it is, whoever created it and with whatever limit.
            main_max = max_message_bytes(admin, [main.topic], timeout_s)[main.topic]
            created += kafka.create_topics(admin, [wanted_topics(settings, main_max)[1]], timeout_s)
        return created
    except KafkaException as exc:
        raise KafkaUnavailable(f"cannot reach Kafka at {settings.bootstrap}: {exc}") from exc
