"""The API as operators and clients use it: read-your-writes, conformance, bad input, metrics, SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

from tests.support.consumer import next_offsets, wait_for_offsets, wait_until
from tests.support.kafka import produce
from tests.support.mysql import query, view_rows
from tests.support.processes import api_process, api_server, cli, http, output, process
from ums_find.settings import Settings

ST = str(Path(sys.executable).with_name("st"))


def publish(stack: Settings, name: str, phone: int) -> tuple[int, int]:
    done = cli(stack, "publish", "--name", name, "--phone", str(phone))
    assert done.returncode == 0, done.stderr
    partition, offset = done.stdout.strip().splitlines()[-1].split(":")
    return int(partition), int(offset)


def metric(base: str, name: str, labels: str = "") -> float:
    text = http(base + "/metrics")[2].decode()
    found = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def test_a_lookup_after_its_own_write_is_never_stale(stack: Settings) -> None:
    with process(stack, "consume"), api_server(stack, UMS_AFTER_WAIT_S="10") as base:
        wait_for_offsets(stack, next_offsets(produce(stack, [(b"WarmUp0001", None, None)])))
        found = '{method="GET",route="/user/{name}",status="200"}'
        before = metric(base, "ums_find_http_requests_total", found)
        for i in range(4):
            name = f"Reader{i:02d} {stack.kafka.topic[-6:]}"
            partition, offset = publish(stack, name, 9876543210 + i)
            url = f"{base}/user/{urllib.parse.quote(name.lower(), safe='')}?after={partition}:{offset}"
            status, headers, body = http(url)
            assert status == 200 and name.encode() in body, body
            assert headers["X-View-Stale"] == "false"
            view_partition, view_next = (int(x) for x in headers["X-View-Position"].split(":"))
            # publish partitions with murmur2 as Java does; the API computes the same from the name.
            assert view_partition == partition and view_next > offset
        assert metric(base, "ums_find_http_requests_total", found) == before + 4
        assert metric(base, "ums_find_http_request_duration_seconds_count", '{route="/user/{name}"}') >= 4


def test_a_lookup_after_a_write_the_view_lacks_answers_stale_on_time_out(stack: Settings) -> None:
    with api_server(stack, UMS_AFTER_WAIT_S="0.3") as base:
        partition, offset = publish(stack, "NotYetSeen", 9876543210)
        status, headers, _ = http(f"{base}/user/NotYetSeen?after={partition}:{offset}")
        assert status == 404 and headers["X-View-Stale"] == "true"
        assert headers["X-View-Position"] == f"{partition}:0"
        assert metric(base, "ums_find_after_timeouts_total") == 1.0


def test_the_live_api_conforms_to_its_openapi_document(database: Settings, tmp_path: Path) -> None:
    query(database, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00.5')")
    with api_server(database, UMS_AFTER_WAIT_S="0") as base:
        run = subprocess.run(
            [ST, "run", f"{base}/openapi.json", "--checks", "all",
             # The name rule applies after stripping, which JSON Schema cannot say:
             # a schema-valid "0" is rightly a 400, so this one check does not apply.
             "--exclude-checks", "positive_data_acceptance",
             "--phases", "examples,coverage,fuzzing", "--max-examples", "50",
             "--request-timeout", "15", "--seed", "1"],
            capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-4000:]


def raw_status(base: str, target: bytes, method: bytes = b"GET") -> int:
    answer = raw(base, method + b" " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return int(answer.split(b" ", 2)[1])


def raw(base: str, request: bytes) -> bytes:
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert b"Traceback" not in answer
    return answer


BAD_TARGETS = [
    b"/user/' OR '1'='1",
    b"/user/x';%20DROP%20TABLE%20ums_users;%20--",
    b"/user/KrishnaMohan'%20OR%201=1%20--%20",
    b"/user/%27%3B%20DELETE%20FROM%20ums_users%3B%20--",
    b"/user/" + b"A" * 10_000,
    b"/user/" + b"%41" * 10_000,
    b"/user/%ZZ%zzabcdefgh",
    b"/user/abcdefgh%",
    b"/user/%FF%FE%FDabcdefgh",
    b"/user/\xff\xfe\xfdabcdefgh",
    b"/user/%C0%AFabcdefgh",
    b"/user/%00%00abcdefgh",
    b"/user/KrishnaMohan?after=0:1%27%20OR%201=1",
    b"/user/KrishnaMohan?after=%FF",
    b"/" + b"x" * 10_000,
]


def test_hostile_input_never_gives_a_5xx_and_never_changes_data(database: Settings) -> None:
    query(database, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')")
    before = view_rows(database)
    with api_server(database, UMS_AFTER_WAIT_S="0") as base:
        statuses = {target: raw_status(base, target) for target in BAD_TARGETS}
        statuses[b"DELETE"] = raw_status(base, b"/user/KrishnaMohan", b"DELETE")
        assert all(400 <= s < 500 for s in statuses.values()), statuses
        assert raw_status(base, b"/user/KrishnaMohan") == 200
        for unparsable in (b"GARBAGE\r\n\r\n", b"GET /user/x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"):
            head, _, body = raw(base, unparsable).partition(b"\r\n\r\n")
            assert head.split(b" ", 2)[1] == b"400" and b"x-request-id" in head.lower()
            assert json.loads(body)["error"] == "bad_request"
    assert view_rows(database) == before
    assert [t for (t,) in query(database, "SHOW TABLES")] == ["ums_checkpoints", "ums_users"]


def test_sigterm_finishes_every_request_in_flight_then_exits(database: Settings) -> None:
    query(database, "INSERT INTO ums_users VALUES ('KrishnaMohan', 9876543210, '2022-03-01 10:00:00')")
    answers: list[tuple[int, dict[str, str], bytes]] = []
    failures: list[BaseException] = []

    def slow(base: str) -> None:  # waits UMS_AFTER_WAIT_S for a record that never comes
        try:
            answers.append(http(f"{base}/user/KrishnaMohan?after=0:999999", timeout_s=60))
        except BaseException as exc:  # noqa: BLE001 - any failure here is what the test looks for
            failures.append(exc)

    termed = threading.Event()
    fast: list[int] = []

    def load(base: str) -> None:  # plain lookups until the server stops taking connections
        while True:
            try:
                status, _, body = http(f"{base}/user/KrishnaMohan", timeout_s=60)
            except OSError as exc:
                # Refused or reset before an answer: only once SIGTERM closed the listener.
                (None if termed.is_set() else failures.append(exc))
                return
            fast.append(status if body.endswith(b"}") else -1)

    with api_process(database, UMS_AFTER_WAIT_S="3", UMS_SHUTDOWN_S="20") as (proc, base):
        threads = [threading.Thread(target=slow, args=(base,)) for _ in range(4)]
        threads += [threading.Thread(target=load, args=(base,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_until(lambda: metric(base, "ums_find_after_waiting") == 4, 30, "four requests in flight")
        termed.set()
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: not _accepts(base), 30, "the listener to close")
        for thread in threads:
            thread.join(60)
        assert proc.wait(30) == 0, output(proc)
        assert "every request in flight was answered" in output(proc)
    assert failures == [] and len(answers) == 4 and fast and set(fast) == {200}
    for status, headers, body in answers:
        assert status == 200 and headers["X-View-Stale"] == "true" and b"KrishnaMohan" in body


def _accepts(base: str) -> bool:
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return True
    except OSError:
        return False
