"""The lookups section under several thread counts and worker counts, each ratio from its own runs.

Run: python -m bench.sweep [--threads 4,8,16] [--workers 1,2] (BENCH_QUICK=1: small sizes).
Every setting starts ums-find, the tutorial and the hello ceiling with the same
UMS_HTTP_THREADS / UMS_HTTP_WORKERS, so each ratio compares runs of one setting.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench import lookups
from bench.common import Config, Process, base_settings, suffix
from bench.data import load_users, make_users, private_database


def main() -> None:
    """One lookups section per (threads, workers); prints c=16 rps, hello's and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", default="4,8,16")
    parser.add_argument("--workers", default="1")
    opts = parser.parse_args()
    config = Config.from_env()
    work = config.out_dir / "sweep"
    work.mkdir(parents=True, exist_ok=True)
    users = make_users(config.users)
    print("| threads x workers | ums-find req/s | hello req/s | share of hello | p99 ms (ums-find / hello) |")
    print("| --- | ---: | ---: | ---: | --- |")
    with private_database(base_settings(), f"bench_{suffix()}_sweep") as db:
        load_users(db, users)
        for workers in opts.workers.split(","):
            for threads in opts.threads.split(","):
                os.environ.update(UMS_HTTP_THREADS=threads, UMS_HTTP_WORKERS=workers)
                own = db.override(http_threads=int(threads), http_workers=int(workers))
                procs: list[Process] = []
                result = lookups.run(config, own, users, Path(work), procs)
                ours, hello = result["ums-find"]["16"], result["hello"]["16"]
                share = ours["rps"]["median"] / hello["rps"]["median"]
                print(
                    f"| {threads} x {workers} | {ours['rps']['median']:,.0f} | {hello['rps']['median']:,.0f} "
                    f"| {share:.0%} | {ours['p99_ms']['median']:.1f} / {hello['p99_ms']['median']:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
