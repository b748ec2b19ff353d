"""The consumer's Prometheus metrics, in a registry of its own."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ums_find.kafka import Message

_SIZES = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 50000)
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Loop(Protocol):
    """What the stall gauges read of the consume loop."""

    @property
    def last_turn(self) -> float:
        """When the loop last turned (monotonic seconds)."""
        ...


class _Stall(Collector):
    """The poll loop's age, read at scrape time: a stuck loop cannot update a gauge itself."""

    def __init__(self, loop: Loop, stall_s: float) -> None:
        self._loop, self._stall_s = loop, stall_s

    def collect(self) -> Iterator[GaugeMetricFamily]:
        age = time.monotonic() - self._loop.last_turn
        yield GaugeMetricFamily(
            "ums_consumer_last_poll_age_seconds", "Seconds since the poll loop last turned", value=age
        )
        yield GaugeMetricFamily(
            "ums_consumer_stalled",
            "1 while the poll loop has not turned for UMS_CONSUMER_STALL_S (/healthz fails)",
            value=float(age > self._stall_s),
        )


class ConsumerMetrics:
    """Counters of records, batch histograms, per-partition positions and the fault state."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        # Each one is named ums_consumer_<name> (and a counter's samples <name>_total).
        reg = self.registry
        counter = partial(Counter, namespace="ums", subsystem="consumer", registry=reg)
        gauge = partial(Gauge, namespace="ums", subsystem="consumer", registry=reg)
        histogram = partial(Histogram, namespace="ums", subsystem="consumer", registry=reg)
        by_partition = ("partition",)
        self.applied = counter("records_applied", "Valid records applied to the view")
        self.poison = counter("poison_records", "Records sent to the dead-letter topic")
        self.internal_errors = counter(
            "internal_errors", "Records whose decoding raised unexpectedly (a bug), dead-lettered"
        )
        self.batch_records = histogram("batch_records", "Records per applied batch", buckets=_SIZES)
        self.batch_seconds = histogram(
            "batch_seconds", "Time to dead-letter and apply a batch", buckets=_SECONDS
        )
        self.retries = counter("retries", "Retries of a database or broker fault")
        self.paused = gauge("paused", "1 while a fault is retried with fetching paused")
        self.checkpoint = gauge("checkpoint", "Stored next offset per partition", labelnames=by_partition)
        self.lag = gauge("lag", "High watermark minus checkpoint per partition", labelnames=by_partition)
        self.checkpoint_ahead = counter(
            "checkpoint_ahead",
            "Checkpoints found beyond their partition's end (topic recreated or truncated)",
            labelnames=by_partition,
        )
        self.last_turn = gauge("last_poll_timestamp_seconds", "When the poll loop last turned")
        self.last_record = gauge(
            "last_applied_record_timestamp_seconds",
            "Kafka timestamp of the newest record of the last applied batch",
        )

    def watch_loop(self, loop: Loop, stall_s: float) -> None:
        """Expose the loop's age and stalled state, computed when Prometheus scrapes."""
        self.registry.register(_Stall(loop, stall_s))

    def applied_records(self, messages: Iterable[Message]) -> None:
        """Note the newest timestamp of a batch just applied (records without one are skipped)."""
        stamps = [ms for _kind, ms in (m.timestamp() for m in messages) if ms and ms > 0]
        if stamps:
            self.last_record.set(max(stamps) / 1000)

    def positions(self, checkpoints: Mapping[int, int | None], highs: Mapping[int, int]) -> None:
        """Record each owned partition's checkpoint and, where the high watermark is known, its lag."""
        for part, offset in checkpoints.items():
            self.checkpoint.labels(str(part)).set(offset or 0)
            if part in highs:
                self.lag.labels(str(part)).set(max(0, highs[part] - (offset or 0)))

    def forget(self, partitions: Iterable[int]) -> None:
        """Partitions this process no longer owns."""
        for part in partitions:
            for gauge in (self.checkpoint, self.lag):
                try:
                    gauge.remove(str(part))
                except KeyError:
                    pass
