"""While the database fails, one request at a time tries it; the others fail at once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ums_find.store.connection import DatabaseUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
COOLDOWN_S = 1.0  # after a failed trial, the next waits this long (a client's Retry-After)


class Breaker:
    """Keeps a database outage from pinning every serving thread.

    Each attempt in an outage may take a whole timeout (connect, read or write): with every
    thread trying, every thread would wait, `/healthz` included. After a failure, one call at a
    time (a trial), at most one a second, goes to the database; the others raise the last fault
    at once. The first success closes the breaker. The start and the end of an outage are
    logged once.
    """

    def __init__(self, cooldown_s: float = COOLDOWN_S) -> None:
        self._fault: DatabaseUnavailable | None = None
        self._trial = threading.Lock()
        self._cooldown_s = cooldown_s
        self._next_trial = 0.0

    @property
    def open(self) -> bool:
        """Whether the last attempt failed."""
        return self._fault is not None

    def call(self, attempt: Callable[[], T]) -> T:
        """Run `attempt`, or raise the last fault at once while another call is the trial."""
        fault = self._fault
        if fault is None:
            return self._observed(attempt)
        if time.monotonic() < self._next_trial or not self._trial.acquire(blocking=False):
            raise DatabaseUnavailable(str(fault), fault.reason) from fault
        try:
            return self._observed(attempt)
        finally:
            self._trial.release()

    def _observed(self, attempt: Callable[[], T]) -> T:
        try:
            result = attempt()
        except DatabaseUnavailable as exc:
            if self._fault is None or self._fault.reason != exc.reason:
                log.warning("database unavailable: %s", exc)
            self._fault = exc
            self._next_trial = time.monotonic() + self._cooldown_s
            raise
        if self._fault is not None:
            log.info("the database answers again")
            self._fault = None
        return result
