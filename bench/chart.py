"""The PNG chart: lookups, latency and ingest, each target beside its baselines (median, min-max bars)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _bars(ax: Any, labels: list[str], series: dict[str, list[dict[str, float]]], title: str) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, spreads) in enumerate(series.items()):
        xs = [x + i * width for x in range(len(labels))]
        med = [s["median"] for s in spreads]
        err = [
            [m - s["min"] for m, s in zip(med, spreads, strict=True)],
            [s["max"] - m for m, s in zip(med, spreads, strict=True)],
        ]
        ax.bar(xs, med, width, yerr=err, capsize=3, label=name)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))], labels)
    ax.set_title(title)
    ax.legend(fontsize=8)


def draw(results: dict[str, Any], path: Path) -> None:
    """Write the chart to `path`."""
    lk, ing = results["lookups"], results["ingest"]
    conns = list(lk["ums-find"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    labels = [f"c={c}" for c in conns]
    _bars(axes[0], labels, {t: [lk[t][c]["rps"] for c in conns] for t in lk}, "lookups, requests/s")
    _bars(axes[1], labels, {t: [lk[t][c]["p99_ms"] for c in conns] for t in lk}, "lookups, p99 latency ms")
    _bars(axes[2], ["records/s"], {t: [ing[t]["records_per_s"]] for t in ing}, "ingest")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
