"""A private MariaDB and Kafka for tests that stop and restart servers (the shared ones stay up)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from tests.support.processes import free_port
from ums_find.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "dev" / "stack.sh"


@dataclass(frozen=True)
class PrivateStack:
    """Servers of our own, on free ports, with state under `.run/faults/`."""

    env: dict[str, str]
    settings: Settings

    def run(self, command: str, timeout_s: float = 150.0) -> None:
        """One `dev/stack.sh` command against this stack."""
        done = subprocess.run(
            ["bash", str(STACK), command], env=self.env, capture_output=True, text=True, timeout=timeout_s
        )
        assert done.returncode == 0, f"stack.sh {command} failed:\n{done.stdout}\n{done.stderr}"


def start_private_stack(base: Settings) -> PrivateStack:
    """Start a fresh private pair (bounded waits inside stack.sh)."""
    directory = ROOT / ".run" / "faults"
    shutil.rmtree(directory, ignore_errors=True)
    db_port, kafka_port, controller_port = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        STACK_DIR=str(directory),
        STACK_DB_PORT=str(db_port),
        STACK_KAFKA_PORT=str(kafka_port),
        STACK_CONTROLLER_PORT=str(controller_port),
        STACK_KAFKA_HEAP="512m",
    )
    libs = ROOT / ".run" / "kafka" / "libs"
    if (libs / ".stamp").exists():
        env["STACK_KAFKA_LIBS"] = str(libs)
    settings = base.override(
        mysql_host="127.0.0.1", mysql_port=db_port, kafka_bootstrap=f"127.0.0.1:{kafka_port}"
    )
    stack = PrivateStack(env, settings)
    stack.run("start-mariadb")
    stack.run("start-kafka")
    return stack


def dead_letter_origins(
    settings: Settings, wanted: Iterable[tuple[int, int]], timeout_s: float = 60.0
) -> set[tuple[int, int]]:
    """The original (partition, offset) of every dead letter, read until all `wanted` are seen."""
    want = set(wanted)
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka.bootstrap, "group.id": "dlq-reader", "enable.auto.commit": False}
    )
    parts = (
        consumer.list_topics(settings.kafka.dlq_topic, timeout=30).topics[settings.kafka.dlq_topic].partitions
    )
    consumer.assign([TopicPartition(settings.kafka.dlq_topic, p, 0) for p in parts])
    seen: set[tuple[int, int]] = set()
    deadline = time.monotonic() + timeout_s
    try:
        while not want <= seen and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is None:
                    headers = dict(msg.headers() or [])
                    seen.add((int(headers["ums.original.partition"]), int(headers["ums.original.offset"])))
    finally:
        consumer.close()
    return seen
