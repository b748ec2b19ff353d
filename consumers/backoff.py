"""Exponential backoff with full jitter, bounded in total time, logging each state change once."""

from __future__ import annotations

import logging
import random
import time

log = logging.getLogger(__name__)


class RetryBudgetExceeded(Exception):
    """A fault outlasted the configured bound; restart from the checkpoint."""


class Backoff:
    """Delays for one fault's retries, and the bound past which we give up."""

    def __init__(self, limit_s: float, base_s: float = 0.1, cap_s: float = 5.0) -> None:
        self._limit_s, self._base_s, self._cap_s = limit_s, base_s, cap_s
        self._started: float | None = None
        self._attempt = 0

    @property
    def active(self) -> bool:
        """Whether a fault is being retried."""
        return self._started is not None

    def next_delay(self, reason: str) -> float:
        """Seconds to wait before the next try; raise once the fault is too old."""
        now = time.monotonic()
        if self._started is None:
            self._started = now
            log.warning("pausing: %s", reason)
        elif now - self._started > self._limit_s:
            raise RetryBudgetExceeded(f"gave up after {now - self._started:.0f} s: {reason}")
        else:
            log.debug("still failing: %s", reason)
        self._attempt += 1
        return random.uniform(0, min(self._cap_s, self._base_s * 2 ** min(self._attempt, 30)))

    def reset(self) -> None:
        """The fault is over."""
        if self._started is not None:
            log.warning("resuming after %.1f s", time.monotonic() - self._started)
        self._started, self._attempt = None, 0
