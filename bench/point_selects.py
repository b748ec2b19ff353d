"""Point selects per second one MySQL server answers: the primary, and each of its read replicas.

Run alone: `python -m bench.point_selects` measures the server of UMS_MYSQL_HOST/UMS_MYSQL_PORT
and every replica UMS_MYSQL_READ_HOSTS names. The table is made on the primary (replicas get
it through replication) in a database of its own, dropped at the end.
"""

from __future__ import annotations

import multiprocessing as mp
import time
import uuid

from ums_find.settings import Settings
from ums_find.store import connect

ROWS = 10_000
SECONDS = 5.0
CONNECTIONS = (1, 4)


def _run(settings: Settings, database: str, out: mp.Queue[float]) -> None:
    conn = connect(settings.override(mysql_database=database), autocommit=True)
    cursor = conn.cursor()
    end, count = time.monotonic() + SECONDS, 0
    while time.monotonic() < end:
        cursor.execute("SELECT name, phone, since FROM u WHERE name = %s", (f"user{count % ROWS}",))
        cursor.fetchall()
        count += 1
    out.put(count / SECONDS)


def measure(settings: Settings, database: str, connections: int) -> float:
    """Point selects per second on the server of `settings`, from `connections` client processes."""
    out: mp.Queue[float] = mp.Queue()
    procs = [mp.Process(target=_run, args=(settings, database, out)) for _ in range(connections)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return sum(out.get() for _ in procs)


def _wait_for_rows(settings: Settings, database: str, timeout_s: float = 60.0) -> None:
    conn = connect(settings, database=False, autocommit=True)
    cursor = conn.cursor()
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            try:
                cursor.execute(f"SELECT COUNT(*) FROM {database}.u")
                if cursor.fetchall()[0][0] == ROWS:
                    return
            except Exception:  # noqa: BLE001 - the table has not arrived yet
                pass
            time.sleep(0.1)
        raise TimeoutError(f"the replica at {settings.mysql.host}:{settings.mysql.port} lacks the table")
    finally:
        conn.close()


def servers(settings: Settings) -> list[tuple[str, Settings]]:
    """The primary and each read replica, named, as settings that connect to it."""
    found = [("primary", settings)]
    for host, port in settings.mysql.read_endpoints:
        found.append((f"replica {host}:{port}", settings.override(mysql_host=host, mysql_port=port)))
    return found


def main(settings: Settings) -> None:
    """Make the table on the primary, then measure every server with 1 and 4 connections."""
    database = f"ums_bench_{uuid.uuid4().hex[:8]}"
    admin = connect(settings, database=False, autocommit=True)
    cursor = admin.cursor()
    cursor.execute(f"CREATE DATABASE {database}")
    try:
        cursor.execute(
            f"CREATE TABLE {database}.u (name VARCHAR(32) PRIMARY KEY, phone BIGINT, since DATETIME(6))"
        )
        rows = [(f"user{i}",) for i in range(ROWS)]
        cursor.executemany(f"INSERT INTO {database}.u VALUES (%s, 1, NOW(6))", rows)
        for name, server in servers(settings):
            _wait_for_rows(server, database)
            for n in CONNECTIONS:
                print(f"{name}, {n} connection(s): {measure(server, database, n):,.0f} point selects/s")
    finally:
        cursor.execute(f"DROP DATABASE {database}")
        admin.close()


if __name__ == "__main__":
    main(Settings.from_env())
