"""Follow the Dockerfile outside Docker: its build stage into a folder, then its runtime metadata.

Every absolute path of the image is placed under one root folder (`/opt/venv` becomes
`<root>/opt/venv`), `python` is this interpreter (3.11, like the base image), and RUN lines
must be single commands so that they can run without a shell. Only `--no-cache-dir` is
dropped, so that pip's cache keeps the test fast; what gets installed is the same. The
runtime stage's RUN (making the user) is not followed: the test checks USER by reading it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tests.deploy.dockerfile import Stage, copy_args, env_pairs, exec_form, parse
from tests.deploy.support import REPO

_SHELL_OPERATORS = {"&&", "||", ";", "|", ">", "<"}


@dataclass(frozen=True)
class Image:
    """A built 'image': its root folder, its environment and its default command."""

    root: Path
    env: dict[str, str]
    argv: list[str]
    workdir: Path


def mapped(root: Path, image_path: str, workdir: str = "/") -> Path:
    """Where an image path lives under `root`."""
    absolute = PurePosixPath(workdir, image_path)
    return root.joinpath(*absolute.parts[1:])


def _run(root: Path, workdir: str, command: str) -> None:
    words = shlex.split(command)
    assert not _SHELL_OPERATORS & set(words), f"RUN needs a shell, which this follower avoids: {command}"
    argv = [str(mapped(root, w)) if w.startswith("/") else w for w in words if w != "--no-cache-dir"]
    argv = [sys.executable if w == "python" else w for w in argv]
    done = subprocess.run(argv, cwd=mapped(root, workdir), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"RUN {command} failed:\n{done.stdout}\n{done.stderr}"


def _copy(root: Path, workdir: str, value: str) -> None:
    flags, sources, dest = copy_args(value)
    if "from" in flags:
        # Between stages: the stages share the root folder, so the path must stay the same.
        assert sources == [dest], f"COPY {value}: only same-path copies between stages are followed"
        return
    for source in sources:
        src = REPO / source
        target = mapped(root, dest, workdir)
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif dest.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / src.name)
        else:
            shutil.copy2(src, target)


def build_stage(root: Path, stage: Stage) -> None:
    """Carry out WORKDIR, COPY and RUN of a build stage."""
    workdir = "/"
    for keyword, value in stage.instructions:
        if keyword == "WORKDIR":
            workdir = str(PurePosixPath(workdir, value))
            mapped(root, workdir).mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            _copy(root, workdir, value)
        elif keyword == "RUN":
            _run(root, workdir, value)


def runtime(root: Path, stage: Stage) -> Image:
    """The runtime stage's environment and default command, with image paths placed under `root`."""
    env = env_pairs(stage, {"PATH": os.environ["PATH"]})
    for keyword, value in stage.instructions:
        if keyword == "COPY":
            _copy(root, "/", value)
    image_path = env.get("PATH", os.environ["PATH"]).split(":")
    env["PATH"] = ":".join(str(mapped(root, p)) if mapped(root, p).is_dir() else p for p in image_path)
    argv = exec_form(stage.values("ENTRYPOINT")[-1]) + exec_form(stage.values("CMD")[-1])
    workdirs = stage.values("WORKDIR")
    return Image(root, env, argv, mapped(root, workdirs[-1] if workdirs else "/"))


def build(root: Path) -> Image:
    """Follow the whole Dockerfile into `root`."""
    *builders, final = parse(REPO / "Dockerfile")
    for stage in builders:
        build_stage(root, stage)
    return runtime(root, final)
