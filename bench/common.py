"""What every part of the harness shares: sizes, processes, peak memory and statistics."""

from __future__ import annotations

import os
import statistics
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.harness import UMS_FIND, free_port, http_status, process_env, stop_process, wait_until
from ums_find.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["UMS_FIND", "free_port", "http_status", "wait_until"]


@dataclass(frozen=True)
class Config:
    """The sizes of one run; BENCH_QUICK=1 shrinks them to a smoke test of every part."""

    quick: bool
    users: int
    records: int
    wrk_seconds: int
    rounds: int
    concurrency: tuple[int, ...]
    fresh_seconds: float
    fresh_rate: int
    out_dir: Path
    docs: Path | None

    @classmethod
    def from_env(cls) -> Config:
        """Sizes from BENCH_QUICK; BENCH_OUT: results folder; BENCH_DOCS: page to update (0: none)."""
        quick = os.environ.get("BENCH_QUICK", "0") == "1"
        out = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "results"))
        docs_env = os.environ.get("BENCH_DOCS", str(ROOT / "docs" / "BENCHMARKS.md"))
        docs = None if docs_env == "0" else Path(docs_env)
        if quick:
            return cls(True, 5_000, 20_000, 2, 2, (16,), 4.0, 200, out, docs)
        return cls(False, 100_000, 1_000_000, 10, 3, (1, 16, 64), 30.0, 200, out, docs)


def suffix() -> str:
    """A short random id for the databases and topics of one run."""
    return uuid.uuid4().hex[:8]


def base_settings(**overrides: Any) -> Settings:
    """The local stack's settings, with overrides."""
    return Settings.from_env().override(**overrides)


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a process these settings (a consumer's probes off).

    The benchmark reads the database, not the probes; with them on, two runs on one machine
    would both want the default probe port.
    """
    return process_env(settings, **{"UMS_LOG_LEVEL": "WARNING", "UMS_CONSUMER_HTTP_PORT": "0", **extra})


class Process:
    """A started process whose peak memory (its tree's) is read just before it stops."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log: Path, role: str) -> None:
        self.role = role
        self.log = log
        self._file = log.open("w")
        self.popen = subprocess.Popen(
            list(args), env=env, stdout=self._file, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.peak_rss_mb = 0.0

    def stop(self, timeout_s: float = 20.0) -> int:
        """Read the peak RSS, then SIGTERM (SIGKILL past the timeout); the exit code."""
        if self.popen.poll() is None:
            self.peak_rss_mb = tree_peak_rss_mb(self.popen.pid)
        code = stop_process(self.popen, timeout_s, group=True)
        self._file.close()
        return code

    def tail(self, lines: int = 15) -> str:
        """The end of its output, to explain a failure."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running(
    args: Sequence[str], env: dict[str, str], log: Path, sink: list[Process], role: str
) -> Iterator[Process]:
    """A process for the block's length; appended to `sink` so its peak memory is reported by role."""
    proc = Process(args, env, log, role)
    sink.append(proc)
    try:
        yield proc
    finally:
        proc.stop()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found


def tree_peak_rss_mb(pid: int) -> float:
    """VmHWM of a process and all its descendants, summed, in MiB."""
    total_kb = 0
    for member in [pid, *_descendants(pid)]:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    for child in _children(pid):
        out += [child, *_descendants(child)]
    return out


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (NaN once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listener_pid(port: int) -> int | None:
    """The process listening on this TCP port, when this user may see it (the broker, the database)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: listening
                sockets.add(f"socket:[{fields[9]}]")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) in sockets:
                return int(fd.parts[2])
        except OSError:
            continue
    return None


def wait_http(proc: Process, url: str, timeout_s: float = 30.0) -> None:
    """Wait until the server answers at `url`; fail early if it died."""

    def up() -> bool:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"server exited with {proc.popen.returncode}:\n{proc.tail()}")
        return http_status(url, 1.0) != 0

    wait_until(up, timeout_s, url, 0.1)


def spread(values: Sequence[float]) -> dict[str, float]:
    """min, median and max of the rounds."""
    if not values:
        return {"min": float("nan"), "median": float("nan"), "max": float("nan")}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (pct in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]
