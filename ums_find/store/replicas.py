"""The API's reads spread over read replicas, with read-your-writes and monotonic positions kept.

One server serves a process at a time; its position poller chooses it on every poll (see
`replica_choice`). It only moves to a server whose checkpoints cover the last positions the
process reported and those that `?after=` requests wait for, and the primary always does, so
the positions a process answers with (and so those any client connection sees) never go back.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
from collections.abc import Callable

from ums_find.settings import MySQLSettings
from ums_find.store.checkpoints import Scope
from ums_find.store.connection import DatabaseUnavailable
from ums_find.store.reader import Counter, UserReader, UserRecord
from ums_find.store.replica_choice import LagClock, Positions, choose, highest

log = logging.getLogger(__name__)
PRIMARY = "primary"
Server = tuple[str, UserReader]  # its label (PRIMARY, or a replica's host:port) and its reader


def _no_wait() -> Positions:
    return {}


def _not_counted(_server: str) -> None:
    return None


class ReplicaReader:
    """A UserReader's interface over the primary and its read replicas.

    `wanted` gives the positions requests wait for (`?after=`); `on_read` is told which server
    answered each lookup (a metric).
    """

    def __init__(
        self,
        mysql: MySQLSettings,
        scope: Scope,
        timeout_s: int,
        in_use: Counter | None = None,
        on_read: Callable[[str], None] = _not_counted,
    ) -> None:
        self._primary: Server = (PRIMARY, UserReader(mysql, scope, timeout_s, in_use=in_use))
        self._replicas: list[Server] = [
            (
                f"{host}:{port}",
                UserReader(dataclasses.replace(mysql, host=host, port=port), scope, timeout_s, in_use=in_use),
            )
            for host, port in mysql.read_endpoints
        ]
        # Spread processes over the replicas: each starts its preference list at a random one.
        count = len(self._replicas)
        start = random.randrange(count) if count else 0
        self._order = [(start + i) % count for i in range(count)]
        self._max_lag_s = mysql.read_max_lag_s
        self._clock = LagClock(self._max_lag_s)
        self._serving = self._primary
        self._last: Positions = {}
        self._lock = threading.Lock()
        self.wanted: Callable[[], Positions] = _no_wait
        self._on_read = on_read

    @property
    def open_connections(self) -> int:
        """Connections open to all servers."""
        return sum(reader.open_connections for _, reader in [self._primary, *self._replicas])

    @property
    def serving(self) -> str:
        """Which server answers now: "primary" or a replica's host:port."""
        return self._serving[0]

    def positions(self) -> Positions:
        """Poll every server, choose the one to serve from, and return its positions."""
        primary, fault = self._primary_positions()
        seen = self._replica_positions()
        lags = {index: self._clock.lag_s(positions) for index, positions in seen.items()}
        need = highest(self._last, self.wanted())
        chosen = choose(self._order, seen, lags, need, self._max_lag_s)
        if chosen is None and primary is None:
            # The primary is down: a replica that keeps positions monotonic beats a 503.
            chosen = choose(self._order, seen, lags, self._last, self._max_lag_s)
            if chosen is None:
                raise DatabaseUnavailable(str(fault), getattr(fault, "reason", str(fault))) from fault
        if chosen is None:
            return self._serve(self._primary, primary or {})
        return self._serve(self._replicas[chosen], seen[chosen])

    def fetch(self, name: str) -> UserRecord | None:
        """Look `name` up on the serving server; on the primary when that replica fails."""
        label, reader = self._serving
        if label != PRIMARY:
            try:
                found = reader.fetch(name)
            except DatabaseUnavailable as exc:
                self._fall_back((label, reader), exc)
            else:
                self._on_read(label)
                return found
        found = self._primary[1].fetch(name)
        self._on_read(PRIMARY)
        return found

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the primary, or failing it the serving replica, answers."""
        try:
            self._primary[1].ping()
        except DatabaseUnavailable:
            label, reader = self._serving
            if label == PRIMARY:
                raise
            reader.ping()

    def _primary_positions(self) -> tuple[Positions | None, DatabaseUnavailable | None]:
        try:
            positions = self._primary[1].positions()
        except DatabaseUnavailable as exc:
            return None, exc
        self._clock.primary(positions)
        return positions, None

    def _replica_positions(self) -> dict[int, Positions]:
        seen: dict[int, Positions] = {}
        for index, (_, reader) in enumerate(self._replicas):
            try:
                seen[index] = reader.positions()
            except DatabaseUnavailable:
                continue  # its breaker logs the outage once
        return seen

    def _serve(self, server: Server, positions: Positions) -> Positions:
        with self._lock:
            if server is not self._serving:
                log.info("lookups move from %s to %s", self._serving[0], server[0])
            self._serving, self._last = server, positions
            return dict(positions)

    def _fall_back(self, failed: Server, exc: DatabaseUnavailable) -> None:
        # Until the next poll chooses again: the primary covers whatever the replica had shown.
        with self._lock:
            if self._serving is failed:
                log.warning("replica %s failed (%s): lookups move to the primary", failed[0], exc)
                self._serving = self._primary


def api_reader(
    mysql: MySQLSettings,
    scope: Scope,
    timeout_s: int,
    in_use: Counter | None = None,
    on_read: Callable[[str], None] = _not_counted,
) -> UserReader | ReplicaReader:
    """The API's reader: over the read replicas when UMS_MYSQL_READ_HOSTS names any."""
    if mysql.read_hosts:
        return ReplicaReader(mysql, scope, timeout_s, in_use, on_read)
    return UserReader(mysql, scope, timeout_s, in_use=in_use)
