"""`ums-find serve` with several pre-forked workers sharing one socket."""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path

from tests.support.consumer import wait_until
from tests.support.processes import api_process, get_json
from ums_find.settings import Settings


def children(pid: int) -> list[int]:
    """The process's direct children."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(c) for c in task.read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def two_workers(settings: Settings) -> AbstractContextManager[tuple[subprocess.Popen[str], str]]:
    """`ums-find serve` with UMS_HTTP_WORKERS=2, once it answers."""
    return api_process(settings, UMS_HTTP_WORKERS="2")


def test_workers_answer_and_stop_with_the_parent(database: Settings) -> None:
    with two_workers(database) as (proc, base):
        workers = children(proc.pid)
        assert len(workers) == 2
        for _ in range(20):  # whichever worker takes a connection answers it
            assert get_json(base + "/user/NobodyHere")[0] == 404
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        wait_until(lambda: not any(alive(w) for w in workers), 30, "the workers to stop")


def test_a_dead_worker_stops_the_whole_server(database: Settings) -> None:
    with two_workers(database) as (proc, _base):
        workers = children(proc.pid)
        os.kill(workers[0], signal.SIGKILL)
        # It exits non-zero so that whatever supervises it restarts it whole.
        assert proc.wait(30) == 1
        wait_until(lambda: not alive(workers[1]), 30, "the other worker to stop")
