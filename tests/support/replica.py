"""A MariaDB primary with a GTID read replica (`dev/stack.sh up-replica`), for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mysql.connector

from tests.support.stackrun import run_stack, session_ports, stack_env
from ums_find.settings import Settings

PORTS = ["STACK_REPLICA_PRIMARY_PORT", "STACK_REPLICA_PORT"]


@dataclass(frozen=True)
class ReplicaPair:
    """The pair's ports, settings for each server (root, no password) and replication controls."""

    ports: dict[str, int]
    primary: Settings
    replica: Settings

    def run(self, command: str) -> str:
        """A `dev/stack.sh` command with this pair's ports."""
        return run_stack(command, stack_env(self.ports))

    def pause(self) -> None:
        """Stop applying replicated changes (STOP SLAVE SQL_THREAD); they still arrive."""
        self.run("pause-replica")

    def resume(self) -> None:
        """Apply again what arrived meanwhile (START SLAVE SQL_THREAD)."""
        self.run("resume-replica")

    def wait_caught_up(self, timeout_s: int = 30) -> bool:
        """Whether the replica applies everything the primary has written within the time."""
        with connect(self.primary) as primary:
            position = query_one(primary, "SELECT @@gtid_binlog_pos")
        with connect(self.replica) as replica:
            waited = query_one(replica, f"SELECT MASTER_GTID_WAIT('{position}', {int(timeout_s)})")
        return str(waited) == "0"


def connect(settings: Settings) -> Any:
    """A connection (autocommit) to the server these settings name."""
    return mysql.connector.connect(
        host=settings.mysql.host,
        port=settings.mysql.port,
        user=settings.mysql.user,
        password=settings.mysql.password.reveal(),
        autocommit=True,
        connection_timeout=10,
    )


def query_one(connection: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row (None without rows)."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return None if row is None else row[0]
    finally:
        cursor.close()


def _server(base: Settings, port: int) -> Settings:
    return base.override(mysql_host="127.0.0.1", mysql_port=port, mysql_user="root", mysql_password="")


def start_replica_pair(base: Settings) -> ReplicaPair:
    """Start (or reuse) the primary and its replica on this session's ports."""
    ports = session_ports("replica", PORTS, "status-replica")
    pair = ReplicaPair(
        ports,
        primary=_server(base, ports["STACK_REPLICA_PRIMARY_PORT"]),
        replica=_server(base, ports["STACK_REPLICA_PORT"]),
    )
    pair.run("up-replica")
    return pair


def read_host(pair: ReplicaPair) -> str:
    """The replica as UMS_MYSQL_READ_HOSTS names it."""
    return f"{pair.replica.mysql.host}:{pair.replica.mysql.port}"
