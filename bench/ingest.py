"""Ingest: the consumer process applying a full topic, beside bare consume and bare upsert ceilings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer

from bench.common import UMS_FIND, Config, Process, running, settings_env, spread, wait_until
from bench.data import Row, bulk_upsert, execute, private_database
from ums_find.settings import Settings
from ums_find.store import connect
from ums_find.store.schema import VIEW_DDL

TARGETS = ("consumer", "bare-consume", "bare-upsert")


def applied(settings: Settings) -> int:
    """How many records the consumer's checkpoints cover."""
    rows = execute(
        settings,
        f"SELECT COALESCE(SUM(next_offset), 0) FROM `{settings.mysql.database}`.ums_checkpoints "
        "WHERE consumer = %s AND topic = %s",
        [settings.consumer.name, settings.kafka.topic],
    )
    return int(rows[0][0])


def consumer_round(
    base: Settings, total: int, tag: str, work: Path, procs: list[Process]
) -> tuple[float, Settings]:
    """Seconds from starting `ums-find consume` until its checkpoints cover every record."""
    with private_database(base, f"bench_{tag}") as db:
        own = db.override(group_id=f"bench-{tag}", consumer_name=f"bench-{tag}")
        env = settings_env(own)
        started = time.monotonic()
        with running([UMS_FIND, "consume"], env, work / f"consume-{tag}.log", procs, "consumer") as proc:

            def done() -> bool:
                if proc.popen.poll() is not None:
                    raise RuntimeError(f"consumer exited with {proc.popen.returncode}:\n{proc.tail()}")
                return applied(own) >= total

            finished = wait_until(done, 120 + total / 2000, "the consumer to apply every record")
        return finished - started, own


def bare_consume(base: Settings, total: int, tag: str) -> float:
    """Seconds for a plain confluent-kafka loop to receive every record (no decoding, no database)."""
    consumer = Consumer(
        {
            "bootstrap.servers": base.kafka.bootstrap,
            "group.id": f"bench-bare-{tag}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    started = time.monotonic()
    consumer.subscribe([base.kafka.topic])
    seen = 0
    deadline = started + 60 + total / 2000
    try:
        while seen < total and time.monotonic() < deadline:
            seen += sum(1 for m in consumer.consume(10_000, 0.5) if m.error() is None)
    finally:
        consumer.close()
    if seen < total:
        raise RuntimeError(f"bare consume saw {seen} of {total} records")
    return time.monotonic() - started


def bare_upsert(db: Settings, rows: list[Row]) -> float:
    """Seconds to upsert the same rows into an empty table, 2,000 a statement (C extension)."""
    conn = connect(db)
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS bare_users")
        cur.execute(VIEW_DDL.format(table="bare_users"))
        cur.close()
        started = time.monotonic()
        bulk_upsert(conn, "bare_users", rows, 2000)
        return time.monotonic() - started
    finally:
        conn.close()


def run(
    config: Config, base: Settings, rows: list[Row], run_id: str, work: Path, procs: list[Process]
) -> dict[str, Any]:
    """`rounds` times, the consumer, bare consume and bare upsert in turn; records/s each."""
    total = len(rows)
    seconds: dict[str, list[float]] = {t: [] for t in TARGETS}
    with private_database(base, f"bench_{run_id}_bare") as ceiling_db:
        for i in range(config.rounds):
            seconds["consumer"].append(consumer_round(base, total, f"{run_id}_c{i}", work, procs)[0])
            seconds["bare-consume"].append(bare_consume(base, total, f"{run_id}-{i}"))
            seconds["bare-upsert"].append(bare_upsert(ceiling_db, rows))
    return {
        t: {"records_per_s": spread([total / s for s in secs]), "seconds": spread(secs), "records": total}
        for t, secs in seconds.items()
    }
