"""Replay progress: a bar on a terminal, periodic log lines elsewhere."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TextIO

log = logging.getLogger(__name__)


def describe(
    done: int, total: int, elapsed_s: float, positions: Mapping[int, int], ends: Mapping[int, int]
) -> str:
    """One line: share done, records, rate, ETA, and each partition's position."""
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    share = f"{100 * done / total:3.0f}%" if total else "100%"
    eta = f"{(total - done) / rate:.0f} s" if rate > 0 and total >= done else "?"
    parts = " ".join(f"p{p}:{positions.get(p, 0)}/{ends[p]}" for p in sorted(ends)[:8])
    more = " ..." if len(ends) > 8 else ""
    return f"{share} {done:,}/{total:,} records, {rate:,.0f} records/s, ETA {eta}  {parts}{more}"


def bar(share: float, width: int = 24) -> str:
    """A text bar, `[#####-----]`."""
    filled = max(0, min(width, round(share * width)))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


class Progress:
    """Shows how far a replay has read, against the end offsets seen when it started."""

    def __init__(
        self, starts: Mapping[int, int], ends: Mapping[int, int], stream: TextIO, *, interval_s: float = 5.0
    ) -> None:
        self._starts, self._ends = dict(starts), dict(ends)
        self._total = sum(max(0, ends[p] - starts.get(p, 0)) for p in ends)
        self._stream = stream
        self._tty = stream.isatty()
        self._interval_s = 0.2 if self._tty else interval_s
        self._started = self._shown = time.monotonic()
        self._line_open = False

    def update(self, positions: Mapping[int, int], *, force: bool = False) -> None:
        """Show the positions if a while has passed since the last time (or if forced)."""
        now = time.monotonic()
        if not force and now - self._shown < self._interval_s:
            return
        self._shown = now
        done = sum(
            max(0, min(positions.get(p, 0), end) - self._starts.get(p, 0)) for p, end in self._ends.items()
        )
        line = describe(done, self._total, now - self._started, positions, self._ends)
        if self._tty:
            share = done / self._total if self._total else 1.0
            self._stream.write(f"\r\x1b[2Kreplay {bar(share)} {line}")
            self._stream.flush()
            self._line_open = True
        else:
            log.info("replay %s", line)

    def close(self) -> None:
        """End the bar's line on a terminal, so that log lines do not run into it."""
        if self._line_open:
            self._stream.write("\n")
            self._stream.flush()
            self._line_open = False
