"""Rebuild the view from the start of the topic beside the live one, then swap it in atomically."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Mapping

from consumers.ahead import hand_over_briskly
from consumers.progress import Progress
from consumers.replay_report import (
    Interrupted,
    ReplayFailed,
    ReplayOptions,
    ReplayRefused,
    Summary,
    check_complete,
)
from consumers.side import Extent, SideReader, topic_extent
from consumers.start import within_ends
from ums_find.settings import Settings
from ums_find.store import migrate
from ums_find.store.compare import compare
from ums_find.store.rebuild import Projection, RebuildStore, replay_lock_name

log = logging.getLogger(__name__)

SWAP_ATTEMPTS = 3
WRITER_LOCK_WAIT_S = 60


class Replay:
    """One run of `ums-find replay`."""

    def __init__(self, settings: Settings, options: ReplayOptions, stop: threading.Event) -> None:
        self._settings, self._options, self._stop = settings, options, stop
        self.store = RebuildStore(settings.mysql, Projection(settings.consumer.name, settings.kafka.topic))
        self.summary = Summary()

    def run(self) -> Summary:
        """Rebuild, then swap (or compare, with --verify); the live view changes only by the swap."""
        started = time.monotonic()
        if not self.store.lock(replay_lock_name(self._settings.mysql.database)):
            raise ReplayRefused("another replay of this database is running")
        try:
            migrate(self._settings)
            extent = topic_extent(self._settings.kafka)
            check_complete(extent, self._options.force)
            if not self._options.verify:
                self.store.drop(self.store.old)  # the previous replay's, kept until now
            self.store.prepare_side()
            self._rebuild(extent)
            if self._options.verify:
                self._compare()
            elif self.summary.swapped:
                self.summary.rows = self.store.count(self.store.live.view)
                if self._options.drop_old:
                    self.store.drop(self.store.old)
        finally:
            self.store.close()
        self.summary.duration_s = time.monotonic() - started
        return self.summary

    def _rebuild(self, extent: Extent) -> None:
        side = SideReader(self._settings, self.store.side, sorted(extent.ends))
        self._progress = Progress(extent.starts, extent.ends, sys.stderr)
        self._extent = extent
        try:
            side.start()
            self._finish(side)
        finally:
            self._progress.close()
            side.close()

    def _near(self, side: SideReader) -> None:
        """Apply until the side has read what the topic held at the start and nears the live view."""
        ends, live, read_at = self._extent.ends, self._live(side), time.monotonic()
        while True:
            self._check_stop()
            side.turn()
            self._progress.update(side.reached)
            if time.monotonic() - read_at > 0.5:
                live, read_at = self._live(side), time.monotonic()
            behind = sum(max(0, live.get(p, 0) - side.reached[p]) for p in side.partitions)
            if (
                all(side.reached[p] >= ends[p] for p in ends)
                and behind <= self._settings.consumer.replay_batch_size
            ):
                return

    def _finish(self, side: SideReader) -> None:
        for _attempt in range(SWAP_ATTEMPTS):
            self._near(side)
            self._progress.update(side.reached, force=True)
            self._progress.close()
            side.flush()  # written before the lock, so that the lock is held for little
            log.info("caught up with the live view; taking the writer lock")
            self._take_writer_lock()
            try:
                if self._under_writer_lock(side):
                    return
            finally:
                self.store.unlock(self.store.writer_lock)
            log.warning(
                "not caught up within %s s under the lock; trying again",
                self._settings.consumer.replay_lock_s,
            )
            side.rewind()
        raise ReplayFailed(f"could not catch up with the live consumer in {SWAP_ATTEMPTS} attempts")

    def _take_writer_lock(self) -> None:
        # Short waits, so that Ctrl-C is heard while the live consumer holds the lock.
        for _ in range(WRITER_LOCK_WAIT_S):
            self._check_stop()
            if self.store.lock(self.store.writer_lock, 1):
                return
        raise ReplayFailed(f"the live consumer held the writer lock for over {WRITER_LOCK_WAIT_S} s")

    def _under_writer_lock(self, side: SideReader) -> bool:
        taken = time.monotonic()
        targets = self._live(side)
        deadline = taken + self._settings.consumer.replay_lock_s
        while not _covers(side.reached, targets):
            self._check_stop()
            if time.monotonic() > deadline:
                return False
            side.turn(targets)
        self._conclude(side, targets)
        self.summary.lock_held_s = time.monotonic() - taken
        log.info("held the writer lock for %.3f s", self.summary.lock_held_s)
        return True

    def _live(self, side: SideReader) -> dict[int, int]:
        """The live checkpoints; one beyond its partition's end (topic recreated) counts as the end."""
        live = self.store.positions(self.store.live)
        targets = within_ends(live, side.highs())
        ahead = sorted(p for p in live if targets[p] < live[p])
        if ahead and not self.summary.notes:
            log.warning(
                "live checkpoints beyond the partitions' ends on %s: the rebuilt view replaces them", ahead
            )
            self.summary.notes.append(f"live checkpoints were beyond the topic's end on partitions {ahead}")
        return targets

    def _conclude(self, side: SideReader, targets: Mapping[int, int]) -> None:
        written = side.finish_writing()
        self.summary.records, self.summary.poison = written.records, written.poison
        ahead = [p for p, at in written.positions.items() if at > targets.get(p, 0)]
        if self._options.verify:
            # Compared after the lock is let go, in a snapshot of this moment.
            self.store.begin_snapshot()
            if ahead:
                self.summary.notes.append(f"the live view lags behind the topic on partitions {ahead}")
            return
        self.store.swap(targets, self._settings.consumer.replay_lock_s)
        self.summary.swapped = True

    def _compare(self) -> None:
        self.summary.differences = compare(self.store.run, self.store.live.view, self.store.side.view)
        self.summary.rows = self.summary.differences.rebuilt_rows
        self.store.run("COMMIT")

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise Interrupted("stopped before the swap: the live view is unchanged")


def _covers(reached: Mapping[int, int], targets: Mapping[int, int]) -> bool:
    return all(reached.get(p, 0) >= offset for p, offset in targets.items())


def run_replay(
    settings: Settings, *, verify: bool, drop_old: bool, force: bool, stop: threading.Event
) -> int:
    """Run a replay and print its summary; the exit code says how it went."""
    from consumers.kafka import KafkaUnavailable
    from consumers.pipeline import WriterFailed
    from consumers.projector import RetryBudgetExceeded
    from ums_find.store import DatabaseRefused, DatabaseUnavailable

    hand_over_briskly()  # the reader decodes while the writer thread waits for MySQL
    replay = Replay(settings, ReplayOptions(verify, drop_old, force), stop)
    try:
        summary = replay.run()
    except ReplayRefused as exc:
        log.error("replay refused: %s", exc)
        return 2
    except DatabaseRefused as exc:
        log.error("%s", exc)
        return 6
    except Interrupted as exc:
        log.warning("%s; the side tables go at the next replay", exc)
        return 130
    except (ReplayFailed, WriterFailed, RetryBudgetExceeded, KafkaUnavailable, DatabaseUnavailable) as exc:
        log.error("replay failed, the live view is unchanged: %s", exc)
        return 3
    for line in summary.lines():
        print(line)
    return 1 if summary.differences is not None and not summary.differences.identical else 0
