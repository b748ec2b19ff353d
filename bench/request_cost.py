"""CPU per lookup inside the API process: the WSGI call, its point select, and hello's Flask route.

Run alone (the stack up): `python -m bench.request_cost`. Each callable runs 5,000 times in
this one thread, best of five rounds, on a private database of 20,000 users; what it prints
is what a request costs before waitress's own work (which hello pays too) and before the
interpreter lock is handed between threads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bench.baselines import hello
from bench.common import base_settings, suffix
from bench.data import load_users, make_users, private_database
from ums_find.http.app import create_app
from ums_find.http.partitions import PartitionMap
from ums_find.settings import Settings
from ums_find.store import UserReader

USERS, CALLS, ROUNDS = 20_000, 5_000, 5


def cpu_us_per_call(work: Callable[[int], Any], calls: int = CALLS, rounds: int = ROUNDS) -> float:
    """This thread's CPU time per call of `work(i)`, best of `rounds` (the app's own threads left out)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        for i in range(calls):
            work(i)
        best = min(best, time.thread_time() - started)
    return best / calls * 1e6


def environ(name: str) -> dict[str, Any]:
    """A WSGI environ of `GET /user/<name>` as waitress builds it."""
    path = f"/user/{name}"
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "REQUEST_URI": path,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
    }


def measure(db: Settings, names: list[str], calls: int = CALLS, rounds: int = ROUNDS) -> dict[str, float]:
    """Microseconds of CPU per call of each step; every app is checked to answer `200` first."""
    partitions = PartitionMap(lambda: 3, 3_600.0)
    partitions.count = 3
    apps = {"ums-find": create_app(db, partitions=partitions).wsgi_app, "hello": hello.create_app().wsgi_app}
    reader = UserReader(db.mysql)
    envs = [environ(name) for name in names]
    for target, app in apps.items():
        status = answer(app, envs[0])
        if status != "200":
            raise RuntimeError(f"{target} answered {status} for {names[0]!r}")

    def call(app: Any) -> Callable[[int], Any]:
        return lambda i: answer(app, envs[i % len(envs)])

    def cost(work: Callable[[int], Any]) -> float:
        return cpu_us_per_call(work, calls, rounds)

    return {
        "ums-find lookup (WSGI call)": cost(call(apps["ums-find"])),
        "of it, the point select (UserReader.fetch)": cost(lambda i: reader.fetch(names[i % len(names)])),
        "hello (Flask route, WSGI call)": cost(call(apps["hello"])),
    }


def answer(app: Any, env: dict[str, Any]) -> str:
    """Call a WSGI app, read its body; the status code it answered."""
    status = [""]

    def start_response(line: str, _headers: Any, _exc: Any = None) -> None:
        status[0] = line[:3]

    b"".join(app(env, start_response))
    return status[0]


def main() -> None:
    """Load the users, measure, print the figures as JSON."""
    rows = make_users(USERS)
    with private_database(base_settings(), f"bench_{suffix()}_cost") as db:
        load_users(db, rows)
        figures = measure(db, [row[0] for row in rows[:: USERS // 1_000]])
    print(json.dumps({step: round(us, 1) for step, us in figures.items()}, indent=2))


if __name__ == "__main__":
    main()
