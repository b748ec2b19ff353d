"""The topic's partition count, read from Kafka's metadata in the background and refreshed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ums_find.http.partitioner import partition_for
from ums_find.kafka.refusal import KafkaRefused
from ums_find.settings import KafkaSettings

log = logging.getLogger(__name__)
NUDGE_MIN_S = 1.0  # the least time between two reads that requests asked for


def kafka_partition_count(settings: KafkaSettings) -> Callable[[], int | None]:
    """A reader of the topic's partition count from the broker's metadata (None when unknown)."""
    from ums_find import kafka

    client = kafka.admin(settings)

    def read() -> int | None:
        try:
            return len(kafka.partitions(client, settings.topic, 5.0))
        except LookupError:
            return None

    return read


class PartitionMap:
    """Maps a name to its partition once the partition count is known (refreshed every so often)."""

    def __init__(self, read: Callable[[], int | None], refresh_s: float) -> None:
        self._read = read
        self._refresh_s = refresh_s
        self.count: int | None = None
        self.refused: str | None = None  # what the broker refused (password, certificate), if it did
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._warned = False

    def start(self) -> PartitionMap:
        """Read the count now and every `refresh_s` from a daemon thread; returns self."""
        threading.Thread(target=self._run, name="partition-count", daemon=True).start()
        return self

    def partition_of(self, name: str) -> int | None:
        """The partition a record keyed by `name` goes to, or None while the count is unknown."""
        count = self.count
        return None if count is None else partition_for(name.encode("utf-8"), count)

    def has(self, partition: int) -> bool | None:
        """Whether the topic has the partition (None while the count is unknown).

        A partition beyond the known count makes the refresh thread read the count again soon
        (at most once a second), so one added since the last refresh is known at the next try.
        """
        count = self.count
        if count is None:
            return None
        if partition < count:
            return True
        self._wake.set()
        return False

    def refresh(self) -> None:
        """Read the count once; keep the last known one if the broker does not answer."""
        try:
            count = self._read()
        except KafkaRefused as exc:
            self._refused(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a metadata fault must not end the API
            count, why = None, f"reading it failed: {exc}"
        else:
            why = "no such topic?"
        self.refused = None
        if count is None:
            # Warn once per outage: the refresh retries every few seconds while the count is unknown.
            log.log(logging.DEBUG if self._warned else logging.WARNING, "partition count unknown: %s", why)
            self._warned = True
            return
        self._warned = False
        if count != self.count:
            if self.count is not None and count > self.count:
                log.warning(
                    "the topic grew from %d to %d partitions: names now map to other partitions, so the"
                    " view's order per name is no longer guaranteed; `ums-find replay` restores it",
                    self.count,
                    count,
                )
            log.info("the topic has %d partitions", count)
            self.count = count

    def _refused(self, reason: str) -> None:
        # Logged once, not at every refresh: it lasts until the settings change.
        if reason != self.refused:
            log.error("%s; /readyz answers 503", reason)
        self.refused = reason

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            wait = self._refresh_s if self.count is not None else min(self._refresh_s, 2.0)
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.wait(NUDGE_MIN_S):
                return

    def stop(self) -> None:
        """End the refresh thread."""
        self._stop.set()
        self._wake.set()
