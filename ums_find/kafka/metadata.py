"""What the brokers know: a topic's partitions, their watermarks, topic configs, creating topics."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ums_find.kafka.client import (
    AdminClient,
    ConfigResource,
    Consumer,
    KafkaError,
    KafkaException,
    NewTopic,
    ResourceType,
    TopicPartition,
    raise_refusal,
)

__all__ = ["create_topics", "partitions", "topic_configs", "watermarks"]

log = logging.getLogger(__name__)


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
        try:
            entries = future.result(timeout=timeout_s)
        except KafkaException:
            raise_refusal(client)
            raise
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
            raise_refusal(client)
            raise
        log.info("created topic %s", name)
        created.append(name)
    return created
