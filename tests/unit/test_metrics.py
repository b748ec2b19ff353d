"""The consumer's freshness and stall gauges, and the API's positions age."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_NOT_AVAILABLE

from consumers.metrics import ConsumerMetrics
from ums_find.http.positions import PositionWatch


@dataclass
class Stamped:
    """A record as far as the freshness gauge reads it."""

    ms: int
    kind: int = TIMESTAMP_CREATE_TIME

    def timestamp(self) -> tuple[int, int]:
        return self.kind, self.ms


@dataclass
class Loop:
    last_turn: float


def value(metrics: ConsumerMetrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


def test_the_newest_record_of_an_applied_batch_sets_the_freshness_gauge() -> None:
    metrics = ConsumerMetrics()
    metrics.applied_records([Stamped(1_700_000_000_000), Stamped(1_700_000_005_500), Stamped(0)])  # type: ignore[list-item]
    assert value(metrics, "ums_consumer_last_applied_record_timestamp_seconds") == 1_700_000_005.5
    metrics.applied_records([Stamped(-1, TIMESTAMP_NOT_AVAILABLE)])  # type: ignore[list-item]
    assert value(metrics, "ums_consumer_last_applied_record_timestamp_seconds") == 1_700_000_005.5


def test_a_loop_that_stopped_turning_reads_as_stalled_at_scrape_time() -> None:
    metrics = ConsumerMetrics()
    loop = Loop(last_turn=time.monotonic())
    metrics.watch_loop(loop, stall_s=60)
    assert value(metrics, "ums_consumer_stalled") == 0
    loop.last_turn -= 120  # no code of the loop runs: the scrape alone sees it
    assert value(metrics, "ums_consumer_stalled") == 1
    assert (value(metrics, "ums_consumer_last_poll_age_seconds") or 0) >= 120


def test_the_positions_age_counts_from_the_last_successful_read() -> None:
    def read() -> dict[int, int]:
        return {0: 5}

    watch = PositionWatch(read, idle_s=3600, busy_s=3600)
    assert math.isnan(watch.age_s)
    assert watch.current() == {0: 5}
    assert 0 <= watch.age_s < 3600


def test_the_consumer_metrics_keep_the_names_alerts_and_dashboards_read() -> None:
    metrics = ConsumerMetrics()
    metrics.watch_loop(Loop(last_turn=time.monotonic()), 60.0)
    kinds = {family.name: family.type for family in metrics.registry.collect()}
    assert kinds == {
        "ums_consumer_records_applied": "counter",
        "ums_consumer_poison_records": "counter",
        "ums_consumer_internal_errors": "counter",
        "ums_consumer_batch_records": "histogram",
        "ums_consumer_batch_seconds": "histogram",
        "ums_consumer_retries": "counter",
        "ums_consumer_paused": "gauge",
        "ums_consumer_checkpoint": "gauge",
        "ums_consumer_lag": "gauge",
        "ums_consumer_checkpoint_ahead": "counter",
        "ums_consumer_last_poll_timestamp_seconds": "gauge",
        "ums_consumer_last_applied_record_timestamp_seconds": "gauge",
        "ums_consumer_last_poll_age_seconds": "gauge",
        "ums_consumer_stalled": "gauge",
    }
