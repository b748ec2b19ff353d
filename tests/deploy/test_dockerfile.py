"""The Dockerfile: lint-clean, multi-stage, slim, pinned, unprivileged, and `ums-find serve` by default."""

from __future__ import annotations

import fnmatch
import subprocess

from tests.deploy.dockerfile import copy_args, env_pairs, exec_form, parse
from tests.deploy.support import REPO, venv_tool

DOCKERFILE = REPO / "Dockerfile"


def test_hadolint_finds_nothing() -> None:
    done = subprocess.run(
        [venv_tool("hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_multi_stage_on_slim_python_3_11() -> None:
    stages = parse(DOCKERFILE)
    assert len(stages) >= 2
    assert all(s.base.startswith("python:3.11") and "slim" in s.base for s in stages)
    runtime = stages[-1]
    copies = [copy_args(v) for v in runtime.values("COPY")]
    # The runtime stage takes only the built virtualenv: no compilers, no build context.
    assert copies == [({"from": stages[0].name or "0"}, ["/opt/venv"], "/opt/venv")]


def test_dependencies_come_from_the_pinned_requirements_only() -> None:
    build = parse(DOCKERFILE)[0]
    installs = [v for v in build.values("RUN") if " install " in v]
    assert installs, "the build stage installs nothing"
    assert "-r requirements.txt" in installs[0]
    # The project itself must not pull anything that requirements.txt does not pin.
    assert all("--no-deps" in v for v in installs[1:])


def test_runs_as_an_unprivileged_user() -> None:
    runtime = parse(DOCKERFILE)[-1]
    users = runtime.values("USER")
    assert users, "no USER: the image would run as root"
    uid, _, gid = users[-1].partition(":")
    # Numeric, so that runAsNonRoot can verify it without reading /etc/passwd.
    assert uid.isdigit() and int(uid) > 0 and (not gid or int(gid) > 0)


def test_entrypoint_is_ums_find_serving_on_8080() -> None:
    runtime = parse(DOCKERFILE)[-1]
    assert exec_form(runtime.values("ENTRYPOINT")[-1]) == ["ums-find"]
    assert exec_form(runtime.values("CMD")[-1]) == ["serve"]
    assert runtime.values("EXPOSE") == ["8080"]
    env = env_pairs(runtime, {"PATH": "/usr/bin"})
    assert env["UMS_HTTP_PORT"] == "8080"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1", "a read-only root filesystem needs no bytecode writes"
    assert env["PATH"].startswith("/opt/venv/bin:")


def dockerignore_admits(path: str) -> bool:
    """Whether .dockerignore lets `path` into the build context (last matching rule wins)."""
    admitted = True
    for rule in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        rule = rule.strip()
        if not rule or rule.startswith("#"):
            continue
        negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.lstrip("*/")) for p in prefixes):
            admitted = negate
    return admitted


def test_dockerignore_admits_what_is_copied_and_nothing_local() -> None:
    build = parse(DOCKERFILE)[0]
    sources = [src for value in build.values("COPY") for src in copy_args(value)[1]]
    for source in sources:
        assert dockerignore_admits(source), f"COPY {source} is excluded by .dockerignore"
        assert (REPO / source).exists(), f"COPY {source}: no such path"
    for local in (".venv", ".run", ".git", "tests", "ums_find/__pycache__/cli.cpython-311.pyc"):
        assert not dockerignore_admits(local), f".dockerignore lets {local} into the build context"
