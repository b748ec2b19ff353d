"""Measure the consumer's ingest rate: publish N random users to a fresh topic, then time
`ums-find consume` from its start until its checkpoints reach the end of the topic.

    .venv/bin/python bench/ingest.py --records 1000000 [--batch-size 2000]

Uses the servers of the UMS_* settings (the local stack by default); creates and drops its
own topic and database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from ums_find.settings import Settings
from ums_find.store import connect, migrate

BIN = Path(sys.executable).with_name("ums-find")


def main() -> None:
    """Publish, consume, report."""
    args = parse_args()
    suffix = uuid.uuid4().hex[:8]
    base = Settings.from_env()
    env = dict(os.environ)
    env.update(
        UMS_TOPIC=f"bench-{suffix}",
        UMS_DLQ_TOPIC=f"bench-{suffix}.dlq",
        UMS_MYSQL_DATABASE=f"ums_bench_{suffix}",
        UMS_GROUP_ID=f"bench-{suffix}",
        UMS_CONSUMER_NAME="bench",
        UMS_CONSUMER_HTTP_PORT="0",
        UMS_BATCH_SIZE=str(args.batch_size),
    )
    settings = Settings.from_env(env)
    admin = AdminClient({"bootstrap.servers": base.kafka_bootstrap})
    topics = [NewTopic(settings.topic, 3, 1), NewTopic(settings.dlq_topic, 3, 1)]
    for future in admin.create_topics(topics).values():
        future.result(60)
    try:
        migrate(settings)
        started = time.monotonic()
        subprocess.run(
            [str(BIN), "publish", "--random", str(args.records), "--seed", "1"], env=env, check=True
        )
        print(f"published {args.records} in {time.monotonic() - started:.1f} s")
        total = end_of_topic(settings)
        elapsed = consume(env, settings, total)
        print(f"consumed {total} records in {elapsed:.1f} s: {total / elapsed:,.0f} records/s")
    finally:
        for future in admin.delete_topics([settings.topic, settings.dlq_topic]).values():
            future.result(60)
        conn = connect(settings, database=False)
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{settings.mysql_database}`")
        conn.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    return parser.parse_args()


def end_of_topic(settings: Settings) -> int:
    """The sum of the high watermarks."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "bench"})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(settings.topic, p), 30)[1] for p in range(3))
    finally:
        consumer.close()


def consume(env: dict[str, str], settings: Settings, total: int) -> float:
    """Seconds from the consumer's start until its checkpoints sum to `total`."""
    started = time.monotonic()
    proc = subprocess.Popen([str(BIN), "consume"], env=env)
    conn = connect(settings)
    try:
        cursor = conn.cursor()
        while True:
            cursor.execute("SELECT COALESCE(SUM(next_offset), 0) FROM ums_checkpoints")
            if int(cursor.fetchall()[0][0]) >= total:
                return time.monotonic() - started
            if proc.poll() is not None:
                raise SystemExit(f"the consumer exited with {proc.returncode}")
            time.sleep(0.2)
    finally:
        conn.close()
        proc.terminate()
        proc.wait(60)


if __name__ == "__main__":
    main()
