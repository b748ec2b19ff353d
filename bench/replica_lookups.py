"""Lookups per API process reading the primary, and reading a replica of it, alternating.

Run alone: `python -m bench.replica_lookups`, with UMS_MYSQL_HOST/UMS_MYSQL_PORT the primary and
UMS_MYSQL_READ_HOSTS one replica of it (`bash dev/stack.sh up-replica` gives a pair). It loads
users into a database of its own on the primary (dropped at the end), waits until the replica
holds them, then runs wrk against `ums-find serve` without and with the read hosts.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import UMS_FIND, Process, base_settings, free_port, running, settings_env, wait_http
from bench.data import load_users, make_users, private_database
from bench.lookups import check_answers, names_file, wrk
from ums_find.settings import Settings

USERS = 20_000
SECONDS = 10
ROUNDS = 2
CONCURRENCY = (16, 64)


def _wait_replicated(settings: Settings, name: str, timeout_s: float = 120.0) -> None:
    from bench.data import execute

    host, port = settings.mysql.read_endpoints[0]
    replica = settings.override(mysql_host=host, mysql_port=port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if execute(
                replica, f"SELECT 1 FROM `{settings.mysql.database}`.ums_users WHERE name = %s", (name,)
            ):
                return
        except Exception:  # noqa: BLE001 - the database has not arrived yet
            pass
        time.sleep(0.2)
    raise TimeoutError("the replica did not receive the users")


def main() -> None:
    """Print requests/s per (reading, concurrency) round."""
    base = base_settings()
    if not base.mysql.read_hosts:
        raise SystemExit("set UMS_MYSQL_READ_HOSTS to a replica of UMS_MYSQL_HOST:UMS_MYSQL_PORT")
    users = make_users(USERS)
    with private_database(base, f"bench_replica_{free_port()}") as db, ExitStack() as stack:
        load_users(db, users)
        _wait_replicated(db, users[-1][0])
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        names, procs, ports = names_file(work / "names.txt", users), list[Process](), {}
        for reading, hosts in (("primary", ""), ("replica", db.mysql.read_hosts)):
            settings = db.override(http_port=free_port(), mysql_read_hosts=hosts)
            proc = stack.enter_context(
                running([UMS_FIND, "serve"], settings_env(settings), work / f"{reading}.log", procs, reading)
            )
            wait_http(proc, f"http://127.0.0.1:{settings.http.port}/user/{users[0][0]}")
            check_answers("ums-find", settings.http.port, users)
            ports[reading] = settings.http.port
        for conns in CONCURRENCY:
            for _ in range(ROUNDS):
                for reading, port in ports.items():
                    rps = wrk(port, conns, SECONDS, names)["rps"]
                    print(f"reading the {reading}, c={conns}: {rps:,.0f} lookups/s", flush=True)


if __name__ == "__main__":
    main()
