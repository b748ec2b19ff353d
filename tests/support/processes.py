"""Start `ums-find` subcommands as real processes, configured through `UMS_*` variables."""

from __future__ import annotations

import json
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.harness import UMS_FIND, free_port, process_env, stop_process, wait_until
from ums_find.settings import Settings

__all__ = ["UMS_FIND", "free_port", "wait_until"]


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The process environment that gives these settings."""
    # Concurrent consumers would fight over one probe port: tests that want it give one.
    return process_env(settings, **{"UMS_CONSUMER_HTTP_PORT": "0", **extra})


def cli(
    settings: Settings, *args: str, timeout_s: float = 60.0, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `ums-find ARGS` to completion."""
    return subprocess.run(
        [UMS_FIND, *args],
        env=settings_env(settings, **extra),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@contextmanager
def process(settings: Settings, *args: str, **extra: str) -> Iterator[subprocess.Popen[str]]:
    """`ums-find ARGS` running in the background; SIGTERM (then SIGKILL) when the block ends.

    Its output goes to a file, `proc.log`, that tests read to explain a failure.
    """
    with tempfile.NamedTemporaryFile("w+", prefix="ums-find-", suffix=".log") as log:
        proc = subprocess.Popen(
            [UMS_FIND, *args],
            env=settings_env(settings, **extra),
            text=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log = log.name  # type: ignore[attr-defined]
        try:
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[str], timeout_s: float = 30.0) -> int:
    """SIGTERM, then SIGKILL past the timeout; the exit code."""
    return stop_process(proc, timeout_s)


def output(proc: subprocess.Popen[str]) -> str:
    """What the process wrote so far."""
    return Path(proc.log).read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def http(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, timeout_s: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    """One request; any status comes back instead of raising."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def get_json(url: str) -> tuple[int, Any]:
    status, _, body = http(url)
    return status, json.loads(body) if body else None


@contextmanager
def api_process(settings: Settings, **extra: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`ums-find serve` on a free port; yields the process and its base URL once it answers."""
    port = free_port()
    with process(settings, "serve", UMS_HTTP_PORT=str(port), **extra) as proc:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert proc.poll() is None, f"serve exited: {output(proc)}"
            try:
                return http(base + "/healthz", timeout_s=1)[0] == 200
            except OSError:
                return False

        wait_until(up, 30, "the API to answer")
        yield proc, base


@contextmanager
def api_server(settings: Settings, **extra: str) -> Iterator[str]:
    """`ums-find serve` on a free port; yields its base URL once it answers."""
    with api_process(settings, **extra) as (_proc, base):
        yield base
