"""py-spy's collapsed stacks (`--format raw`): the top frames by share, and an SVG flame graph."""

from __future__ import annotations

import html
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# A frame as py-spy writes it with --function: `name (path/to/file.py:line)`.
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass
class Node:
    """One frame of the merged call tree and the samples under it."""

    name: str
    samples: int = 0
    children: dict[str, Node] = field(default_factory=dict)


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


def tree(stacks: list[tuple[list[str], int]]) -> Node:
    """The stacks merged into one call tree."""
    root = Node("all")
    for frames, n in stacks:
        root.samples += n
        node = root
        for frame in frames:
            node = node.children.setdefault(frame, Node(short(frame)))
            node.samples += n
    return root


def svg(stacks: list[tuple[list[str], int]], title: str, width: int = 1600, row: int = 16) -> str:
    """A flame graph (root at the bottom), each frame's title giving its samples and share."""
    root = tree(stacks)
    rects: list[str] = []
    depth = _draw(root, 0.0, 0, width / max(1, root.samples), root.samples, rects, row)
    height = (depth + 2) * row
    body = "\n".join(r.replace("{H}", str(height)) for r in rects)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + row}" '
        f'font-family="monospace" font-size="11">\n'
        f'<text x="4" y="12">{html.escape(title)} ({root.samples} samples)</text>\n{body}\n</svg>\n'
    )


def _draw(node: Node, x: float, level: int, scale: float, total: int, out: list[str], row: int) -> int:
    w = node.samples * scale
    if w < 0.3:
        return level
    share = 100 * node.samples / max(1, total)
    label = html.escape(node.name)
    hue = 20 + zlib.crc32(node.name.encode()) % 40  # stable colours across runs
    out.append(
        f"<g><title>{label} ({node.samples} samples, {share:.2f}%)</title>"
        f'<rect x="{x:.1f}" y="{{H}}" width="{w:.1f}" height="{row - 1}" fill="hsl({hue},80%,60%)" '
        f'transform="translate(0,-{(level + 1) * row})"/>'
        + (
            f'<text x="{x + 2:.1f}" y="{{H}}" transform="translate(0,-{level * row + 4})">'
            f"{label[: int(w / 7)]}</text>"
            if w > 35
            else ""
        )
        + "</g>"
    )
    deepest = level
    for child in sorted(node.children.values(), key=lambda c: c.name):
        deepest = max(deepest, _draw(child, x, level + 1, scale, total, out, row))
        x += child.samples * scale
    return deepest


def render(raw: Path, title: str) -> dict[str, list[tuple[str, float]]]:
    """Write `<raw>.svg` beside the raw file; the top frames."""
    stacks = read_stacks(raw)
    raw.with_suffix(".svg").write_text(svg(stacks, title))
    return top_frames(stacks)
