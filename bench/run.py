"""`make bench`: every figure beside its baseline, in one run; prints the table, writes JSON, PNG and docs.

Run: python -m bench.run (BENCH_QUICK=1 for the one-minute smoke sizes).
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import freshness, ingest, lookups, peer, replay
from bench.common import Config, Process, base_settings, suffix
from bench.data import load_users, make_users, private_database, private_topic, publish_users
from bench.report import write

log = logging.getLogger("bench")


# Wait for the dpkg lock (another install may hold it) rather than fail at once.
APT_GET = ("apt-get", "-o", "DPkg::Lock::Timeout=600")


def ensure_wrk() -> None:
    """Install Debian's wrk when it is missing (idempotent)."""
    if shutil.which("wrk"):
        return
    log.info("installing wrk")
    install = [*APT_GET, "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True, check=False).returncode:
        subprocess.run([*APT_GET, "update", "-q"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)


def machine() -> str:
    """CPU model and count, memory, kernel: where the figures come from."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((x.split(":", 1)[1].strip() for x in cpuinfo if "model name" in x), platform.processor())
    mem_gib = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    python = platform.python_version()
    return f"{os.cpu_count()} x {model}, {mem_gib:.0f} GiB RAM, Linux {platform.release()}, Python {python}"


def measure(config: Config, run_id: str, work: Path, procs: list[Process]) -> dict[str, Any]:
    """Every section in turn, each on its own database and topic."""
    base = base_settings()
    results: dict[str, Any] = {}
    users = make_users(config.users)
    with private_database(base, f"bench_{run_id}_lookups") as db:
        load_users(db, users)
        log.info("lookups over %d users", len(users))
        results["lookups"] = lookups.run(config, db, users, work, procs)
    records = make_users(config.records, seed=8)
    with private_topic(base, f"bench-{run_id}-ingest") as topic:
        started = time.monotonic()
        publish_users(topic, records)
        results["publish"] = {"records": len(records), "seconds": time.monotonic() - started}
        log.info("ingest of %d records", len(records))
        results["ingest"] = ingest.run(config, topic, records, run_id, work, procs)
        log.info("replay")
        results["replay"] = replay.run(topic, records, run_id, work, procs)
        log.info("peer sink")
        results["peer"] = peer.run(config, topic, records, run_id, work)
    log.info("freshness")
    results["freshness"] = freshness.run(config, base, run_id, work, procs)
    return results


def server_settings() -> str:
    """How ums-find and the hello ceiling were served (the tutorial: one process, same threads)."""
    settings = base_settings()
    return f"{settings.http.threads} waitress threads x {settings.http.workers} process(es)"


def peak_memory(procs: list[Process]) -> dict[str, float]:
    """The highest peak RSS seen per role (API per target, consumer)."""
    peaks: dict[str, float] = {}
    for proc in procs:
        peaks[proc.role] = max(peaks.get(proc.role, 0.0), proc.peak_rss_mb)
    return peaks


def main() -> None:
    """Measure, then print and write the results."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s", stream=sys.stderr)
    config = Config.from_env()
    ensure_wrk()
    run_id = suffix()
    work = config.out_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    procs: list[Process] = []
    started = datetime.now(UTC)
    results = measure(config, run_id, work, procs)
    results["memory_mb"] = peak_memory(procs)
    results["run"] = {
        "id": run_id,
        "quick": config.quick,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "command": ("BENCH_QUICK=1 " if config.quick else "") + "make bench",
        "machine": machine(),
        "server": server_settings(),
        "config": {k: str(v) for k, v in vars(config).items()},
        "out_dir": str(config.out_dir),
    }
    print(write(results, config.out_dir, config.docs))


if __name__ == "__main__":
    main()
