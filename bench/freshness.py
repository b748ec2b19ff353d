"""Freshness: publish-to-visible latency through the running consumer and API at a steady rate.

Run alone (the stack up, `make up`): `python -m bench.freshness` prints this section's figures
as JSON; `make bench` runs it with the rest.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from bench.client import Client
from bench.common import (
    UMS_FIND,
    Config,
    Process,
    base_settings,
    cpu_seconds,
    free_port,
    listener_pid,
    percentile,
    running,
    settings_env,
    suffix,
    wait_http,
)
from bench.data import encode, make_users, private_database, private_topic
from bench.stages import ApplyWatch, Stages
from ums_find.settings import Settings

POLL_S = 0.005  # how often a pending name is asked for: the measurement's resolution
# A user not visible after this long counts as lost; it is a correctness bound, not a latency
# target, so it is generous: a loaded machine stalls lookups for seconds without losing anything.
GIVE_UP_S = 30.0
WORKERS = 16


def run(config: Config, base: Settings, run_id: str, work: Path, procs: list[Process]) -> dict[str, Any]:
    """The consumer and the API on a fresh topic and database; every published user polled until found."""
    count = int(config.fresh_rate * config.fresh_seconds)
    with (
        private_topic(base, f"bench-{run_id}-fresh") as topic,
        private_database(base, f"bench_{run_id}_fresh") as db,
    ):
        own = db.override(topic=topic.kafka.topic, dlq_topic=topic.kafka.dlq_topic, http_port=free_port())
        own = own.override(group_id=f"bench-{run_id}-f", consumer_name=f"bench-{run_id}-f")
        env = settings_env(own)
        with (
            running([UMS_FIND, "serve"], env, work / "fresh-serve.log", procs, "api:ums-find") as api,
            running([UMS_FIND, "consume"], env, work / "fresh-consume.log", procs, "consumer") as consumer,
        ):
            wait_http(api, f"http://127.0.0.1:{own.http.port}/readyz")
            watched = {"consumer": consumer.popen.pid, "api": api.popen.pid, **servers(own)}
            cpu = CpuWatch(watched)
            latencies, lost, stages = measure(own, count, config.fresh_rate, consumer, cpu)
    return {
        "rate_per_s": config.fresh_rate,
        "records": count,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "not_visible": lost,
        "stages": stages,
        "cpu_ms_per_record": cpu.per_record(count),
    }


def servers(settings: Settings) -> dict[str, int]:
    """The broker's and the database's processes, where this machine shows them."""
    ports = {"broker": int(settings.kafka.bootstrap.rsplit(":", 1)[1]), "database": settings.mysql.port}
    pids = {role: listener_pid(port) for role, port in ports.items()}
    return {role: pid for role, pid in pids.items() if pid is not None}


class CpuWatch:
    """CPU time each process used between `start` and `stop`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._started: dict[str, float] = {}
        self.used_s: dict[str, float] = {}

    def start(self) -> None:
        self._started = {role: cpu_seconds(pid) for role, pid in self._pids.items()}

    def stop(self) -> None:
        self.used_s = {role: cpu_seconds(pid) - self._started[role] for role, pid in self._pids.items()}

    def per_record(self, records: int) -> dict[str, float]:
        """Milliseconds of CPU per record, by process."""
        return {role: used * 1000 / max(1, records) for role, used in self.used_s.items()}


def measure(
    settings: Settings, count: int, rate: int, consumer: Process, cpu: CpuWatch
) -> tuple[list[float], int, dict[str, Any]]:
    """Publish `count` users at `rate` per second; the seconds each took to be found, and its stages."""
    pending: queue.Queue[tuple[str, float] | None] = queue.Queue()
    latencies: list[float] = []
    lost = [0]
    stages = Stages()
    workers = [
        threading.Thread(
            target=_watch, args=(settings.http.port, pending, latencies, lost, GIVE_UP_S, stages), daemon=True
        )
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    _warm_up(settings, consumer)
    applies = ApplyWatch(settings, stages)
    applies.start()
    cpu.start()
    _publish_steadily(settings, count, rate, pending, stages=stages)
    for _ in workers:
        pending.put(None)
    for worker in workers:
        worker.join(GIVE_UP_S + 30)
    cpu.stop()
    applies.stop()
    return latencies, lost[0], stages.summary()


def _warm_up(settings: Settings, consumer: Process) -> None:
    """One user published and seen first, so start-up and partition assignment are not measured."""
    pending: queue.Queue[tuple[str, float] | None] = queue.Queue()
    latencies: list[float] = []
    for attempt in range(3):
        _publish_steadily(settings, 1, 1, pending, seed=10_000 + attempt)
        pending.put(None)
        _watch(settings.http.port, pending, latencies, [0], give_up_s=30)
        if latencies:
            return
    raise RuntimeError(f"the consumer applied nothing:\n{consumer.tail()}")


def _publish_steadily(
    settings: Settings,
    count: int,
    rate: int,
    pending: queue.Queue[tuple[str, float] | None],
    seed: int = 5,
    stages: Stages | None = None,
) -> None:
    """Publish from a process of its own, as AddService would, each user handed on as it is sent.

    In this process the publisher took turns on the interpreter lock with the sixteen pollers,
    and its delivery reports were served only at its next `produce()`: that was most of the
    acknowledgement's tail. `time.monotonic()` is the machine's clock, the same in both.
    """
    context = multiprocessing.get_context("spawn")
    moments: multiprocessing.Queue[tuple[str, str, float] | None] = context.Queue()
    args = (settings.kafka.bootstrap, settings.kafka.topic, count, rate, seed, moments)
    publisher = context.Process(target=_publisher, args=args, daemon=True)
    publisher.start()
    deadline = time.monotonic() + 60 + count / rate
    try:
        while time.monotonic() < deadline and (item := moments.get(timeout=deadline - time.monotonic())):
            _note(item, pending, stages)
    finally:
        publisher.join(30)
        if publisher.is_alive():
            publisher.kill()
    if publisher.exitcode != 0:
        raise RuntimeError(f"the publisher exited with {publisher.exitcode}")


def _note(
    item: tuple[str, str, float], pending: queue.Queue[tuple[str, float] | None], stages: Stages | None
) -> None:
    kind, name, moment = item
    if kind == "sent":
        if stages:
            stages.sent[name] = moment
        pending.put((name, moment))
    elif stages:
        stages.acked[name] = moment


def _publisher(bootstrap: str, topic: str, count: int, rate: int, seed: int, moments: Any) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
    done = threading.Event()
    # Delivery reports are served as they come, not at the next produce() 5 ms later.
    reports = threading.Thread(target=lambda: [producer.poll(0.01) for _ in iter(done.is_set, True)])
    reports.start()
    rows = [(f"f{seed}{row[0]}"[:32], *row[1:]) for row in make_users(count, seed)]
    start = time.monotonic()
    for i, row in enumerate(rows):
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        sent = time.monotonic()
        producer.produce(topic, encode(row), row[0].encode(), on_delivery=_acked(moments, row[0]))
        moments.put(("sent", row[0], sent))
    producer.flush(30)
    done.set()
    reports.join()
    moments.put(None)


def _acked(moments: Any, name: str) -> Any:
    def report(err: Any, _msg: Any) -> None:
        if err is None:
            moments.put(("acked", name, time.monotonic()))

    return report


def _watch(
    port: int,
    pending: queue.Queue[tuple[str, float] | None],
    latencies: list[float],
    lost: list[int],
    give_up_s: float = GIVE_UP_S,
    stages: Stages | None = None,
) -> None:
    client = Client(port)
    while (item := pending.get()) is not None:
        name, sent = item
        while client.status(f"/user/{name}") != 200:
            if time.monotonic() - sent > give_up_s:
                lost[0] += 1
                break
            time.sleep(POLL_S)
        else:
            seen = time.monotonic()
            latencies.append(seen - sent)
            if stages:
                stages.visible[name] = seen
    client.close()


def main() -> None:
    """This section alone, at the sizes of BENCH_QUICK; its figures on stdout."""
    with tempfile.TemporaryDirectory() as work:
        result = run(Config.from_env(), base_settings(), suffix(), Path(work), [])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
