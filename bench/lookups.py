"""Lookups: wrk against ums-find, the tutorial's FindService and a hello route, alternating."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.common import UMS_FIND, Config, Process, free_port, http_status, running, settings_env, spread
from bench.data import Row, missing_names
from ums_find.settings import Settings

LUA = Path(__file__).with_name("lookup.lua")
TARGETS = ("ums-find", "tutorial", "hello")


def names_file(path: Path, users: list[Row], count: int = 20_000, hit_ratio: float = 0.9) -> Path:
    """Names to ask for: 90% existing, 10% missing, shuffled."""
    rng = random.Random(3)
    hits = int(count * hit_ratio)
    names = [row[0] for row in rng.choices(users, k=hits)] + missing_names(count - hits)
    rng.shuffle(names)
    path.write_text("\n".join(names) + "\n")
    return path


def command(target: str) -> list[str]:
    """How each target is started."""
    if target == "ums-find":
        return [UMS_FIND, "serve"]
    return [sys.executable, "-m", f"bench.baselines.{target}"]


def wrk(port: int, connections: int, seconds: int, names: Path) -> dict[str, Any]:
    """One wrk run (one thread); its summary with requests/s."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(LUA)]
    args += [f"http://127.0.0.1:{port}", "--", str(names)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def check_answers(target: str, port: int, users: list[Row]) -> None:
    """A known user is found and an unknown one is not, so every target does the same work."""
    found = http_status(f"http://127.0.0.1:{port}/user/{users[0][0]}")
    missing = http_status(f"http://127.0.0.1:{port}/user/{missing_names(1)[0]}")
    expected = (200, 200) if target == "hello" else (200, 404)
    if (found, missing) != expected:
        raise RuntimeError(f"{target} answered {(found, missing)}, expected {expected}")


def run(config: Config, db: Settings, users: list[Row], work: Path, procs: list[Process]) -> dict[str, Any]:
    """Every concurrency, `rounds` times each target in turn; min/median/max per figure."""
    from bench.common import wait_http

    names = names_file(work / "names.txt", users)
    raw: dict[str, dict[int, list[dict[str, Any]]]] = {
        t: {c: [] for c in config.concurrency} for t in TARGETS
    }
    with ExitStack() as stack:
        ports = {}
        for target in TARGETS:
            settings = db.override(http_port=free_port())
            env = settings_env(settings, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
            log = work / f"{target}.log"
            proc = stack.enter_context(running(command(target), env, log, procs, f"api:{target}"))
            wait_http(proc, f"http://127.0.0.1:{settings.http.port}/user/{users[0][0]}")
            check_answers(target, settings.http.port, users)
            ports[target] = settings.http.port
        for conns in config.concurrency:
            for _ in range(config.rounds):
                for target in TARGETS:
                    raw[target][conns].append(wrk(ports[target], conns, config.wrk_seconds, names))
    return summarise(raw)


def summarise(raw: dict[str, dict[int, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Per target and concurrency: rps, p50 and p99 as min/median/max, and error counts."""
    out: dict[str, Any] = {}
    for target, by_conns in raw.items():
        out[target] = {}
        for conns, runs in by_conns.items():
            out[target][str(conns)] = {
                "rps": spread([r["rps"] for r in runs]),
                "p50_ms": spread([r["p50_ms"] for r in runs]),
                "p99_ms": spread([r["p99_ms"] for r in runs]),
                "non_2xx_share": sum(r["non_2xx_3xx"] for r in runs)
                / max(1, sum(r["requests"] for r in runs)),
                "socket_errors": sum(r["socket_errors"] for r in runs),
                "rounds": len(runs),
            }
    return out
