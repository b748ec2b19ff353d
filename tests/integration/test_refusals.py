"""Every command against a server that refuses its password or certificate: one line naming it, one exit code.

librdkafka would retry such a broker forever; MySQL's connector would be retried as an outage.
Each case ends at once with the exit code of the server concerned (6 MySQL, 7 Kafka), exactly
one ERROR line that names the cause, no librdkafka noise, and no password anywhere in the output.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.processes import cli
from tests.support.secure import SecureStack, secure_world
from ums_find.refusals import EXIT_DATABASE_REFUSED, EXIT_KAFKA_REFUSED
from ums_find.settings import Settings

WRONG = "not-the-secret-4711"
PUBLISH = ("publish", "--name", "refused-user-1", "--phone", "9000000001")
Changes = Callable[[SecureStack, Path], dict[str, str]]


def _wrong_file(tmp: Path) -> str:
    path = tmp / "wrong.password"
    path.write_text(f"{WRONG}\n")
    return str(path)


KAFKA: dict[str, tuple[Changes, str]] = {
    "kafka-wrong-password": (
        lambda s, tmp: {"UMS_KAFKA_PASSWORD_FILE": _wrong_file(tmp)},
        "Kafka cannot authenticate as 'ums'",
    ),
    "kafka-untrusted-ca": (
        lambda s, tmp: {"UMS_KAFKA_CA_FILE": s.tls_file("other-ca.pem")},
        "Kafka TLS refused",
    ),
    "kafka-another-host-name": (
        lambda s, tmp: {"UMS_KAFKA_BOOTSTRAP": f"127.0.0.1:{s.kafka_wrong_host_port}"},
        "Kafka TLS refused",
    ),
}
MYSQL: dict[str, tuple[Changes, str]] = {
    "mysql-wrong-password": (
        lambda s, tmp: {"UMS_MYSQL_PASSWORD_FILE": _wrong_file(tmp)},
        "MySQL cannot authenticate",
    ),
    "mysql-untrusted-ca": (
        lambda s, tmp: {"UMS_MYSQL_SSL_CA": s.tls_file("other-ca.pem")},
        "MySQL TLS refused",
    ),
}


@pytest.fixture(scope="module")
def world(secure_stack: SecureStack) -> Iterator[Settings]:
    with secure_world(secure_stack) as settings:
        yield settings


def _run(
    stack: SecureStack, world: Settings, tmp: Path, args: tuple[str, ...], changes: Changes
) -> subprocess.CompletedProcess[str]:
    env = {**stack.secret_files(), "UMS_DB_RETRY_MAX_S": "60", **changes(stack, tmp)}
    return cli(world, *args, timeout_s=120, **env)


def the_refusal(done: subprocess.CompletedProcess[str], stack: SecureStack) -> str:
    """The one ERROR line; nothing from librdkafka, no secret in any output."""
    records = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    errors = [r["event"] for r in records if r["level"] in ("ERROR", "CRITICAL")]
    assert len(errors) == 1, done.stderr
    assert not [r for r in records if r["logger"] == "librdkafka"], done.stderr
    for secret in [WRONG, *stack.secrets()]:
        assert secret not in done.stdout + done.stderr
    return str(errors[0])


@pytest.mark.parametrize(
    "args",
    [("consume",), ("replay",), ("status",), PUBLISH, ("dlq", "show")],
    ids=lambda a: "-".join(a[:2]) if a[0] == "dlq" else a[0],
)
@pytest.mark.parametrize("case", sorted(KAFKA))
def test_kafka_refusing_a_command_ends_it_with_code_7(
    secure_stack: SecureStack, world: Settings, tmp_path: Path, args: tuple[str, ...], case: str
) -> None:
    changes, cause = KAFKA[case]
    done = _run(secure_stack, world, tmp_path, args, changes)
    assert done.returncode == EXIT_KAFKA_REFUSED, done.stderr
    assert the_refusal(done, secure_stack).startswith(cause)


@pytest.mark.parametrize("args", [("migrate",), ("consume",), ("replay",), ("status",)], ids=lambda a: a[0])
@pytest.mark.parametrize("case", sorted(MYSQL))
def test_mysql_refusing_a_command_ends_it_with_code_6(
    secure_stack: SecureStack, world: Settings, tmp_path: Path, args: tuple[str, ...], case: str
) -> None:
    changes, cause = MYSQL[case]
    done = _run(secure_stack, world, tmp_path, args, changes)
    assert done.returncode == EXIT_DATABASE_REFUSED, done.stderr
    assert the_refusal(done, secure_stack).startswith(cause)
