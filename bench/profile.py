"""Profiles of the consumer ingesting, a replay, and the API under lookups, with py-spy.

Run: python -m bench.profile [--label before] [--records N] [--users N] [--seconds S].
Writes <out>/profiles/<label>/<part>.raw (collapsed stacks), <part>.svg (py-spy's flame
graph, from a second sampler attached at the same time) and top.json (the top frames with
their shares), then prints those shares.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import frames
from bench.common import (
    UMS_FIND,
    Config,
    Process,
    free_port,
    running,
    settings_env,
    suffix,
    wait_http,
    wait_until,
)
from bench.data import load_users, make_users, private_database, private_topic, publish_users
from bench.ingest import applied
from bench.lookups import names_file, wrk
from ums_find.settings import Settings

PY_SPY = str(Path(sys.executable).with_name("py-spy"))
# Aggregated by function, child processes followed (UMS_HTTP_WORKERS > 1), idle threads left
# out; --nonblocking because two samplers watch each process (one per output format), and two
# that each paused it a hundred times a second would slow it more than one.
SPY_ARGS = ("--function", "--subprocesses", "--rate", "100", "--nonblocking")
Spies = list[subprocess.Popen[bytes]]


def spy(pid: int, raw: Path, duration_s: float | None = None) -> Spies:
    """py-spy attached to a running process twice: collapsed stacks to `raw`, a flame graph beside."""
    outputs = (("raw", raw), ("flamegraph", raw.with_suffix(".svg")))
    extra = [] if duration_s is None else ["--duration", str(int(duration_s))]
    return [
        subprocess.Popen(
            [PY_SPY, "record", *SPY_ARGS, "--format", kind, "--pid", str(pid), "--output", str(path), *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for kind, path in outputs
    ]


def stop_spy(spies: Spies) -> None:
    """Interrupt py-spy (it writes its file on SIGINT) and wait for it."""
    for proc in spies:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in spies:
        proc.wait(60)


def lookups(base: Settings, users: int, seconds: int, out: Path, work: Path, procs: list[Process]) -> Path:
    """`ums-find serve` sampled while wrk -c16 asks for random names (90% existing)."""
    rows = make_users(users)
    raw = out / "lookups.raw"
    with private_database(base, f"bench_{suffix()}_prof_api") as db:
        load_users(db, rows)
        settings = db.override(http_port=free_port())
        with running(
            [UMS_FIND, "serve"], settings_env(settings), work / "prof-serve.log", procs, "api"
        ) as api:
            wait_http(api, f"http://127.0.0.1:{settings.http.port}/readyz")
            wrk(settings.http.port, 16, 2, names_file(work / "prof-names.txt", rows))  # warm-up
            samplers = spy(api.popen.pid, raw, seconds)
            wrk(settings.http.port, 16, seconds, work / "prof-names.txt")
            for sampler in samplers:
                sampler.wait(seconds + 60)
    return raw


def ingest_and_replay(
    base: Settings, records: int, out: Path, work: Path, procs: list[Process]
) -> list[Path]:
    """`ums-find consume` sampled from its start until every record is applied, then a replay."""
    tag = suffix()
    with (
        private_topic(base, f"bench-{tag}-prof") as topic,
        private_database(topic, f"bench_{tag}_prof") as db,
    ):
        publish_users(topic, make_users(records, seed=8))
        own = db.override(group_id=f"bench-{tag}-prof", consumer_name=f"bench-{tag}-prof")
        env = settings_env(own)
        raw_ingest, raw_replay = out / "ingest.raw", out / "replay.raw"
        with running([UMS_FIND, "consume"], env, work / "prof-consume.log", procs, "consumer") as proc:
            samplers = spy(proc.popen.pid, raw_ingest)
            wait_until(lambda: applied(own) >= records, 120 + records / 2000, "the consumer to apply all")
            stop_spy(samplers)
        with (work / "prof-replay.log").open("w") as log:
            replay = subprocess.Popen([UMS_FIND, "replay"], env=env, stdout=log, stderr=subprocess.STDOUT)
            samplers = spy(replay.pid, raw_replay)  # from just after its start: the start-up is not the cost
            assert replay.wait(600) == 0, f"replay failed: see {work / 'prof-replay.log'}"
            stop_spy(samplers)
    return [raw_ingest, raw_replay]


def main() -> None:
    """Profile each part; write the raw stacks, the flame graphs and the top frames."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--label", default="profile")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--parts", default="lookups,ingest")
    opts = parser.parse_args()
    config = Config.from_env()
    out = config.out_dir / "profiles" / opts.label
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    base, procs = Settings.from_env(), list[Process]()
    raws: list[Path] = []
    if "lookups" in opts.parts:
        raws.append(lookups(base, opts.users, opts.seconds, out, work, procs))
    if "ingest" in opts.parts:
        raws += ingest_and_replay(base, opts.records, out, work, procs)
    tops: dict[str, Any] = {raw.stem: frames.render(raw) for raw in raws}
    (out / "top.json").write_text(json.dumps(tops, indent=1))
    for part, top in tops.items():
        print(f"== {part}")
        for kind in ("inclusive", "self"):
            print(f"  {kind}:")
            for frame, share in top[kind]:
                print(f"    {100 * share:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
