"""Where an assigned partition starts: its checkpoint weighed against the partition's watermarks. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ums_find.kafka import OFFSET_BEGINNING

RESET = "reset"  # a checkpoint beyond the partition's end: read the partition from its beginning again
FAIL = "fail"  # ... or stop, for an operator to decide
POLICIES = (RESET, FAIL)


class CheckpointAhead(Exception):
    """A checkpoint lies beyond its partition's end and the policy says to stop."""


@dataclass(frozen=True)
class Start:
    """How one partition starts.

    `fetch` is where Kafka reads from (an offset, or OFFSET_BEGINNING); `position` the next
    offset to apply, as the projector holds it (None: every record); `expected` the
    checkpoint stored now, which the first batch's transaction must find before it
    replaces it (the fence against a second writer).
    """

    partition: int
    fetch: int
    position: int | None
    expected: int | None
    ahead: bool = False
    lost: int = 0  # records between the checkpoint and the low watermark, deleted unread


def start_at(partition: int, checkpoint: int | None, low: int, high: int, policy: str = RESET) -> Start:
    """Where `partition` starts, given its stored checkpoint and its (low, high) watermarks.

    The database is the only truth: no checkpoint means the beginning, never the group's
    committed offset. A checkpoint past the high watermark belongs to another life of the
    topic (recreated or truncated): by default the partition is read from its beginning
    again, the stale checkpoint replaced by the first batch. A checkpoint below the low
    watermark is not ahead: retention deleted records before they were applied, and
    reading goes on from the earliest record left.
    """
    if checkpoint is None:
        return Start(partition, OFFSET_BEGINNING, None, None)
    if checkpoint > high:
        if policy == FAIL:
            raise CheckpointAhead(
                f"partition {partition}: checkpoint {checkpoint} is beyond the partition's end {high}"
            )
        return Start(partition, OFFSET_BEGINNING, None, checkpoint, ahead=True)
    if checkpoint < low:
        return Start(partition, low, checkpoint, checkpoint, lost=low - checkpoint)
    return Start(partition, checkpoint, checkpoint, checkpoint)


def within_ends(checkpoints: Mapping[int, int], highs: Mapping[int, int]) -> dict[int, int]:
    """Checkpoints, none past its partition's end: one beyond it belongs to an earlier topic."""
    return {p: min(offset, highs.get(p, offset)) for p, offset in checkpoints.items()}
