"""`ums-find status` and `ums-find dlq show|redrive` against the real servers."""

from __future__ import annotations

import json

from tests.support.consumer import consumer_thread, next_offsets, wait_for_offsets
from tests.support.kafka import produce, read_all
from tests.support.processes import cli
from ums_find.settings import Settings

RECORDS = [
    (b"KrishnaMohan", b'{"name": "KrishnaMohan", "phone": 9876543210}', None),
    (b"Someone0001", b"not json", None),
    (b"Someone0002", b'{"name": "Someone0002", "phone": 9876543211}', None),
    (b"Someone0003", b'{"name": "Short", "phone": 9876543212}', None),
]


def test_status_dlq_show_and_redrive(stack: Settings) -> None:
    delivered = produce(stack, RECORDS, headers=[("__TypeId__", b"com.glarimy.User")])
    with consumer_thread(stack):
        wait_for_offsets(stack, next_offsets(delivered))

    done = cli(stack, "status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert (status["lag"], status["dlq_depth"], status["rows"]) == (0, 2, 2)
    assert {p["partition"]: p["checkpoint"] for p in status["partitions"] if p["checkpoint"]} == next_offsets(
        delivered
    )
    table = cli(stack, "status")
    assert table.returncode == 0 and "lag 0; dead letters" in table.stdout

    shown = cli(stack, "dlq", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    letters = [json.loads(line) for line in shown.stdout.splitlines()]
    poison = {f"{m.partition()}:{m.offset()}": m for m in (delivered[1], delivered[3])}
    assert {d["original"]: (d["reason"], d["key"]) for d in letters} == {
        pos: (reason, m.key().decode())
        for (pos, m), reason in zip(poison.items(), ["not JSON", "name too short"], strict=True)
    }

    chosen = f"{delivered[1].partition()}:{delivered[1].offset()}"
    redriven = cli(stack, "dlq", "redrive", "--original", chosen)
    assert redriven.returncode == 0, redriven.stderr
    again = [
        m for m in read_all(stack, stack.kafka.topic, len(RECORDS) + 1) if m.offset() > delivered[1].offset()
    ]
    copy = next(m for m in again if m.partition() == delivered[1].partition() and m.value() == b"not json")
    assert copy.key() == b"Someone0001" and copy.headers() == [("__TypeId__", b"com.glarimy.User")]
    assert cli(stack, "dlq", "redrive", "--original", "9:999").returncode != 0
