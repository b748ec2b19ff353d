"""Which server a process reads from: replica lag measured on checkpoints, moves that never go back.

Rows and checkpoints are written in one transaction, so a server whose checkpoints cover a set
of positions holds every row written up to them. That makes positions both the lag measure
(no `SHOW SLAVE STATUS`, which the API's read-only account may not run) and the test that a
move between servers keeps positions monotonic.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Positions = dict[int, int]


def covers(positions: Positions, other: Positions) -> bool:
    """True when `positions` are at or past `other` on every partition `other` names."""
    return all(positions.get(part, 0) >= offset for part, offset in other.items())


def highest(*many: Positions) -> Positions:
    """The partition-wise maximum: what a server must cover to cover each of them."""
    merged: Positions = {}
    for positions in many:
        for part, offset in positions.items():
            merged[part] = max(merged.get(part, 0), offset)
    return merged


@dataclass
class _Seen:
    positions: Positions
    last_at: float  # the last poll that found the primary still at these positions


class LagClock:
    """The primary's recent positions, to tell how far behind a replica's positions are.

    A replica that covers the primary's latest positions lags 0 s. Otherwise the primary moved
    past the newest positions the replica covers some time after it was last seen there: the
    lag is at most now minus that time, which is the (conservative) figure given.
    """

    def __init__(self, window_s: float, now: Callable[[], float] = time.monotonic) -> None:
        self._window_s = window_s
        self._now = now
        self._seen: deque[_Seen] = deque()

    def primary(self, positions: Positions) -> None:
        """Record the primary's positions as of now."""
        now = self._now()
        if self._seen and self._seen[-1].positions == positions:
            self._seen[-1].last_at = now
        else:
            self._seen.append(_Seen(dict(positions), now))
        # One entry older than the window is kept: what lags past it is inf, well over any bound.
        while len(self._seen) > 1 and self._seen[1].last_at < now - 2 * self._window_s:
            self._seen.popleft()

    def lag_s(self, replica: Positions) -> float:
        """Seconds the replica may be missing primary writes for (0: none; inf: too far behind)."""
        if self._seen and covers(replica, self._seen[-1].positions):
            return 0.0
        for seen in reversed(self._seen):
            if covers(replica, seen.positions):
                return max(0.0, self._now() - seen.last_at)
        return float("inf")


def choose(
    candidates: Sequence[int],
    positions: dict[int, Positions],
    lags: dict[int, float],
    need: Positions,
    max_lag_s: float,
) -> int | None:
    """The first candidate that answered, lags within the bound and covers `need`; None: the primary."""
    for index in candidates:
        seen = positions.get(index)
        if seen is not None and lags.get(index, float("inf")) <= max_lag_s and covers(seen, need):
            return index
    return None
