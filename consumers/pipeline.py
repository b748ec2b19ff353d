"""A store that writes in a thread of its own, so parsing the next batch overlaps the database."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Sequence

from consumers.backoff import Backoff
from ums_find.store import Change, DatabaseUnavailable, Position
from ums_find.store.projection import ProjectionStore

log = logging.getLogger(__name__)

Batch = tuple[Sequence[Change], Sequence[Position]]


class WriterFailed(Exception):
    """A queued batch could not be written; the replay cannot go on."""


class PipelinedStore:
    """A projection writer that queues each batch for a thread applying them in order, retrying faults.

    It wraps a ProjectionStore rather than being one: its `apply` returns before the batch is
    durable. Only for a writer nobody else writes beside (a side table): a batch counts as
    written when queued, and a failure surfaces on a later call, ending the run.
    """

    def __init__(self, store: ProjectionStore, retry_limit_s: float, depth: int = 2) -> None:
        self._store = store
        self._retry_limit_s = retry_limit_s
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=depth)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._write_all, name="side-writer", daemon=True)
        self._thread.start()

    def load_positions(self, partitions: Iterable[int]) -> dict[int, int | None]:
        """The stored checkpoints, once every queued batch is written (the writer is idle then)."""
        self.flush()
        return self._store.load_positions(partitions)

    def apply(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        """Queue the batch (waiting while the queue is full)."""
        self._raise_failure()
        while True:
            try:
                self._queue.put((list(changes), list(positions)), timeout=0.5)
                return
            except queue.Full:
                self._raise_failure()

    def flush(self) -> None:
        """Wait until every queued batch is written."""
        while self._queue.unfinished_tasks and self._failure is None:
            time.sleep(0.01)
        self._raise_failure()

    def close(self) -> None:
        """Stop the writer once the queue is drained, then drop the connection."""
        if self._thread.is_alive():
            if self._failure is None:
                self._queue.put(None)
            self._thread.join(60)
        self._store.close()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise WriterFailed(f"writing the side table failed: {self._failure}") from self._failure

    def _write_all(self) -> None:
        while (batch := self._queue.get()) is not None:
            try:
                self._write(*batch)
            except BaseException as exc:  # noqa: BLE001 - handed over to the reading thread
                self._failure = exc
                return
            finally:
                self._queue.task_done()

    def _write(self, changes: Sequence[Change], positions: Sequence[Position]) -> None:
        backoff = Backoff(self._retry_limit_s)
        while True:
            try:
                self._store.apply(changes, positions)
                return
            except DatabaseUnavailable as exc:
                time.sleep(backoff.next_delay(str(exc)))
