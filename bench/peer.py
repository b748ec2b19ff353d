"""Peer: the Debezium JDBC sink on Kafka Connect standalone, sinking the same records into a sibling table.

The jars come from Maven's default repository (bench/peer/pom.xml). It runs one task per
partition with batches of 5,000, as its documentation advises for throughput. The sink needs records with
schemas, so the same users are published again, as JsonConverter envelopes, to a topic
of their own; the sink upserts them into `peer_users`, beside the view table's layout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT, Config, Process, free_port, running, wait_until
from bench.data import Row, execute, private_database, private_topic, publish
from ums_find.settings import Settings
from ums_find.store.schema import VIEW_DDL

PEER = ROOT / "bench" / "peer"
_EPOCH = datetime(1970, 1, 1)
_HIBERNATE_POOLS = "org.hibernate.engine.jdbc.connections.internal"
# The sink is far slower than the consumer: it gets at most this many of the records.
FULL_RECORDS, QUICK_RECORDS = 200_000, 3_000
PARTITIONS = 3  # the bench topics' count (bench.data.private_topic): one sink task each
BATCH = 5_000
_SCHEMA = {
    "type": "struct",
    "name": "ums.User",
    "optional": False,
    "fields": [
        {"field": "name", "type": "string", "optional": False},
        {"field": "phone", "type": "int64", "optional": False},
        {
            "field": "since",
            "type": "int64",
            "name": "org.apache.kafka.connect.data.Timestamp",
            "optional": False,
        },
    ],
}


def jars(out_dir: Path) -> Path:
    """The connector's and Connect's jars, resolved once per pom (Maven's cache makes it fast)."""
    libs = out_dir / "peer" / "libs"
    stamp = libs / ".pom"
    pom = (PEER / "pom.xml").read_text()
    if not (stamp.exists() and stamp.read_text() == pom):
        shutil.rmtree(libs, ignore_errors=True)
        args = ["mvn", "-B", "-q", "-f", str(PEER / "pom.xml")]
        args += ["dependency:copy-dependencies", f"-DoutputDirectory={libs}"]
        subprocess.run(args, capture_output=True, text=True, timeout=900, check=True)
        _stub(libs)
        stamp.write_text(pom)
    return libs


def _stub(libs: Path) -> None:
    """A jar holding only the name of Agroal's provider class.

    The connector's config class names it as its default pool, so it must load even when
    another pool is configured, and no hibernate-agroal jar resolves here.
    """
    classes = libs.parent / "stub-classes"
    source = PEER / "stub" / "org" / "hibernate" / "agroal" / "internal" / "AgroalConnectionProvider.java"
    subprocess.run(["javac", "-d", str(classes), str(source)], capture_output=True, timeout=120, check=True)
    jar = ["jar", "cf", str(libs / "agroal-name-stub.jar"), "-C", str(classes), "."]
    subprocess.run(jar, capture_output=True, timeout=120, check=True)


def envelope(row: Row) -> bytes:
    """The user as a JsonConverter record with its schema (`since` in epoch milliseconds)."""
    since_ms = (row[2] - _EPOCH) // timedelta(milliseconds=1)
    payload = {"name": row[0], "phone": row[1], "since": since_ms}
    return json.dumps({"schema": _SCHEMA, "payload": payload}).encode()


def configs(work: Path, db: Settings, topic: str, port: int) -> tuple[Path, Path]:
    """The standalone worker's and the connector's properties files."""
    worker = {
        "bootstrap.servers": db.kafka.bootstrap,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
        "offset.storage.file.filename": str(work / "peer.offsets"),
        "listeners": f"http://127.0.0.1:{port}",
        "plugin.discovery": "only_scan",
        # a batch can only be as large as one poll: the consumer's default is 500 records
        "consumer.max.poll.records": str(BATCH),
    }
    connector = {
        "name": "peer-jdbc-sink",
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": str(PARTITIONS),
        "topics": topic,
        "connection.url": f"jdbc:mysql://{db.mysql.host}:{db.mysql.port}/{db.mysql.database}",
        "connection.username": db.mysql.user,
        "connection.password": db.mysql.password.reveal(),
        # Hibernate's own pool: the default (Agroal) is not among the jars that resolve.
        "connection.provider": f"{_HIBERNATE_POOLS}.DriverManagerConnectionProviderImpl",
        "insert.mode": "upsert",
        "primary.key.mode": "record_value",
        "primary.key.fields": "name",
        "schema.evolution": "none",
        "collection.name.format": "peer_users",
        "batch.size": str(BATCH),
    }
    paths = (work / "peer-worker.properties", work / "peer-connector.properties")
    for path, props in zip(paths, (worker, connector), strict=True):
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    return paths


def run(config: Config, base: Settings, rows: list[Row], run_id: str, work: Path) -> dict[str, Any]:
    """Records/s of the sink from its first row to its last, or why it could not run."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        return {"available": False, "reason": "java or mvn is not installed"}
    try:
        libs = jars(config.out_dir)
    except subprocess.SubprocessError as exc:
        return {"available": False, "reason": f"the jars could not be resolved: {exc}"}
    rows = rows[: QUICK_RECORDS if config.quick else FULL_RECORDS]
    with (
        private_topic(base, f"bench-{run_id}-peer", PARTITIONS) as topic,
        private_database(base, f"bench_{run_id}_peer") as db,
    ):
        execute(db, VIEW_DDL.format(table=f"{db.mysql.database}`.`peer_users"))
        publish(topic, topic.kafka.topic, [(row[0].encode(), envelope(row)) for row in rows])
        return _sink(libs, db.override(topic=topic.kafka.topic), len(rows), work)


def _sink(libs: Path, db: Settings, total: int, work: Path) -> dict[str, Any]:
    worker, connector = configs(work, db, db.kafka.topic, free_port())
    args = ["java", "-Xmx1g", f"-Dlog4j2.configurationFile={PEER / 'log4j2.properties'}", "-cp", f"{libs}/*"]
    args += ["org.apache.kafka.connect.cli.ConnectStandalone", str(worker), str(connector)]
    count_sql = f"SELECT COUNT(*) FROM `{db.mysql.database}`.peer_users"
    procs: list[Process] = []
    started = time.monotonic()
    with running(args, {"PATH": "/usr/bin:/bin"}, work / "peer-connect.log", procs, "peer") as proc:

        def rows_now() -> int:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"Kafka Connect exited:\n{proc.tail()}")
            return int(execute(db, count_sql)[0][0])

        try:
            wait_until(lambda: rows_now() > 0, 180, "the sink's first row", 0.2)
            first, first_rows = time.monotonic(), rows_now()
            done = wait_until(lambda: rows_now() >= total, 120 + total / 500, "the sink's last row", 0.2)
        except (TimeoutError, RuntimeError) as exc:
            return {"available": False, "reason": f"the sink did not finish: {str(exc)[:300]}"}
    rss = procs[0].peak_rss_mb
    note = f"{total:,} records, {PARTITIONS} tasks, batch.size {BATCH}, first row to last"
    if first_rows < total:
        rate = (total - first_rows) / max(done - first, 1e-6)
    else:  # every row came in one batch (quick sizes): timed from the JVM's start instead
        rate, note = (
            total / max(done - started, 1e-6),
            note.replace("first row to last", "JVM start to last row"),
        )
    note += f"; peak RSS {rss:.0f} MiB"
    return {"available": True, "records_per_s": rate, "records": total, "note": note}
