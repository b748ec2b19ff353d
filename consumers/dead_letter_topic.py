"""The dead-letter topic, checked at start: it exists, we may write it, and the largest record it takes."""

from __future__ import annotations

import logging

from consumers.kafka import DeadLettersRefused, KafkaUnavailable
from ums_find import kafka
from ums_find.kafka import AclOperation, AdminClient, KafkaError, KafkaException, TopicCollection
from ums_find.settings import KafkaSettings

log = logging.getLogger(__name__)

# What a dead letter adds to the record it copies: the ums.* headers (topic, partition,
# offset, reason) and a batch's framing. A dead-letter topic created here accepts this
# much more than the main topic, so that any record the main topic took fits whole.
HEADROOM_BYTES = 65_536
BROKER_DEFAULT_MAX_BYTES = 1_048_588  # Kafka's message.max.bytes when nothing overrides it
# librdkafka's bounds for its producer's message.max.bytes.
_CLIENT_MIN, _CLIENT_MAX = 1_000, 1_000_000_000

_MISSING = {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC}
_REFUSED = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED}


ANY_TIMESTAMP_MS = str(2**63 - 1)


def dead_letter_max_bytes(main_max_bytes: int) -> int:
    """The max.message.bytes to give a new dead-letter topic beside a topic taking `main_max_bytes`."""
    return main_max_bytes + HEADROOM_BYTES


def dead_letter_config(main_max_bytes: int) -> dict[str, str]:
    """A new dead-letter topic's config: kept forever (dead letters may lack a key, which compaction
    refuses), a little larger records than the main topic, and any timestamp (a dead letter keeps
    its record's, which the main topic may have accepted far from now)."""
    return {
        "retention.ms": "-1",
        "max.message.bytes": str(dead_letter_max_bytes(main_max_bytes)),
        "message.timestamp.after.max.ms": ANY_TIMESTAMP_MS,
        "message.timestamp.before.max.ms": ANY_TIMESTAMP_MS,
    }


def producer_limit(topic_max_bytes: int) -> int:
    """The producer's message.max.bytes for a topic taking `topic_max_bytes`, within librdkafka's range."""
    return max(_CLIENT_MIN, min(_CLIENT_MAX, topic_max_bytes))


def max_message_bytes(admin: AdminClient, topics: list[str], timeout_s: float) -> dict[str, int]:
    """Each topic's effective max.message.bytes (its override, else the broker's default)."""
    configs = kafka.topic_configs(admin, topics, timeout_s)
    return {topic: int(config["max.message.bytes"]) for topic, config in configs.items()}


def topic_producer_limit(settings: KafkaSettings, topic: str, timeout_s: float = 10.0) -> int:
    """A producer's message.max.bytes for copying any record `topic` takes (redrive, dead letters)."""
    admin = kafka.admin(settings)
    try:
        return producer_limit(max_message_bytes(admin, [topic], timeout_s)[topic])
    except (KafkaException, TimeoutError) as exc:
        raise KafkaUnavailable(f"cannot read the record size limit of {topic}: {exc}") from exc


def check_dead_letter_topic(settings: KafkaSettings, timeout_s: float = 10.0) -> int:
    """The dead-letter topic's max.message.bytes, once it is known to exist and be writable.

    Raises DeadLettersRefused when it is missing or may not be written (retrying will not
    help), KafkaUnavailable when the broker does not answer.
    """
    dlq = settings.dlq_topic
    admin = kafka.admin(settings)
    try:
        _check_writable(admin, dlq, timeout_s)
        limits = max_message_bytes(admin, [dlq, settings.topic], timeout_s)
    except KafkaException as exc:
        err = exc.args[0]
        if isinstance(err, KafkaError) and err.code() in _MISSING:
            raise DeadLettersRefused(f"the dead-letter topic {dlq} does not exist: create it") from None
        if isinstance(err, KafkaError) and err.code() in _REFUSED:
            raise DeadLettersRefused(f"not authorised to use the dead-letter topic {dlq}: {err}") from None
        kafka.raise_refusal(admin)  # a password or certificate refused: not to be waited out
        raise KafkaUnavailable(f"cannot check the dead-letter topic {dlq}: {exc}") from exc
    except TimeoutError:
        raise KafkaUnavailable(f"cannot check the dead-letter topic {dlq}: no answer") from None
    main = limits.get(settings.topic, BROKER_DEFAULT_MAX_BYTES)
    if limits[dlq] < dead_letter_max_bytes(main):
        log.warning(
            "the dead-letter topic %s takes records up to %d bytes, %s takes %d: a poison record near "
            "that size cannot be dead-lettered and stops the consumer; set max.message.bytes=%d on %s",
            dlq,
            limits[dlq],
            settings.topic,
            main,
            dead_letter_max_bytes(main),
            dlq,
        )
    return limits[dlq]


def _check_writable(admin: AdminClient, dlq: str, timeout_s: float) -> None:
    futures = admin.describe_topics(
        TopicCollection([dlq]), request_timeout=timeout_s, include_authorized_operations=True
    )
    description = futures[dlq].result(timeout=timeout_s)
    allowed = description.authorized_operations
    # None: the broker did not say; the first dead letter will tell.
    if allowed is not None and not {AclOperation.WRITE, AclOperation.ALL} & set(allowed):
        raise DeadLettersRefused(f"not authorised to write the dead-letter topic {dlq}")
