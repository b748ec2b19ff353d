"""The one Kafka adapter: every confluent-kafka client built from the Kafka settings, and the shared moves.

Only `ums_find.kafka.client` imports confluent_kafka (an import contract checks it); the rest
of the product takes clients, types and helpers from here, so connection and security options
are decided in one place.
"""

from ums_find.kafka.build import admin, client_config, consumer, producer
from ums_find.kafka.client import (
    OFFSET_BEGINNING,
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_NOT_AVAILABLE,
    AclOperation,
    AdminClient,
    ConfigResource,
    Consumer,
    KafkaError,
    KafkaException,
    KafkaUnavailable,
    Message,
    NewTopic,
    Producer,
    ResourceType,
    TopicCollection,
    TopicPartition,
    raise_refusal,
)
from ums_find.kafka.delivery import Delivery, Outgoing, deliver_all
from ums_find.kafka.metadata import create_topics, partitions, topic_configs, watermarks
from ums_find.kafka.noise import librdkafka_logger, log_deduplicated
from ums_find.kafka.refusal import KafkaRefused

__all__ = [
    "OFFSET_BEGINNING",
    "TIMESTAMP_CREATE_TIME",
    "TIMESTAMP_NOT_AVAILABLE",
    "AclOperation",
    "AdminClient",
    "ConfigResource",
    "Consumer",
    "Delivery",
    "KafkaError",
    "KafkaException",
    "KafkaRefused",
    "KafkaUnavailable",
    "Message",
    "NewTopic",
    "Outgoing",
    "Producer",
    "ResourceType",
    "TopicCollection",
    "TopicPartition",
    "admin",
    "client_config",
    "consumer",
    "create_topics",
    "deliver_all",
    "librdkafka_logger",
    "log_deduplicated",
    "partitions",
    "producer",
    "raise_refusal",
    "topic_configs",
    "watermarks",
]
