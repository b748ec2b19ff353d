"""The group's advisory offsets: at most one commit a second, the rest when the loop goes idle."""

from __future__ import annotations

from consumers.advisory import AdvisoryCommits
from tests.unit.fakes import FakeClock, FakeSource
from tests.unit.test_loop import TOPIC, loop, user
from ums_find.store import Position


def test_batches_within_the_interval_share_one_later_commit() -> None:
    source, clock = FakeSource(TOPIC, {0: [], 1: []}), FakeClock()
    commits = AdvisoryCommits(source, TOPIC, every_s=1.0, clock=clock)
    commits.note([Position(0, None, 3)], owned={0, 1})
    assert source.commits == [{0: 3}]  # the first at once
    clock.now += 0.4
    commits.note([Position(0, 3, 5), Position(1, None, 2)], owned={0, 1})
    clock.now += 0.4
    commits.note([Position(0, 5, 9)], owned={0, 1})
    assert source.commits == [{0: 3}]
    clock.now += 0.3
    commits.note([Position(1, 2, 4)], owned={0, 1})
    assert source.commits == [{0: 3}, {0: 9, 1: 4}]  # the latest of each partition


def test_an_idle_flush_commits_what_is_pending_for_the_partitions_still_owned() -> None:
    source, clock = FakeSource(TOPIC, {0: [], 1: []}), FakeClock()
    commits = AdvisoryCommits(source, TOPIC, every_s=1.0, clock=clock)
    commits.note([Position(0, None, 3)], owned={0, 1})
    commits.note([Position(0, 3, 4), Position(1, None, 7)], owned={0, 1})
    commits.flush(owned={0})  # partition 1 was revoked meanwhile: its new owner commits it
    assert source.commits == [{0: 3}, {0: 4}]
    commits.flush(owned={0, 1})
    assert source.commits == [{0: 3}, {0: 4}]  # nothing pending: nothing sent


def test_the_loop_commits_its_last_positions_once_nothing_more_comes() -> None:
    projector, source, writer, _ = loop({0: [user(i) for i in range(3)]})
    source.rebalances.append(("assign", [0]))
    projector.step()
    assert source.commits == [{0: 3}]
    source.logs[0] += [user(3), user(4)]
    projector.step()  # a second batch within the second: held back
    assert writer.checkpoints == {0: 5} and source.commits == [{0: 3}]
    projector.step()  # nothing came
    assert source.commits == [{0: 3}, {0: 5}]
