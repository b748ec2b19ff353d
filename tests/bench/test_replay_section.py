"""The replay section's own path, run against a stand-in `replay` command.

Until ums-find has `replay`, the quick run only reports it as not available; this keeps
the measuring code exercised: lookups under way, the command timed, failures counted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import replay
from bench.common import UMS_FIND, Process, suffix
from bench.data import make_users
from bench.report import replay_rows
from ums_find.settings import Settings

STAND_IN = """#!/bin/sh
# `replay` succeeds after a second; everything else is the real command.
if [ "$1" = replay ]; then
  [ "$2" = --help ] && exit 0
  sleep 1
  exit 0
fi
exec {real} "$@"
"""


def test_replay_is_timed_while_lookups_run(
    mysql_server: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "ums-find"
    fake.write_text(STAND_IN.format(real=UMS_FIND))
    fake.chmod(0o755)
    monkeypatch.setattr(replay, "UMS_FIND", str(fake))
    procs: list[Process] = []
    result = replay.run(mysql_server, make_users(500), suffix(), tmp_path, procs)
    assert result["available"] and result["exit_code"] == 0
    assert result["seconds"] >= 1 and result["lookups"] > 0 and result["failed_lookups"] == 0
    assert {p.role for p in procs} == {"api:ums-find", "replay"}
    bare = {"bare-upsert": {"seconds": {"median": result["seconds"] / 1.5}}}
    assert replay_rows(result, bare)[0][-1] == "met"
    slow = {"bare-upsert": {"seconds": {"median": result["seconds"] / 2.5}}}
    assert replay_rows(result, slow)[0][-3:] == ("2.5x bare upsert", "<= 2x bare upsert, 0 failed", "NOT met")
