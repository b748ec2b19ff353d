"""requirements.txt pins what pyproject.toml asks for, what that needs, and nothing else."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy.support import REPO

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)\s*(?:#\s*via\s+(?P<via>.+))?$")


def pins() -> dict[str, tuple[Version, set[str]]]:
    """requirements.txt as {name: (version, names in its `# via` note)}."""
    found: dict[str, tuple[Version, set[str]]] = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PIN.match(line.strip())
        assert match, f"requirements.txt: not an exact pin: {line!r}"
        via = {canonicalize_name(n) for n in (match["via"] or "").replace(",", " ").split()}
        found[canonicalize_name(match["name"])] = (Version(match["version"]), via)
    return found


def direct() -> dict[str, Requirement]:
    """pyproject.toml's runtime dependencies."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(text) for text in project["dependencies"]]
    return {canonicalize_name(r.name): r for r in reqs}


def requirers(pinned: set[str]) -> dict[str, set[str]]:
    """For each pinned name, the pinned packages whose metadata requires it (here, without extras)."""
    needed_by: dict[str, set[str]] = {name: set() for name in pinned}
    for name in pinned:
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                needed_by.setdefault(canonicalize_name(req.name), set()).add(name)
    return needed_by


def test_every_dependency_is_pinned_within_its_range() -> None:
    pinned = pins()
    for name, req in direct().items():
        assert name in pinned, f"{req} is in pyproject.toml but not pinned in requirements.txt"
        assert req.specifier.contains(pinned[name][0], prereleases=True), f"{name} pin outside {req}"


def test_the_pinned_versions_are_the_ones_installed() -> None:
    # The metadata read below must be that of the pinned versions.
    for name, (version, _via) in pins().items():
        assert Version(metadata.version(name)) == version, f"{name}: installed {metadata.version(name)}"


def test_every_pin_is_used_and_every_transitive_one_says_by_whom() -> None:
    pinned, ours = pins(), direct()
    needed_by = requirers(set(pinned))
    for name, (_version, via) in pinned.items():
        if name in ours:
            assert not via, f"{name} is a direct dependency: drop its `# via` note"
        else:
            assert needed_by[name], f"{name} is pinned but nothing requires it"
            assert via == needed_by[name], f"{name}: `# via` should name {sorted(needed_by[name])}"


def test_nothing_required_is_left_unpinned() -> None:
    # Otherwise `pip install -r requirements.txt` in the image would pick a version itself.
    missing = {name: by for name, by in requirers(set(pins())).items() if name not in pins()}
    assert not missing, f"required but not pinned: {missing}"


def imported_modules() -> set[str]:
    """The top-level modules that the project's own code imports."""
    found: set[str] = set()
    for folder in ("ums_find", "consumers"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found


def test_every_direct_dependency_is_imported_by_the_code() -> None:
    provides: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            provides.setdefault(canonicalize_name(dist), set()).add(module)
    imported = imported_modules()
    for name in direct():
        assert provides.get(name, set()) & imported, f"{name} is a dependency that no module imports"
