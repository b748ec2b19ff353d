"""Where a record's publish-to-visible time goes: broker ack, the consumer's apply, the API's answer.

Each user gets four moments: `produce()` called, the broker's acknowledgement (the delivery
report), the row committed in the view (one poller asks the database directly for every
pending name), and the API's first `200`. The stages between them are histogrammed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.common import percentile
from ums_find.settings import Settings
from ums_find.store import connect

STAGES = ("ack", "apply", "visible")  # produce -> acked -> committed -> answered
EDGES_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
POLL_S = 0.005


class Stages:
    """Moments per name, filled from several threads (dict writes of distinct keys)."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self.applied: dict[str, float] = {}
        self.visible: dict[str, float] = {}

    def summary(self) -> dict[str, Any]:
        """Per stage: p50, p99, max and a histogram (counts of values up to each edge, in ms)."""
        moments = (self.sent, self.acked, self.applied, self.visible)
        out: dict[str, Any] = {}
        for stage, before, after in zip(STAGES, moments[:-1], moments[1:], strict=True):
            # The apply poller and the API pollers sample every 5 ms each: a stage can read as
            # slightly negative when the later moment's poller ran first; it counts as 0.
            ms = [max(0.0, after[n] - before[n]) * 1000 for n in after if n in before]
            out[stage] = {
                "p50_ms": percentile(ms, 50),
                "p99_ms": percentile(ms, 99),
                "max_ms": max(ms, default=float("nan")),
                "histogram": histogram(ms),
            }
        return out


def histogram(values_ms: list[float]) -> dict[str, int]:
    """Counts per bucket: `<=1`, `<=2`, ... and `>1000` ms."""
    counts = {f"<={edge}": 0 for edge in EDGES_MS}
    counts[f">{EDGES_MS[-1]}"] = 0
    for value in values_ms:
        key = next((f"<={e}" for e in EDGES_MS if value <= e), f">{EDGES_MS[-1]}")
        counts[key] += 1
    return counts


class ApplyWatch(threading.Thread):
    """Polls the view table for every published name not seen yet; records when it appears."""

    def __init__(self, settings: Settings, stages: Stages) -> None:
        super().__init__(daemon=True)
        self._settings = settings
        self._stages = stages
        self._done = threading.Event()

    def run(self) -> None:
        conn = connect(self._settings)
        try:
            while not self._done.wait(POLL_S):
                pending = [n for n in list(self._stages.sent) if n not in self._stages.applied]
                if pending:
                    self._poll(conn, pending[:1000])
        finally:
            conn.close()

    def _poll(self, conn: Any, pending: list[str]) -> None:
        cur = conn.cursor()
        marks = ", ".join(["%s"] * len(pending))
        cur.execute(f"SELECT name FROM ums_users WHERE name IN ({marks})", pending)
        now = time.monotonic()
        for (name,) in cur.fetchall():
            self._stages.applied.setdefault(name, now)
        cur.close()

    def stop(self) -> None:
        """Finish after the current poll."""
        self._done.set()
        self.join(10)
