"""The only module importing confluent_kafka: clients built from the Kafka settings, metadata, topics."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicCollection,
    TopicPartition,
)
from confluent_kafka.admin import AclOperation, AdminClient, ConfigResource, NewTopic, ResourceType

from ums_find.kafka.security import security_config
from ums_find.settings import KafkaSettings

# Re-exported for the rest of the product, which never imports confluent_kafka itself.
__all__ = [
    "OFFSET_BEGINNING",
    "TIMESTAMP_CREATE_TIME",
    "TIMESTAMP_NOT_AVAILABLE",
    "AclOperation",
    "AdminClient",
    "ConfigResource",
    "Consumer",
    "KafkaError",
    "KafkaException",
    "KafkaUnavailable",
    "Message",
    "NewTopic",
    "Producer",
    "ResourceType",
    "TopicCollection",
    "TopicPartition",
    "admin",
    "client_config",
    "consumer",
    "create_topics",
    "librdkafka_logger",
    "log_deduplicated",
    "partitions",
    "producer",
    "topic_configs",
    "watermarks",
]

log = logging.getLogger(__name__)


class KafkaUnavailable(Exception):
    """The broker did not take what we had to write (or answer what we asked) in time."""


_LAST_LOGGED: dict[str, float] = {}
_REPEAT_S = 60.0


def log_deduplicated(logger: logging.Logger, message: str, level: int = logging.WARNING) -> None:
    """Log a message once a minute at most: an outage repeats the same error many times a second."""
    now = time.monotonic()
    if now - _LAST_LOGGED.get(message, -_REPEAT_S) >= _REPEAT_S:
        if len(_LAST_LOGGED) > 1000:
            _LAST_LOGGED.clear()
        _LAST_LOGGED[message] = now
        logger.log(level, message)
    else:
        logger.debug(message)


class _Repeats(logging.Filter):
    """Drops a librdkafka line that repeats one logged within the minute (numbers aside)."""

    def filter(self, record: logging.LogRecord) -> bool:
        key = re.sub(r"[0-9]+", "#", record.getMessage())
        now = time.monotonic()
        if now - _LAST_LOGGED.get(key, -_REPEAT_S) < _REPEAT_S:
            return False
        _LAST_LOGGED[key] = now
        return True


def librdkafka_logger() -> logging.Logger:
    """The logger librdkafka's own lines go to (instead of raw stderr), repeats dropped."""
    logger = logging.getLogger("librdkafka")
    if not any(isinstance(f, _Repeats) for f in logger.filters):
        logger.addFilter(_Repeats())
    return logger


def _log_error(err: KafkaError) -> None:
    # librdkafka retries transport errors by itself; only fatal ones end the process.
    log_deduplicated(log, f"kafka: {err}", logging.ERROR if err.fatal() else logging.WARNING)


def client_config(kafka: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """What every client shares: the broker, its security options, error and log routing."""
    config: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap,
        **security_config(kafka),
        "error_cb": _log_error,
        "logger": librdkafka_logger(),
    }
    config.update(overrides)
    return config


def consumer(kafka: KafkaSettings, group_id: str, **overrides: Any) -> Consumer:
    """A consumer that never commits or stores offsets on its own: the database is the truth."""
    session_ms = round(kafka.session_timeout_s * 1000)
    config = client_config(
        kafka,
        **{
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "queued.max.messages.kbytes": 16384,
            "session.timeout.ms": session_ms,
            # The loop polls at least every few seconds even while it retries a fault; a
            # hung call is what the liveness probe catches, not a reason to linger in the group.
            "max.poll.interval.ms": max(300_000, session_ms + 1),
        },
    )
    if kafka.group_instance_id:
        # Static membership: a restarted process takes its partitions back without a rebalance.
        config["group.instance.id"] = kafka.group_instance_id
    config.update(overrides)
    return Consumer(config)


def producer(kafka: KafkaSettings, **overrides: Any) -> Producer:
    """An idempotent producer that waits for the full in-sync set and partitions as Java does.

    AddService (Java) and the API map a name to its partition with murmur2; librdkafka's
    default (CRC32) would put our own records of a name (publish, redrive) elsewhere.
    """
    defaults = {"partitioner": "murmur2_random", "acks": "all", "enable.idempotence": True, "linger.ms": 5}
    return Producer(client_config(kafka, **{**defaults, **overrides}))


def admin(kafka: KafkaSettings, **overrides: Any) -> AdminClient:
    """An admin client (topics, their configs, metadata)."""
    return AdminClient(client_config(kafka, **overrides))


def partitions(client: Consumer | AdminClient, topic: str, timeout_s: float) -> list[int]:
    """The topic's partition ids from the broker's metadata; LookupError if it has none or is missing.

    Asks for all topics: asking for one by name may auto-create it on brokers that allow that.
    """
    meta = client.list_topics(timeout=timeout_s).topics.get(topic)
    if meta is None or meta.error is not None or not meta.partitions:
        raise LookupError(f"topic {topic}: {meta.error if meta is not None else 'not found'}")
    return sorted(meta.partitions)


def watermarks(
    client: Consumer, topic: str, timeout_s: float, parts: Iterable[int] | None = None, cached: bool = False
) -> dict[int, tuple[int, int]]:
    """(low, high) of each partition of `topic` (all of them by default), from the broker."""
    chosen = partitions(client, topic, timeout_s) if parts is None else list(parts)
    found = {}
    for part in chosen:
        low, high = client.get_watermark_offsets(
            TopicPartition(topic, part), timeout=timeout_s, cached=cached
        )
        found[part] = (int(low), int(high))
    return found


def topic_configs(client: AdminClient, topics: list[str], timeout_s: float) -> dict[str, dict[str, str]]:
    """Each topic's effective configuration (its overrides, else the broker's defaults)."""
    resources = [ConfigResource(ResourceType.TOPIC, t) for t in topics]
    found = {}
    for resource, future in client.describe_configs(resources, request_timeout=timeout_s).items():
        entries = future.result(timeout=timeout_s)
        found[resource.name] = {name: str(entry.value) for name, entry in entries.items()}
    return found


def create_topics(client: AdminClient, topics: list[NewTopic], timeout_s: float) -> list[str]:
    """Create the topics; the names created (one another process created meanwhile is not an error)."""
    created = []
    for name, future in client.create_topics(topics, operation_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise
        log.info("created topic %s", name)
        created.append(name)
    return created
