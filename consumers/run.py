"""Wire and run the live projection consumer."""

from __future__ import annotations

import logging
import threading

from confluent_kafka import Consumer, Producer

from consumers.kafka import DeadLetters, KafkaUnavailable, consumer_config, producer_config
from consumers.projector import Projector, RetryBudgetExceeded
from ums_find.settings import Settings
from ums_find.store import ProjectionStore

log = logging.getLogger(__name__)


def build_projector(settings: Settings) -> tuple[Projector, Consumer, Producer, ProjectionStore]:
    """The live consumer's parts, from the settings."""
    consumer = Consumer(consumer_config(settings, settings.group_id))
    producer = Producer(producer_config(settings))
    store = ProjectionStore(settings, settings.consumer_name, settings.topic)
    projector = Projector(
        consumer,
        store,
        DeadLetters(producer, settings.dlq_topic),
        settings.topic,
        batch_size=settings.batch_size,
        batch_wait_s=settings.batch_wait_s,
        retry_limit_s=settings.db_retry_max_s,
    )
    return projector, consumer, producer, store


def run_projection(settings: Settings, stop: threading.Event) -> int:
    """Consume until stopped; the exit code says whether to restart."""
    projector, consumer, producer, store = build_projector(settings)
    log.info("consuming %s as %s (group %s)", settings.topic, settings.consumer_name, settings.group_id)
    try:
        projector.run(stop)
        return 0
    except (RetryBudgetExceeded, KafkaUnavailable) as exc:
        log.error("stopping to restart from the checkpoint: %s", exc)
        return 3
    finally:
        consumer.close()
        producer.flush(5)
        store.close()
        log.info("stopped after applying %d records", projector.applied)
