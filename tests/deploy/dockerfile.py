"""A small Dockerfile reader: stages, instructions, and the forms the image's metadata takes."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

_ENV_VAR = re.compile(r"\$(\w+)|\$\{(\w+)\}")


@dataclass
class Stage:
    """One `FROM` and the instructions up to the next one."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        """The arguments of every instruction with this keyword, in order."""
        return [value for key, value in self.instructions if key == keyword]


def logical_lines(text: str) -> list[str]:
    """The instructions' lines: comments dropped, backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if raw.strip().startswith("#") or not raw.strip():
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append((pending + raw).strip())
        pending = ""
    return lines


def parse(path: Path) -> list[Stage]:
    """The stages of the Dockerfile at `path`."""
    stages: list[Stage] = []
    for line in logical_lines(path.read_text(encoding="utf-8")):
        keyword, _, value = line.partition(" ")
        keyword, value = keyword.upper(), value.strip()
        if keyword == "FROM":
            words = value.split()
            named = len(words) == 3 and words[1].upper() == "AS"
            stages.append(Stage(words[0], words[2] if named else None))
        else:
            stages[-1].instructions.append((keyword, value))
    return stages


def exec_form(value: str) -> list[str]:
    """An ENTRYPOINT or CMD in exec (JSON) form; the shell form is refused."""
    argv = json.loads(value)
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
        raise ValueError(f"not an exec-form list: {value}")
    return argv


def env_pairs(stage: Stage, outer: dict[str, str]) -> dict[str, str]:
    """The stage's ENV, each value expanded against what came before (then `outer`)."""
    env: dict[str, str] = {}
    for value in stage.values("ENV"):
        for word in shlex.split(value):
            key, _, text = word.partition("=")
            env[key] = _ENV_VAR.sub(lambda m: {**outer, **env}.get(m[1] or m[2], ""), text)
    return env


def copy_args(value: str) -> tuple[dict[str, str], list[str], str]:
    """A COPY's flags (`--from=...`), sources and destination."""
    words = shlex.split(value)
    flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]
