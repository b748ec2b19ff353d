"""Talking to an API process that reads from replicas: one kept connection, and who answered."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from http.client import HTTPConnection

from tests.support.processes import cli, http
from ums_find.settings import Settings

_READS = re.compile(r'^ums_find_db_reads_total\{server="([^"]+)"\} ([0-9.e+]+)$', re.M)


@dataclass(frozen=True)
class Answer:
    """A lookup's status, its view position (partition, offset) and whether it says stale."""

    status: int
    position: tuple[int, int]
    stale: str | None


@dataclass
class Client:
    """One HTTP/1.1 connection kept open across lookups, recording every position it was given."""

    base: str
    seen: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.base)
        self._conn = HTTPConnection(parts.hostname or "", parts.port, timeout=30)

    def get(self, name: str, after: str | None = None) -> Answer:
        """GET /user/<name> (with ?after=), on the kept connection."""
        path = f"/user/{urllib.parse.quote(name, safe='')}" + (f"?after={after}" if after else "")
        self._conn.request("GET", path)
        resp = self._conn.getresponse()
        resp.read()
        part, _, offset = (resp.getheader("X-View-Position") or "").partition(":")
        answer = Answer(resp.status, (int(part), int(offset)), resp.getheader("X-View-Stale"))
        self.seen.append(answer.position)
        return answer

    def went_back(self) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """Consecutive answers for one partition whose offset went down."""
        last: dict[int, int] = {}
        back = []
        for part, offset in self.seen:
            if offset < last.get(part, 0):
                back.append(((part, last[part]), (part, offset)))
            last[part] = max(last.get(part, 0), offset)
        return back

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def reads_by(base: str) -> dict[str, float]:
    """`ums_find_db_reads_total` by server, from the API's /metrics."""
    status, _, body = http(base + "/metrics")
    assert status == 200
    return {server: float(value) for server, value in _READS.findall(body.decode())}


def publish(settings: Settings, name: str, phone: str = "9876543210") -> tuple[int, int]:
    """`ums-find publish` a user; the record's (partition, offset)."""
    done = cli(settings, "publish", "--name", name, "--phone", phone)
    assert done.returncode == 0, done.stderr
    part, offset = done.stdout.strip().splitlines()[-1].split(":")
    return int(part), int(offset)
