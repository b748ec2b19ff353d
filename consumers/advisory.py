"""The group's committed offsets: for lag tools only, since the checkpoints in MySQL are the truth."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Container, Iterable

from consumers.ports import RecordSource
from ums_find.kafka import TopicPartition
from ums_find.store import Position

log = logging.getLogger(__name__)

# A commit per batch cost the broker more CPU than the records themselves at 200 one-record
# batches a second (1.2 ms a commit, measured): lag tools can take offsets a second behind.
EVERY_S = 1.0


class AdvisoryCommits:
    """Commits the applied positions at most once every `every_s`, and whenever the loop goes idle."""

    def __init__(
        self,
        consumer: RecordSource,
        topic: str,
        every_s: float = EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer, self._topic = consumer, topic
        self._every_s, self._clock = every_s, clock
        self._pending: dict[int, int] = {}
        self._last = float("-inf")

    def note(self, positions: Iterable[Position], owned: Container[int]) -> None:
        """Remember where a batch left its partitions; commit if the last commit is old enough."""
        for position in positions:
            self._pending[position.partition] = position.next_offset
        if self._clock() - self._last >= self._every_s:
            self.flush(owned)

    def flush(self, owned: Container[int]) -> None:
        """Commit what is pending for the partitions still `owned` (a revoked one is its new owner's)."""
        pending, self._pending = self._pending, {}
        offsets = [TopicPartition(self._topic, p, o) for p, o in sorted(pending.items()) if p in owned]
        if not offsets:
            return
        self._last = self._clock()
        try:
            self._consumer.commit(offsets=offsets, asynchronous=True)
        except Exception as exc:  # noqa: BLE001 - these offsets only inform lag tools
            log.debug("advisory commit failed: %s", exc)
