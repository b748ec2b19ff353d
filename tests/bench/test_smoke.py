"""The benchmark harness in its quick mode, end to end, so that it cannot rot unnoticed.

It asserts that every section produced figures, not what they are: the machine is shared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:  # type: ignore[type-arg]
    """One BENCH_QUICK run writing into a temporary folder and a copy of the docs page."""
    out = tmp_path_factory.mktemp("bench")
    docs = out / "docs" / "BENCHMARKS.md"
    docs.parent.mkdir()
    docs.write_text((ROOT / "docs" / "BENCHMARKS.md").read_text())
    env = dict(os.environ, BENCH_QUICK="1", BENCH_OUT=str(out / "results"), BENCH_DOCS=str(docs))
    done = subprocess.run(
        [sys.executable, "-m", "bench.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| lookups c=16, req/s |" in done.stdout
    return json.loads((out / "results" / "results.json").read_text()), docs


def test_every_lookup_target_answered(quick_run: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    lookups = quick_run[0]["lookups"]
    for target in ("ums-find", "tutorial", "hello"):
        figures = lookups[target]["16"]
        assert figures["rps"]["min"] > 0 and figures["socket_errors"] == 0, target
        assert figures["rounds"] == 2
    # 10% of the names asked for do not exist: both real services answer those 404.
    assert 0.05 < lookups["ums-find"]["16"]["non_2xx_share"] < 0.15
    assert 0.05 < lookups["tutorial"]["16"]["non_2xx_share"] < 0.15
    assert lookups["hello"]["16"]["non_2xx_share"] == 0


def test_ingest_freshness_and_memory_were_measured(quick_run: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    results = quick_run[0]
    for target in ("consumer", "bare-consume", "bare-upsert"):
        assert results["ingest"][target]["records_per_s"]["min"] > 0, target
    assert results["freshness"]["records"] > 0 and results["freshness"]["not_visible"] == 0
    assert results["freshness"]["p99_ms"] >= results["freshness"]["p50_ms"] > 0
    cpu = results["freshness"]["cpu_ms_per_record"]
    assert set(cpu) == {"consumer", "api", "broker", "database"}  # the stack runs on this machine
    assert all(0 < ms < 1000 for ms in cpu.values()), cpu
    assert results["memory_mb"]["api:ums-find"] > 0 and results["memory_mb"]["consumer"] > 0
    assert "available" in results["replay"] and "available" in results["peer"]


def test_chart_and_docs_were_written(quick_run: tuple[dict, Path]) -> None:  # type: ignore[type-arg]
    results, docs = quick_run
    out = Path(results["run"]["out_dir"])
    assert (out / "chart.png").read_bytes().startswith(b"\x89PNG")
    page = docs.read_text()
    assert results["table"] in page and "quick mode" in page
    assert (docs.parent / "benchmarks-chart.png").exists()
