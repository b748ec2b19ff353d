"""Read-your-writes: position tokens, and one shared poller that wakes requests waiting on a checkpoint."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

log = logging.getLogger(__name__)
# Partitions canonical (no leading zero), so that the OpenAPI document can list the valid ones.
_TOKEN = re.compile(r"(0|[1-9][0-9]{0,8}):([0-9]{1,18})")


class InvalidToken(ValueError):
    """A position token is not `<partition>:<offset>`."""


class Token(NamedTuple):
    """The position of one record on the topic."""

    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> Token:
        """`<partition>:<offset>`, both decimal; raise InvalidToken otherwise."""
        match = _TOKEN.fullmatch(text)
        if match is None:
            raise InvalidToken("after must be <partition>:<offset>, e.g. 1:42")
        return cls(int(match[1]), int(match[2]))

    def applied(self, positions: dict[int, int]) -> bool:
        """Whether a view at these next offsets holds this record's effect."""
        return positions.get(self.partition, 0) > self.offset


class PositionWatch:
    """The view's checkpoints, read by one background thread: often while requests wait, else slowly.

    A lookup takes the snapshot before it reads the row, so the snapshot is a lower bound of what
    the row's read saw: a token the snapshot has passed is in the answer. Requests thus do no
    database work for positions, and waiting requests use no database connection.
    """

    def __init__(self, read: Callable[[], dict[int, int]], idle_s: float, busy_s: float) -> None:
        self._read = read
        self._idle_s = idle_s
        self._busy_s = busy_s
        self._cond = threading.Condition()
        self._latest: dict[int, int] | None = None
        self._waiting = 0
        self._awaited: list[Token] = []
        self._thread: threading.Thread | None = None
        self._failing = False
        self._read_at = math.nan  # monotonic time of the last successful read

    @property
    def age_s(self) -> float:
        """Seconds since the snapshot was read (NaN before the first read)."""
        return time.monotonic() - self._read_at

    @property
    def waiting(self) -> int:
        """How many requests wait now."""
        return self._waiting

    def wanted(self) -> dict[int, int]:
        """The positions that would release every waiting request (a reader may prefer a server with them)."""
        with self._cond:
            awaited = list(self._awaited)
        wanted: dict[int, int] = {}
        for token in awaited:
            wanted[token.partition] = max(wanted.get(token.partition, 0), token.offset + 1)
        return wanted

    def current(self) -> dict[int, int] | None:
        """The latest snapshot (read now if there is none yet); None while it cannot be read."""
        self._start()
        if self._latest is None:
            self._poll_once()
        return self._latest

    def wait_for(self, token: Token, timeout_s: float, max_waiting: int) -> bool:
        """Block until the checkpoints pass the token, at most `timeout_s`; whether they did.

        With `max_waiting` requests waiting already, answer at once: waits hold serving threads,
        and plain lookups must always find one free.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            if self._waiting >= max_waiting:
                return token.applied(self._latest or {})
            self._waiting += 1
            self._awaited.append(token)
            self._start()
            self._cond.notify_all()  # the poller may be sleeping its idle interval
            try:
                while not token.applied(self._latest or {}):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._waiting -= 1
                self._awaited.remove(token)

    def _start(self) -> None:
        if self._thread is None:
            with self._cond:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="positions", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            self._poll_once()
            with self._cond:
                if self._waiting:
                    pause = self._busy_s
                else:
                    self._cond.wait(self._idle_s)
                    continue
            time.sleep(pause)

    def _poll_once(self) -> None:
        try:
            latest = self._read()
        except Exception as exc:  # noqa: BLE001 - the poller must outlive any fault; lookups report it
            # Log the first failure of a run only: the poller may try many times a second.
            level = logging.DEBUG if self._failing else logging.WARNING
            log.log(level, "reading checkpoints failed: %s", exc)
            self._failing = True
            return
        self._failing = False
        with self._cond:
            self._latest = latest
            self._read_at = time.monotonic()
            self._cond.notify_all()
