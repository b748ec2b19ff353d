"""Replay: a full `ums-find replay` of the ingest topic while lookups run; its duration and failures."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from bench.client import LookupLoad
from bench.common import UMS_FIND, Process, free_port, running, settings_env, wait_http
from bench.data import Row, load_users, private_database
from ums_find.settings import Settings


def available() -> bool:
    """Whether this ums-find has a `replay` command."""
    probe = subprocess.run([UMS_FIND, "replay", "--help"], capture_output=True, timeout=60, check=False)
    return probe.returncode == 0


def run(base: Settings, rows: list[Row], run_id: str, work: Path, procs: list[Process]) -> dict[str, Any]:
    """The view loaded, the API serving it under lookups, then a replay of the whole topic."""
    if not available():
        return {"available": False, "reason": "this ums-find has no `replay` command"}
    with private_database(base, f"bench_{run_id}_replay") as db:
        load_users(db, rows)
        own = db.override(
            http_port=free_port(), group_id=f"bench-{run_id}-r", consumer_name=f"bench-{run_id}-r"
        )
        env = settings_env(own)
        with running([UMS_FIND, "serve"], env, work / "replay-serve.log", procs, "api:ums-find") as api:
            wait_http(api, f"http://127.0.0.1:{own.http.port}/readyz")
            with LookupLoad(own.http.port, [r[0] for r in rows[:: max(1, len(rows) // 20_000)]]) as load:
                seconds, code, proc = _replay(env, work, procs, 300 + len(rows) / 2000)
    result: dict[str, Any] = {"available": True, "seconds": seconds, "exit_code": code, "lookups": load.done}
    result.update(failed_lookups=load.failed, records=len(rows))
    if code != 0:
        result["log"] = proc.tail()
    return result


def _replay(
    env: dict[str, str], work: Path, procs: list[Process], timeout_s: float
) -> tuple[float, int, Process]:
    started = time.monotonic()
    with running([UMS_FIND, "replay"], env, work / "replay.log", procs, "replay") as proc:
        try:
            code = proc.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            code = -1
    return time.monotonic() - started, code, proc
