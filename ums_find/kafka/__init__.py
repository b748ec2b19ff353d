"""The one Kafka adapter: every confluent-kafka client built from the Kafka settings, and the shared moves.

Only `ums_find.kafka.client` imports confluent_kafka (an import contract checks it); the rest
of the product takes clients, types and helpers from here, so connection and security options
are decided in one place.
"""

from ums_find.kafka import build, client, metadata, noise
from ums_find.kafka.build import *  # noqa: F403 - the names each module lists as its own
from ums_find.kafka.client import *  # noqa: F403
from ums_find.kafka.delivery import Delivery, Outgoing, deliver_all
from ums_find.kafka.metadata import *  # noqa: F403
from ums_find.kafka.noise import *  # noqa: F403
from ums_find.kafka.refusal import KafkaRefused

__all__ = [
    *client.__all__,
    *build.__all__,
    *metadata.__all__,
    *noise.__all__,
    "Delivery",
    "KafkaRefused",
    "Outgoing",
    "deliver_all",
]
