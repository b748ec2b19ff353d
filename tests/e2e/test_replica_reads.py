"""`ums-find serve` reading from the real replica: positions, the lag bound, `?after=`, a replica down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.consumer import wait_for_offsets
from tests.support.processes import api_process, http, output, process, wait_until
from tests.support.relay import Relay
from tests.support.replica import ReplicaPair, read_host
from tests.support.replica_api import Client, publish, reads_by
from ums_find.settings import Settings


@contextmanager
def api_on_replicas(settings: Settings, read_hosts: str, max_lag_s: str) -> Iterator[tuple[str, Client]]:
    """The API reading from `read_hosts`, and one client connection to it."""
    with api_process(settings, UMS_MYSQL_READ_HOSTS=read_hosts, UMS_MYSQL_READ_MAX_LAG_S=max_lag_s) as (
        proc,
        base,
    ):
        # Positions show once the API knows the partition count (read in the background).
        wait_until(lambda: "X-View-Position" in http(base + "/user/NobodyAtAll")[1], 30, "positions")
        client = Client(base)
        try:
            yield base, client
        finally:
            client.close()
        assert "Traceback" not in output(proc)


def back_on_the_replica(pair: ReplicaPair, base: str, client: Client, name: str) -> None:
    """Once the replica has caught up, lookups return to it; no position went back meanwhile."""
    assert pair.wait_caught_up()
    on_replica = reads_by(base)[read_host(pair)]
    wait_until(
        lambda: client.get(name).status == 200 and reads_by(base)[read_host(pair)] > on_replica,
        30,
        "lookups back on the replica",
    )
    assert client.went_back() == []


def published(pair: ReplicaPair, settings: Settings, name: str) -> tuple[int, int]:
    """Publish a user and wait until the primary holds it (and the replica, unless paused)."""
    part, offset = publish(settings, name)
    wait_for_offsets(settings, {part: offset + 1})
    return part, offset


def test_lookups_and_after_follow_the_server_that_answers(
    replica_pair: ReplicaPair, replica_stack: Settings
) -> None:
    settings = replica_stack
    with process(settings, "consume"):
        alice = published(replica_pair, settings, "AliceReplica")
        assert replica_pair.wait_caught_up()
        with api_on_replicas(settings, read_host(replica_pair), "60") as (base, client):
            # A token the replica holds: answered by the replica, at once.
            found = client.get("AliceReplica", after=f"{alice[0]}:{alice[1]}")
            assert (found.status, found.stale) == (200, "false") and found.position[1] > alice[1]
            assert set(reads_by(base)) == {read_host(replica_pair)}
            replica_pair.pause()
            try:
                bob = published(replica_pair, settings, "BobOnThePrimary")
                # Within the bound the replica still answers, with its own (older) position.
                behind = client.get("BobOnThePrimary")
                assert behind.status == 404 and behind.position[0] == bob[0]
                assert behind.position[1] <= bob[1]
                # Waiting for Bob's record moves the process to a server that has it: the primary.
                waited = client.get("BobOnThePrimary", after=f"{bob[0]}:{bob[1]}")
                assert (waited.status, waited.stale) == (200, "false") and waited.position[1] > bob[1]
                assert reads_by(base).get("primary", 0) >= 1
                # The replica does not have what this process answered with: it stays away.
                for _ in range(20):
                    assert client.get("BobOnThePrimary").status == 200
                    time.sleep(0.02)  # lets the poller choose again between lookups
            finally:
                replica_pair.resume()
            back_on_the_replica(replica_pair, base, client, "BobOnThePrimary")


def test_a_replica_past_the_lag_bound_gives_way_to_the_primary(
    replica_pair: ReplicaPair, replica_stack: Settings
) -> None:
    settings = replica_stack
    with process(settings, "consume"):
        published(replica_pair, settings, "AliceReplica")
        assert replica_pair.wait_caught_up()
        with api_on_replicas(settings, read_host(replica_pair), "1") as (base, client):
            assert client.get("AliceReplica").status == 200
            assert set(reads_by(base)) == {read_host(replica_pair)}
            replica_pair.pause()
            try:
                bob = published(replica_pair, settings, "BobPastTheBound")
                # Plain lookups, no ?after=: once the replica lags past 1 s the primary answers.
                wait_until(lambda: client.get("BobPastTheBound").status == 200, 30, "the primary to answer")
                assert client.seen[-1][1] > bob[1]
                assert reads_by(base).get("primary", 0) >= 1
            finally:
                replica_pair.resume()
            back_on_the_replica(replica_pair, base, client, "BobPastTheBound")


def test_a_replica_gone_leaves_the_primary_answering_without_a_5xx(
    replica_pair: ReplicaPair, replica_stack: Settings
) -> None:
    settings = replica_stack
    relay = Relay(replica_pair.replica.mysql.host, replica_pair.replica.mysql.port)
    try:
        with process(settings, "consume"):
            published(replica_pair, settings, "AliceReplica")
            assert replica_pair.wait_caught_up()
            with api_on_replicas(settings, f"127.0.0.1:{relay.port}", "60") as (base, client):
                answers = [client.get("AliceReplica").status for _ in range(10)]
                assert set(reads_by(base)) == {f"127.0.0.1:{relay.port}"}
                relay.close()  # every connection to the replica cut, none accepted again
                answers += [client.get("AliceReplica").status for _ in range(50)]
                assert answers == [200] * 60
                assert reads_by(base).get("primary", 0) >= 1
                assert http(base + "/readyz")[0] == 200
                assert client.went_back() == []
    finally:
        relay.close()
