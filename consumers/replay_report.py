"""What a replay reports, what may stop it, and the check that the topic is whole."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from consumers.side import Extent
from ums_find.store.compare import Differences

log = logging.getLogger(__name__)


class ReplayRefused(Exception):
    """The replay must not start: another runs, or the topic cannot give the whole view."""


class ReplayFailed(Exception):
    """The replay could not finish; the live view is as it was."""


class Interrupted(Exception):
    """Stopped by a signal; the live view is as it was."""


@dataclass(frozen=True)
class ReplayOptions:
    """What `ums-find replay` was asked to do."""

    verify: bool = False
    drop_old: bool = False
    force: bool = False


@dataclass
class Summary:
    """What a replay did."""

    records: int = 0
    poison: int = 0
    rows: int = 0
    duration_s: float = 0.0
    lock_held_s: float = 0.0
    swapped: bool = False
    differences: Differences | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A report for people."""
        head = (
            f"records read: {self.records}, rows in the rebuilt view: {self.rows}, "
            f"poison records: {self.poison} (not dead-lettered again), duration: {self.duration_s:.1f} s, "
            f"writer lock held: {self.lock_held_s:.3f} s"
        )
        done = ["swapped in the rebuilt view"] if self.swapped else []
        diff = self.differences.lines() if self.differences else []
        return [head, *done, *diff, *self.notes]


def check_complete(extent: Extent, force: bool) -> None:
    """Warn when the topic lost its earliest records; refuse unless forced."""
    if not extent.truncated:
        return
    log.warning(
        "the topic is not compacted and its earliest records are gone (partitions %s): "
        "the rebuilt view can be incomplete",
        extent.truncated,
    )
    if not force:
        raise ReplayRefused(
            f"earliest records gone on partitions {extent.truncated} of a topic that is not "
            "compacted; --force to replay anyway"
        )
