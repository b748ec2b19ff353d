"""The consumer's Prometheus metrics, in a registry of its own."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
        reg = self.registry
        self.applied = Counter(
            "ums_consumer_records_applied", "Valid records applied to the view", registry=reg
        )
        self.poison = Counter(
            "ums_consumer_poison_records", "Records sent to the dead-letter topic", registry=reg
        )
        self.internal_errors = Counter(
            "ums_consumer_internal_errors",
            "Records whose decoding raised unexpectedly (a bug), dead-lettered",
            registry=reg,
        )
        self.batch_records = Histogram(
            "ums_consumer_batch_records", "Records per applied batch", buckets=_SIZES, registry=reg
        )
        self.batch_seconds = Histogram(
            "ums_consumer_batch_seconds",
            "Time to dead-letter and apply a batch",
            buckets=_SECONDS,
            registry=reg,
        )
        self.retries = Counter("ums_consumer_retries", "Retries of a database or broker fault", registry=reg)
        self.paused = Gauge(
            "ums_consumer_paused", "1 while a fault is retried with fetching paused", registry=reg
        )
        self.checkpoint = Gauge(
            "ums_consumer_checkpoint", "Stored next offset per partition", ["partition"], registry=reg
        )
        self.lag = Gauge(
            "ums_consumer_lag", "High watermark minus checkpoint per partition", ["partition"], registry=reg
        )
        self.checkpoint_ahead = Counter(
            "ums_consumer_checkpoint_ahead",
            "Checkpoints found beyond their partition's end (topic recreated or truncated)",
            ["partition"],
            registry=reg,
        )
        self.last_turn = Gauge(
            "ums_consumer_last_poll_timestamp_seconds", "When the poll loop last turned", registry=reg
        )
        self.last_record = Gauge(
            "ums_consumer_last_applied_record_timestamp_seconds",
            "Kafka timestamp of the newest record of the last applied batch",
            registry=reg,
        )

    def watch_loop(self, loop: Loop, stall_s: float) -> None:
        """Expose the loop's age and stalled state, computed when Prometheus scrapes."""
        self.registry.register(_Stall(loop, stall_s))

    def applied_records(self, messages: Sequence[Message]) -> None:
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
