"""Where a partition starts, and how `status` shows a checkpoint ahead: pure logic, no services."""

from __future__ import annotations

import pytest
from confluent_kafka import OFFSET_BEGINNING

from consumers.start import FAIL, RESET, CheckpointAhead, Start, start_at, within_ends
from consumers.status import PartitionStatus, Status, render
from ums_find.settings import Settings, SettingsError


def test_no_checkpoint_starts_at_the_beginning_whatever_the_watermarks() -> None:
    for low, high in [(0, 0), (0, 10), (7, 10)]:
        assert start_at(1, None, low, high) == Start(1, OFFSET_BEGINNING, None, None)


def test_a_checkpoint_within_the_partition_starts_there() -> None:
    assert start_at(0, 5, 0, 10) == Start(0, 5, 5, 5)
    assert start_at(0, 10, 0, 10) == Start(0, 10, 10, 10)  # caught up: the end is in range
    assert start_at(0, 3, 3, 3) == Start(0, 3, 3, 3)


def test_a_checkpoint_beyond_the_end_reads_again_from_the_beginning_fencing_the_stale_one() -> None:
    start = start_at(2, 500, 0, 10, RESET)
    assert start == Start(2, OFFSET_BEGINNING, None, 500, ahead=True)
    # An empty recreated partition: still ahead, still from the beginning.
    assert start_at(2, 1, 0, 0).ahead


def test_a_checkpoint_beyond_the_end_stops_when_the_policy_says_fail() -> None:
    with pytest.raises(CheckpointAhead, match="checkpoint 500 is beyond the partition's end 10"):
        start_at(2, 500, 0, 10, FAIL)
    assert start_at(2, 10, 0, 10, FAIL) == Start(2, 10, 10, 10)  # not ahead: no failure


def test_a_checkpoint_below_the_low_watermark_is_not_ahead_and_goes_on_from_the_earliest() -> None:
    start = start_at(0, 4, 9, 20, FAIL)
    # Fetch from the earliest record left; the projector's position and the fence stay the checkpoint.
    assert start == Start(0, 9, 4, 4, lost=5)


def test_status_shows_a_checkpoint_ahead_with_a_negative_lag_and_a_flag() -> None:
    ahead = PartitionStatus.of(0, 500, 0, 10)
    assert (ahead.lag, ahead.checkpoint_ahead) == (-490, True)
    normal = PartitionStatus.of(1, 4, 0, 10)
    assert (normal.lag, normal.checkpoint_ahead) == (6, False)
    assert PartitionStatus.of(2, None, 3, 10).lag == 7
    assert PartitionStatus.of(2, 1, 3, 10).lag == 7  # deleted records are no lag
    status = Status("t", "c", [ahead, normal], "t.dlq", 0, 3)
    assert status.lag == 6 and status.ahead == [0]
    body = status.as_json()
    assert body["checkpoints_ahead"] == [0] and body["partitions"][0]["lag"] == -490
    assert body["partitions"][0]["checkpoint_ahead"] is True
    text = render(status)
    assert "-490  checkpoint ahead of the partition's end" in text
    assert "checkpoints ahead on partitions [0]" in text


def test_the_checkpoint_ahead_policy_is_validated() -> None:
    assert Settings.from_env({}).consumer.on_checkpoint_ahead == "reset"
    assert Settings.from_env({"UMS_ON_CHECKPOINT_AHEAD": "fail"}).consumer.on_checkpoint_ahead == "fail"
    with pytest.raises(SettingsError, match="UMS_ON_CHECKPOINT_AHEAD='skip' is invalid"):
        Settings.from_env({"UMS_ON_CHECKPOINT_AHEAD": "skip"})


def test_live_checkpoints_beyond_the_end_count_as_the_end_for_a_replay() -> None:
    assert within_ends({0: 500, 1: 4, 2: 7}, {0: 10, 1: 10}) == {0: 10, 1: 4, 2: 7}
