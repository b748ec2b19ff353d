"""Point selects per second one MySQL server answers (a primary or a read replica).

Run alone: `python -m bench.point_selects` (the server of UMS_MYSQL_HOST/UMS_MYSQL_PORT;
point it at a replica to measure that). It makes its own database and drops it.
"""

from __future__ import annotations

import multiprocessing as mp
import time
import uuid

from ums_find.settings import Settings
from ums_find.store import connect

ROWS = 10_000
SECONDS = 5.0


def _run(settings: Settings, database: str, out: mp.Queue[float]) -> None:
    conn = connect(settings.override(mysql_database=database), autocommit=True)
    cursor = conn.cursor()
    end, count = time.monotonic() + SECONDS, 0
    while time.monotonic() < end:
        cursor.execute("SELECT name, phone, since FROM u WHERE name = %s", (f"user{count % ROWS}",))
        cursor.fetchall()
        count += 1
    out.put(count / SECONDS)


def measure(settings: Settings, connections: int) -> float:
    """Point selects per second with `connections` client processes."""
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
        out: mp.Queue[float] = mp.Queue()
        procs = [mp.Process(target=_run, args=(settings, database, out)) for _ in range(connections)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        return sum(out.get() for _ in procs)
    finally:
        cursor.execute(f"DROP DATABASE {database}")
        admin.close()


if __name__ == "__main__":
    for n in (1, 4):
        print(f"{n} connection(s): {measure(Settings.from_env(), n):,.0f} point selects/s")
