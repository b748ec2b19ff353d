"""Run `dev/stack.sh` for the servers the tests start themselves, on ports kept between sessions."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "dev" / "stack.sh"
RUN_DIR = ROOT / ".run"


def run_stack(command: str, env: dict[str, str], timeout_s: float = 180.0) -> str:
    """One `dev/stack.sh` command (its waits are bounded); its output, or a failure showing it."""
    done = subprocess.run(
        ["bash", str(STACK), command], env=env, capture_output=True, text=True, timeout=timeout_s
    )
    assert done.returncode == 0, f"stack.sh {command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ours(status_command: str, ports: dict[str, int]) -> bool:
    """Whether servers this script started still run on these ports (a session that did not stop them)."""
    done = subprocess.run(
        ["bash", str(STACK), status_command], env=stack_env(ports), capture_output=True, text=True, timeout=30
    )
    return done.returncode == 0 and "not started by this script" not in done.stdout


def session_ports(name: str, variables: list[str], status_command: str) -> dict[str, int]:
    """Free ports for these variables: last session's when still free (or still ours), else new ones.

    Reusing them spares the secure broker a fresh storage format (its voter set names
    the controller port). Call before starting.
    """
    record = RUN_DIR / f"{name}.ports.json"
    try:
        ports = {key: int(value) for key, value in json.loads(record.read_text()).items()}
    except (OSError, ValueError):
        ports = {}
    usable = sorted(ports) == sorted(variables) and (
        all(_bindable(p) for p in ports.values()) or _ours(status_command, ports)
    )
    if not usable:
        if ports:  # a server left from then would hold the data directory: stop what the pid files name
            subprocess.run(
                ["bash", str(STACK), status_command.replace("status", "down")],
                env=stack_env(ports),
                capture_output=True,
                timeout=120,
            )
        ports = {key: free_port() for key in variables}
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(ports))
    return ports


def stack_env(ports: dict[str, int]) -> dict[str, str]:
    """The environment for `dev/stack.sh` with these port settings."""
    return {**os.environ, **{key: str(port) for key, port in ports.items()}}
