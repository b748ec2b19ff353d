"""The API's Prometheus metrics, in a registry of the app's own."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
ROUTES = {"/healthz", "/readyz", "/metrics", "/openapi.json"}
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def route_of(path: str) -> str:
    """The route template a path belongs to, so label values stay few."""
    if path.startswith("/user/"):
        return "/user/{name}"
    return path if path in ROUTES else "other"


class _Live(Collector):
    """Gauges read at scrape time, costing nothing per request."""

    def __init__(self, values: dict[str, tuple[str, Callable[[], float]]]) -> None:
        self._values = values

    def collect(self):  # type: ignore[no-untyped-def]
        for name, (doc, read) in self._values.items():
            yield GaugeMetricFamily(name, doc, value=read())


class ApiMetrics:
    """Requests by route and status, latency, database connections and read-your-writes waiters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ums_find_http_requests",
            "HTTP answers by route and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ums_find_http_request_duration_seconds",
            "Time to produce an answer, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.db_in_use = Gauge(
            "ums_find_db_connections_in_use",
            "Database connections running a statement now.",
            registry=self.registry,
        )
        self.stale = Counter(
            "ums_find_after_timeouts",
            "Lookups with ?after= answered stale (the wait timed out).",
            registry=self.registry,
        )
        self.reads = Counter(
            "ums_find_db_reads",
            "Lookups by the server that answered them: primary, or a read replica's host:port.",
            ["server"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, str], Callable[[float], None]] = {}
        self._reads: dict[str, Callable[[], None]] = {}

    def watch(self, values: dict[str, tuple[str, Callable[[], float]]]) -> None:
        """Expose gauges whose values are read when Prometheus scrapes."""
        self.registry.register(_Live(values))

    def observe(self, path: str, method: str, status: str, seconds: float) -> None:
        """Count one answer and its latency."""
        key = (route_of(path), method if method in METHODS else "other", status)
        record = self._children.get(key)
        if record is None:
            record = self._children[key] = self._child(*key)
        record(seconds)

    def read_by(self, server: str) -> None:
        """Count one lookup answered by this database server."""
        count = self._reads.get(server)
        if count is None:
            count = self._reads[server] = self.reads.labels(server).inc
        count()

    def _child(self, route: str, method: str, status: str) -> Callable[[float], None]:
        counter = self.requests.labels(route, method, status)
        histogram = self.latency.labels(route)

        def record(seconds: float) -> None:
            counter.inc()
            histogram.observe(seconds)

        return record

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)
