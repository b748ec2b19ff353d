"""`ums-find replay` on the primary while the API answers from the replica: old view or new, no error."""

from __future__ import annotations

import json
import random
from typing import Any

from tests.support.consumer import next_offsets, wait_for_offsets
from tests.support.kafka import produce
from tests.support.lookup_load import LookupLoad
from tests.support.mysql import query
from tests.support.processes import api_process, cli, get_json, output, process, wait_until
from tests.support.replica import ReplicaPair, read_host
from tests.support.replica_api import reads_by
from ums_find.settings import Settings

SINCE = "2022-03-01T10:00:00Z"


class Lookups(LookupLoad):
    """Threads asking for users: each answer must be the user (200) or, for the erased, 404."""

    def __init__(self, base: str, users: dict[str, int], erased: set[str]) -> None:
        super().__init__(base)
        self.users, self.erased = users, erased
        self.names, self.erased_names = sorted(users), sorted(erased)

    def pick(self, rng: random.Random) -> str:
        # Half the lookups ask for an erased user: 404 in the old view, 200 in the new.
        return rng.choice(self.erased_names if rng.random() < 0.5 else self.names)

    def good(self, name: str, status: int, body: Any) -> bool:
        found = status == 200 and body == {"name": name, "phone": self.users[name], "since": SINCE}
        return found or (status == 404 and name in self.erased)


def record(name: str, phone: int) -> tuple[bytes, bytes, None]:
    value = json.dumps({"name": name, "phone": phone, "since": SINCE}).encode()
    return name.encode(), value, None


def test_lookups_on_the_replica_see_the_old_or_the_new_view_during_a_replay(
    replica_pair: ReplicaPair, replica_stack: Settings
) -> None:
    settings = replica_stack
    users = {f"replayed{i:05d}": 9000000000 + i for i in range(3000)}
    delivered = produce(settings, [record(name, phone) for name, phone in users.items()])
    with process(settings, "consume"):
        wait_for_offsets(settings, next_offsets(delivered))
        erased = set(sorted(users)[:60])  # a corrupted view: rows lost that the replay brings back
        query(
            settings, f"DELETE FROM ums_users WHERE name IN ({', '.join(['%s'] * 60)})", tuple(sorted(erased))
        )
        assert replica_pair.wait_caught_up()
        env = {"UMS_MYSQL_READ_HOSTS": read_host(replica_pair), "UMS_MYSQL_READ_MAX_LAG_S": "60"}
        with api_process(settings, **env) as (api, base):
            lookups = Lookups(base, users, erased)
            with lookups.running(4):
                wait_until(lambda: lookups.count > 50, 30, "lookups before the replay")
                before = lookups.count
                result = cli(settings, "replay", timeout_s=300, UMS_REPLAY_BATCH_SIZE="500")
                assert replica_pair.wait_caught_up()
                after = lookups.count
                # The new view reaches the replica: the erased users are back.
                found = lambda: get_json(f"{base}/user/{lookups.erased_names[0]}")[0] == 200  # noqa: E731
                wait_until(found, 30, "the rebuilt view on the replica")
            reads = reads_by(base)
            log = output(api)
            assert "Traceback" not in log and "to the primary" not in log and "to primary" not in log
    assert result.returncode == 0, result.stderr[-3000:]
    assert "swapped in the rebuilt view" in result.stdout
    assert lookups.wrong == [], lookups.wrong[:5]
    assert after - before >= 50, f"only {after - before} lookups during the replay"
    assert lookups.answers == {200, 404}
    # Every lookup came from the replica: none failed over to the primary.
    assert set(reads) == {read_host(replica_pair)}, reads
