"""The image's default command, built and started as the Dockerfile says, answers /healthz and /readyz."""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.image import Image, build
from tests.support.consumer import wait_until
from tests.support.processes import free_port
from ums_find.settings import Settings


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The Dockerfile followed into a fresh folder (a fresh virtualenv at <root>/opt/venv)."""
    return build(tmp_path_factory.mktemp("image-root"))


Files = dict[str, tuple[int, int]]


def tree(root: Path) -> Files:
    """Every file under `root` with its size and modification time."""
    found: Files = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            stat = (Path(folder) / name).stat()
            found[str(Path(folder, name).relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def status(url: str) -> int | None:
    """The HTTP status at `url`, or None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.fixture
def serving(image: Image, database: Settings) -> Iterator[tuple[str, subprocess.Popen[bytes], Files]]:
    """The default command running with the image's environment, pointed at this test's database.

    Also yields the image's files as they were just before the start.
    """
    port = free_port()
    env = {
        **image.env,
        "UMS_HTTP_HOST": "127.0.0.1",
        "UMS_HTTP_PORT": str(port),
        "UMS_MYSQL_HOST": database.mysql.host,
        "UMS_MYSQL_PORT": str(database.mysql.port),
        "UMS_MYSQL_USER": database.mysql.user,
        "UMS_MYSQL_PASSWORD": database.mysql.password.reveal(),
        "UMS_MYSQL_DATABASE": database.mysql.database,
    }
    before = tree(image.root / "opt")
    with subprocess.Popen(image.argv, cwd=image.workdir, env=env) as process:
        yield f"http://127.0.0.1:{port}", process, before
        process.terminate()
        process.wait(timeout=30)


def test_the_image_runs_its_own_virtualenv(image: Image) -> None:
    python = image.root / "opt" / "venv" / "bin" / "python"
    done = subprocess.run(
        [
            str(python),
            "-c",
            "import ums_find, mysql.connector; print(ums_find.__file__, mysql.connector.HAVE_CEXT)",
        ],
        cwd=image.workdir,
        env=image.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    location, cext = done.stdout.split()
    assert Path(location).is_relative_to(image.root), "ums_find came from outside the image's virtualenv"
    assert cext == "True", "mysql-connector-python's C extension is not in use in the image"


def test_default_command_answers_healthz_and_readyz_without_writing(
    image: Image, serving: tuple[str, subprocess.Popen[bytes], Files]
) -> None:
    base, process, before = serving
    wait_until(lambda: status(f"{base}/healthz") is not None or process.poll() is not None, 60, "/healthz")
    assert process.poll() is None, f"`{' '.join(image.argv)}` exited with {process.returncode}"
    assert status(f"{base}/healthz") == 200
    assert status(f"{base}/readyz") == 200
    # As with readOnlyRootFilesystem: serving wrote nothing into the image (no bytecode, no state).
    assert tree(image.root / "opt") == before
