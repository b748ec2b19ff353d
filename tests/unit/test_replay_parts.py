"""The replay's pure parts: progress lines, difference reports, topic checks, names of locks."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import pytest

from consumers.progress import Progress, bar, describe
from consumers.replay_report import ReplayRefused, Summary, check_complete
from consumers.side import Extent
from ums_find.domain import Name, PhoneNumber, User
from ums_find.store.compare import Differences
from ums_find.store.projection import row_literal, writer_lock_name
from ums_find.store.rebuild import replay_lock_name


def test_a_progress_line_gives_share_rate_eta_and_each_partition() -> None:
    line = describe(500, 1000, 2.0, {0: 300, 1: 200}, {0: 500, 1: 500})
    assert line == " 50% 500/1,000 records, 250 records/s, ETA 2 s  p0:300/500 p1:200/500"
    assert bar(0.5, 10) == "[#####-----]"


def test_progress_logs_lines_when_not_on_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    progress = Progress({0: 10}, {0: 110}, stream)
    with caplog.at_level(logging.INFO):
        progress.update({0: 60}, force=True)
        progress.close()
    assert stream.getvalue() == ""
    assert " 50% 50/100 records" in caplog.text


def test_differences_name_the_first_of_each_kind() -> None:
    diff = Differences(3, 4, 2, 1, 0, ["Aaaaaaaa1", "Bbbbbbbb2"], ["Cccccccc3"], [])
    assert not diff.identical
    assert diff.lines() == [
        "live view: 3 rows; rebuilt from the topic: 4 rows",
        "missing from the live view: 2; first: Aaaaaaaa1, Bbbbbbbb2",
        "only in the live view: 1; first: Cccccccc3",
    ]
    assert Differences(4, 4, 0, 0, 0).lines()[-1] == "identical"


def test_the_summary_counts_poison_without_dead_letters() -> None:
    line = Summary(records=10, poison=2, rows=7, duration_s=1.25, lock_held_s=0.0123).lines()[0]
    assert line == (
        "records read: 10, rows in the rebuilt view: 7, poison records: 2 (not dead-lettered again), "
        "duration: 1.2 s, writer lock held: 0.012 s"
    )


def test_only_a_truncated_topic_that_is_not_compacted_needs_force() -> None:
    compacted = Extent({0: 5, 1: 0}, {0: 9, 1: 9}, "compact")
    kept = Extent({0: 0, 1: 0}, {0: 9, 1: 9}, "delete")
    truncated = Extent({0: 0, 1: 3}, {0: 9, 1: 9}, "delete")
    assert compacted.truncated == kept.truncated == []
    check_complete(kept, force=False)
    with pytest.raises(ReplayRefused, match=r"partitions \[1\].*--force"):
        check_complete(truncated, force=False)
    check_complete(truncated, force=True)


def test_lock_names_fit_mysql_64_characters() -> None:
    assert writer_lock_name("glarimy", "ums_users") == "ums-find:glarimy:ums_users"
    long = writer_lock_name("d" * 64, "t" * 64)
    assert len(long) <= 64 and long != writer_lock_name("d" * 64, "u" * 64)
    assert len(replay_lock_name("d" * 64)) <= 64


def test_a_row_literal_carries_any_name_safely() -> None:
    user = User(Name("O'Brien \\ Zoë"), PhoneNumber(9876543210), datetime(2022, 3, 1, 10, tzinfo=UTC))
    hexed = "O'Brien \\ Zoë".encode().hex()
    assert row_literal(user) == f"(_utf8mb4 X'{hexed}',9876543210,'2022-03-01 10:00:00.000000')"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_and_ends_its_line() -> None:
    stream = Terminal()
    progress = Progress({0: 0}, {0: 100}, stream)
    progress.update({0: 25}, force=True)
    progress.close()
    progress.close()
    assert stream.getvalue().startswith("\r\x1b[2Kreplay [######------------------]  25% 25/100 records")
    assert stream.getvalue().endswith("p0:25/100\n")
