"""Time `ums-find replay` over N records while 8 threads look users up over HTTP.

Run on demand against the local stack (`make up`), from the repository root:

    .venv/bin/python -m bench.replay --records 1000000

It makes its own database and topic, publishes with `ums-find publish --random`, lets
`ums-find consume` catch up, serves with `ums-find serve`, then runs `ums-find replay`
and reports the replay's duration and the lookups served (and failed) meanwhile.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
import urllib.parse
from dataclasses import replace

from tests.support.consumer import wait_until
from tests.support.kafka import create_topics, delete_topics
from tests.support.mysql import checkpoints, drop_database, query
from tests.support.processes import api_server, cli, http, process
from ums_find.settings import Settings
from ums_find.store import migrate


def end_offsets(settings: Settings) -> dict[int, int]:
    """The topic's high watermarks."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "bench-probe"})
    try:
        parts = consumer.list_topics(settings.topic, timeout=10).topics[settings.topic].partitions
        return {
            p: consumer.get_watermark_offsets(TopicPartition(settings.topic, p), timeout=10)[1] for p in parts
        }
    finally:
        consumer.close()


class Lookups:
    """Threads that look known users up until stopped, counting answers."""

    def __init__(self, base: str, names: list[str], threads: int) -> None:
        self.base, self.names = base, names
        self.ok = self.failed = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(threads)]

    def __enter__(self) -> Lookups:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(10)

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.ok, self.failed

    def _loop(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            name = rng.choice(self.names)
            try:
                status = http(f"{self.base}/user/{urllib.parse.quote(name, safe='')}")[0]
            except OSError:
                status = 0
            with self._lock:
                if status == 200:
                    self.ok += 1
                else:
                    self.failed += 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the database and topic")
    args = parser.parse_args()
    suffix = f"{random.getrandbits(40):010x}"
    topic = f"bench-{suffix}"
    settings = replace(
        Settings.from_env(),
        mysql_database=f"ums_bench_{suffix}",
        topic=topic,
        dlq_topic=f"{topic}.dlq",
        group_id=f"g-{topic}",
        consumer_name=f"c-{topic}",
    )
    create_topics(settings, partitions=args.partitions)
    migrate(settings)
    try:
        run(settings, args.records, args.threads)
    finally:
        if not args.keep:
            drop_database(settings)
            delete_topics(settings)


def run(settings: Settings, records: int, threads: int) -> None:
    started = time.monotonic()
    published = cli(settings, "publish", "--random", str(records), "--seed", "1", timeout_s=3600)
    assert published.returncode == 0, published.stderr
    print(f"published {records} records in {time.monotonic() - started:.1f} s")
    ends = end_offsets(settings)
    with process(settings, "consume"), api_server(settings) as base:
        started = time.monotonic()
        wait_until(lambda: checkpoints(settings) == ends, 3600, "the live consumer to catch up")
        print(f"live consumer caught up in {time.monotonic() - started:.1f} s")
        names = [str(r[0]) for r in query(settings, "SELECT name FROM ums_users ORDER BY RAND() LIMIT 20000")]
        with Lookups(base, names, threads) as lookups:
            before = lookups.counts()
            started = time.monotonic()
            result = cli(settings, "replay", timeout_s=3600)
            elapsed = time.monotonic() - started
            after = lookups.counts()
    print(result.stdout.strip())
    assert result.returncode == 0, result.stderr[-2000:]
    ok, failed = after[0] - before[0], after[1] - before[1]
    print(f"replay of {records} records: {elapsed:.1f} s (process wall time)")
    print(f"lookups during the replay: {ok} answered 200, {failed} failed ({ok / elapsed:.0f}/s)")


if __name__ == "__main__":
    main()
