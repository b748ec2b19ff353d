"""Read-your-writes: position tokens, and one shared poller that wakes requests waiting on a checkpoint."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from ums_find.store import DatabaseUnavailable

log = logging.getLogger(__name__)
_TOKEN = re.compile(r"([0-9]{1,9}):([0-9]{1,18})")


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


class CheckpointWaiter:
    """Requests wait on a condition; one thread reads the checkpoints only while anyone waits."""

    def __init__(self, read: Callable[[], dict[int, int]], poll_s: float) -> None:
        self._read = read
        self._poll_s = poll_s
        self._cond = threading.Condition()
        self._latest: dict[int, int] = {}
        self._waiting = 0
        self._thread: threading.Thread | None = None

    @property
    def waiting(self) -> int:
        """How many requests wait now."""
        return self._waiting

    def wait_for(self, token: Token, timeout_s: float) -> bool:
        """Block until the checkpoints pass the token, at most `timeout_s`; whether they did."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._waiting += 1
            self._start()
            self._cond.notify_all()
            try:
                while not token.applied(self._latest):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._waiting -= 1

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="checkpoint-poller", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._waiting == 0:
                    self._cond.wait()
            self._poll_once()
            time.sleep(self._poll_s)

    def _poll_once(self) -> None:
        try:
            latest = self._read()
        except DatabaseUnavailable as exc:
            log.warning("reading checkpoints failed: %s", exc)
            return
        except Exception:
            log.exception("reading checkpoints failed")
            return
        with self._cond:
            self._latest = latest
            self._cond.notify_all()
