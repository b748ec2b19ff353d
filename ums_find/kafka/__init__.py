"""The one Kafka adapter: every confluent-kafka client built from the Kafka settings, and the shared moves.

Only `ums_find.kafka.client` imports confluent_kafka (an import contract checks it); the rest
of the product takes clients, types and helpers from here, so connection and security options
are decided in one place.
"""

from ums_find.kafka import client
from ums_find.kafka.client import *  # noqa: F403 - the names the client lists as its own
from ums_find.kafka.delivery import Delivery, Outgoing, deliver_all

__all__ = [*client.__all__, "Delivery", "Outgoing", "deliver_all"]
