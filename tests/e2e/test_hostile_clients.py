"""The API on a public address: idle sockets, piled-up waits and huge bodies leave lookups answering."""

from __future__ import annotations

import json
import re
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from tests.support.consumer import wait_until
from tests.support.mysql import query
from tests.support.processes import api_server, http
from ums_find.settings import Settings

LOOKUP_TIMEOUT_S = 10.0  # a bound on each plain lookup while the hostile clients hold on
MIB = 1024 * 1024


def address(base: str) -> tuple[str, int]:
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    return host, int(port)


def lookups_answer(base: str, count: int = 5) -> None:
    for _ in range(count):
        status, _, body = http(base + "/user/KrishnaMohan", timeout_s=LOOKUP_TIMEOUT_S)
        assert status == 200 and b"KrishnaMohan" in body
    assert http(base + "/healthz", timeout_s=LOOKUP_TIMEOUT_S)[0] == 200


@contextmanager
def idle_sockets(base: str, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections that send nothing."""
    with ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.create_connection(address(base), timeout=30)) for _ in range(count)
        ]
        yield sockets


def waiting_metric(base: str) -> float:
    text = http(base + "/metrics", timeout_s=LOOKUP_TIMEOUT_S)[2].decode()
    found = re.search(r"^ums_find_after_waiting (\S+)$", text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def test_idle_sockets_piled_up_waits_and_a_huge_body_leave_lookups_answering(database: Settings) -> None:
    query(database, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')")
    with api_server(database, UMS_AFTER_WAIT_S="10", UMS_HTTP_THREADS="8") as base:
        with idle_sockets(base, 300):
            lookups_answer(base)
            answers: list[tuple[int, dict[str, str], bytes]] = []
            waits = [
                threading.Thread(
                    target=lambda: answers.append(
                        http(f"{base}/user/KrishnaMohan?after=0:999999", timeout_s=60)
                    )
                )
                for _ in range(20)
            ]
            for thread in waits:
                thread.start()
            # Half the threads (4 of 8) wait; the other 16 are answered at once, stale.
            wait_until(lambda: len(answers) >= 16, 30, "the requests past the cap to be answered")
            assert waiting_metric(base) == 4
            sent = huge_body_in_background(base)
            lookups_answer(base)
            for thread in [*waits, sent]:
                thread.join(60)
        assert len(answers) == 20 and all(s == 200 and h["X-View-Stale"] == "true" for s, h, _ in answers)
        assert sent.result == "refused before the whole body was sent"  # type: ignore[attr-defined]
        lookups_answer(base)


def huge_body_in_background(base: str) -> threading.Thread:
    """A client sending a 50 MiB body; its `result` says how far it got."""

    def send() -> None:
        with socket.create_connection(address(base), timeout=30) as sock:
            sock.sendall(
                b"GET /user/KrishnaMohan HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (50 * MIB)
            )
            try:
                for _ in range(50):
                    sock.sendall(b"x" * MIB)
            except OSError:
                thread.result = "refused before the whole body was sent"  # type: ignore[attr-defined]
            else:
                thread.result = "the server read the whole body"  # type: ignore[attr-defined]

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def answer_to(base: str, request: bytes) -> tuple[int, dict[str, object]]:
    with socket.create_connection(address(base), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_a_body_over_the_limit_is_413_json_whether_announced_or_chunked(database: Settings) -> None:
    with api_server(database, UMS_HTTP_MAX_BODY_BYTES="1024") as base:
        announced = b"GET /user/KrishnaMohan HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (50 * MIB)
        status, body = answer_to(base, announced)  # answered from the headers alone
        assert status == 413 and body["error"] == "payload_too_large" and "1024" in str(body["message"])
        chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
        chunked = (
            b"GET /user/KrishnaMohan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2
        )
        status, body = answer_to(base, chunked)  # no end chunk: refused once past the limit
        assert status == 413 and body["error"] == "payload_too_large"
        small = b"GET /user/KrishnaMohan HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n"
        small += b"\r\nhello"
        assert answer_to(base, small)[0] == 404  # under the limit: read, ignored, answered (no such user)


def test_a_token_for_a_partition_the_topic_lacks_is_400_at_once(stack: Settings) -> None:
    with api_server(stack, UMS_AFTER_WAIT_S="10") as base:
        wait_until(
            lambda: "(?:0|1|2):" in http(base + "/openapi.json")[2].decode(), 30, "the partition count"
        )
        status, _, body = http(f"{base}/user/KrishnaMohan?after=3:0", timeout_s=5)
        assert status == 400 and json.loads(body)["error"] == "invalid_position"
        assert "partition 3 does not exist" in json.loads(body)["message"]
        assert http(f"{base}/user/KrishnaMohan?after=2:0", timeout_s=30)[0] == 404
