"""The API's reads spread over read replicas, with read-your-writes and monotonic positions kept.

Lag is measured on the view itself, not with `SHOW SLAVE STATUS` (the API's account is
read-only): rows and checkpoints are written in one transaction, so a replica whose checkpoints
cover the primary's checkpoints as they were at time t holds every row written up to t. Its lag
is now - t for the newest such t.

One server serves a process at a time; the position poller chooses it. It only moves to a
server whose checkpoints cover the last positions it reported (the primary always does), so
the positions a process answers with, and so those any client connection sees, never go back.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from ums_find.settings import MySQLSettings
from ums_find.store.checkpoints import Scope
from ums_find.store.connection import DatabaseUnavailable
from ums_find.store.reader import Counter, UserReader, UserRecord

Positions = dict[int, int]


def covers(positions: Positions, other: Positions) -> bool:
    """True when `positions` are at or past `other` on every partition `other` names."""
    return all(positions.get(part, 0) >= offset for part, offset in other.items())


class LagClock:
    """The primary's recent positions, to tell how far behind a replica's positions are."""

    def __init__(self, window_s: float, now: Callable[[], float] = time.monotonic) -> None:
        self._window_s = window_s
        self._now = now
        self._seen: deque[tuple[float, Positions]] = deque()

    def primary(self, positions: Positions) -> None:
        """Record the primary's positions as of now."""
        now = self._now()
        self._seen.append((now, positions))
        while len(self._seen) > 1 and self._seen[0][0] < now - 2 * self._window_s:
            self._seen.popleft()

    def lag_s(self, replica: Positions) -> float:
        """Seconds since the newest primary positions the replica covers (inf: none seen)."""
        for at, positions in reversed(self._seen):
            if covers(replica, positions):
                return max(0.0, self._now() - at)
        return float("inf")


def choose(
    candidates: Sequence[int],
    positions: dict[int, Positions],
    lags: dict[int, float],
    last: Positions,
    max_lag_s: float,
) -> int | None:
    """The first candidate that answered, lags within bound and covers the last reported positions."""
    for index in candidates:
        seen = positions.get(index)
        if seen is not None and lags.get(index, float("inf")) <= max_lag_s and covers(seen, last):
            return index
    return None


class ReplicaReader:
    """A UserReader's interface over the primary and its read replicas."""

    def __init__(
        self, mysql: MySQLSettings, scope: Scope, timeout_s: int, in_use: Counter | None = None
    ) -> None:
        endpoints = mysql.read_endpoints
        self._primary = UserReader(mysql, scope, timeout_s, in_use=in_use)
        self._replicas = [
            UserReader(dataclasses.replace(mysql, host=host, port=port), scope, timeout_s, in_use=in_use)
            for host, port in endpoints
        ]
        # Spread processes over the replicas: each starts its preference list at a random one.
        start = random.randrange(len(endpoints)) if endpoints else 0
        self._order = [(start + i) % len(endpoints) for i in range(len(endpoints))]
        self._max_lag_s = mysql.read_max_lag_s
        self._clock = LagClock(self._max_lag_s)
        self._serving: UserReader = self._primary
        self._last: Positions = {}
        self._lock = threading.Lock()

    @property
    def open_connections(self) -> int:
        """Connections open to all servers."""
        return sum(r.open_connections for r in [self._primary, *self._replicas])

    @property
    def serving(self) -> str:
        """Which server answers now: "primary" or "replica <n>" (n from 0, in setting order)."""
        serving = self._serving
        return "primary" if serving is self._primary else f"replica {self._replicas.index(serving)}"

    def positions(self) -> Positions:
        """Poll every server, choose the one to serve from, and return its positions."""
        primary = self._primary.positions()
        self._clock.primary(primary)
        seen: dict[int, Positions] = {}
        for index, replica in enumerate(self._replicas):
            try:
                seen[index] = replica.positions()
            except DatabaseUnavailable:
                continue
        lags = {index: self._clock.lag_s(p) for index, p in seen.items()}
        chosen = choose(self._order, seen, lags, self._last, self._max_lag_s)
        with self._lock:
            self._serving = self._primary if chosen is None else self._replicas[chosen]
            self._last = primary if chosen is None else seen[chosen]
            return dict(self._last)

    def fetch(self, name: str) -> UserRecord | None:
        """Look `name` up on the serving server; on the primary when that replica fails."""
        serving = self._serving
        if serving is self._primary:
            return serving.fetch(name)
        try:
            return serving.fetch(name)
        except DatabaseUnavailable:
            with self._lock:
                if self._serving is serving:
                    self._serving = self._primary
            return self._primary.fetch(name)

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the primary answers (it is the one fallback)."""
        self._primary.ping()


def api_reader(
    mysql: MySQLSettings, scope: Scope, timeout_s: int, in_use: Counter | None = None
) -> UserReader | ReplicaReader:
    """The API's reader: over the read replicas when UMS_MYSQL_READ_HOSTS names any."""
    if mysql.read_hosts:
        return ReplicaReader(mysql, scope, timeout_s, in_use=in_use)
    return UserReader(mysql, scope, timeout_s, in_use=in_use)
