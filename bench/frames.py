"""py-spy's collapsed stacks (`--format raw`): the frames with the largest shares of the samples."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

# A frame as py-spy writes it with --function: `name (path/to/file.py:line)`.
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def read_stacks(path: Path) -> list[tuple[list[str], int]]:
    """The stacks of a raw file, outermost frame first, with their sample counts."""
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def short(frame: str) -> str:
    """`name (file)` without the line number, the package path shortened to its last two parts."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    parts = match["file"].split("/")
    return f"{match['name']} ({'/'.join(parts[-2:])})"


def top_frames(stacks: list[tuple[list[str], int]], count: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The frames with the largest self and inclusive shares of all samples (0..1)."""
    total = sum(n for _, n in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in stacks:
        names = [short(f) for f in frames]
        own[names[-1]] += n
        for name in set(names):  # recursion counts once per sample
            inclusive[name] += n
    return {
        "self": [(k, v / total) for k, v in own.most_common(count)],
        "inclusive": [(k, v / total) for k, v in inclusive.most_common(count)],
    }


def render(raw: Path) -> dict[str, list[tuple[str, float]]]:
    """The top frames of a raw file (py-spy draws the flame graph itself, beside it)."""
    return top_frames(read_stacks(raw))
