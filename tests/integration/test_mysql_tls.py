"""`ums-find` against a MariaDB that requires TLS: verified links work, refusals end clearly."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import mysql.connector
import pytest

from tests.support.secure import MYSQL_ADMIN, SecureStack

EXIT_REFUSED = 6


def ums_find(secure_stack: SecureStack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as the admin account over verified TLS, with these settings changed."""
    base = {
        "UMS_MYSQL_HOST": "127.0.0.1",
        "UMS_MYSQL_PORT": str(secure_stack.mysql_port),
        "UMS_MYSQL_USER": MYSQL_ADMIN,
        "UMS_MYSQL_PASSWORD_FILE": secure_stack.password_file("mysql-admin"),
        "UMS_MYSQL_SSL_CA": secure_stack.ca_file,
        "UMS_MYSQL_DATABASE": f"tls_{uuid.uuid4().hex[:12]}",
        "UMS_DB_RETRY_MAX_S": "60",
    }
    environ = {k: v for k, v in os.environ.items() if not k.startswith("UMS_MYSQL")}
    return subprocess.run(
        [str(Path(sys.executable).with_name("ums-find")), *args],
        env={**environ, **base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_migrate_over_verified_tls_with_the_password_from_a_file(secure_stack: SecureStack) -> None:
    database = f"tls_{uuid.uuid4().hex[:12]}"
    done = ums_find(secure_stack, "migrate", UMS_MYSQL_DATABASE=database)
    assert done.returncode == 0, done.stderr
    conn = mysql.connector.connect(**secure_stack.mysql_args())
    try:
        cur = conn.cursor()
        cur.execute(f"SHOW TABLES FROM `{database}`")
        assert {row[0] for row in cur.fetchall()} == {"ums_users", "ums_checkpoints"}
        cur.execute(f"DROP DATABASE `{database}`")
    finally:
        conn.close()


def refusal_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == EXIT_REFUSED, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_wrong_password_ends_in_one_line_without_the_secret(
    secure_stack: SecureStack, tmp_path: Path
) -> None:
    wrong = tmp_path / "password"
    wrong.write_text("not-the-secret-42\n")
    line = refusal_line(ums_find(secure_stack, "migrate", UMS_MYSQL_PASSWORD_FILE=str(wrong)))
    assert "cannot authenticate" in line and "not-the-secret-42" not in line


@pytest.mark.parametrize(
    ("port_of", "ca"),
    [("mysql_port", "other-ca.pem"), ("mysql_wrong_host_port", "ca.pem")],
    ids=["untrusted-ca", "another-host-name"],
)
def test_a_certificate_not_verified_is_refused(secure_stack: SecureStack, port_of: str, ca: str) -> None:
    done = ums_find(
        secure_stack,
        "migrate",
        UMS_MYSQL_PORT=str(getattr(secure_stack, port_of)),
        UMS_MYSQL_SSL_CA=secure_stack.tls_file(ca),
    )
    line = refusal_line(done)
    assert "TLS refused" in line and secure_stack.password("mysql-admin") not in line
