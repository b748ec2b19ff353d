"""What the tests and the benchmark harness share: free ports, bounded waits, processes to stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ums_find.settings import Settings

UMS_FIND = str(Path(sys.executable).with_name("ums-find"))


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    condition: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition", every_s: float = 0.05
) -> float:
    """Poll until `condition` holds; the monotonic time it did. Raises TimeoutError past the bound."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(every_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a started process these settings, serving on loopback only."""
    env = {**os.environ, **settings.as_env(), "UMS_HTTP_HOST": "127.0.0.1"}
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[Any], timeout_s: float = 30.0, group: bool = False) -> int:
    """SIGTERM, then SIGKILL (to its process group when `group`) past the timeout; the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait(10)
    return int(proc.returncode)


def http_status(url: str, timeout_s: float = 5.0) -> int:
    """The status of a GET, or 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0
