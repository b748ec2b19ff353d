"""Shared by the deploy tests: the repository's paths, its tools and the rendered manifests."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
KUSTOMIZE = REPO / ".run" / "bin" / "kustomize"
# Every kustomization in k8s/: production, its on-demand replay Job, both against servers that
# require TLS and passwords (k8s/secured), and the local-cluster overlay.
KUSTOMIZATIONS = ("", "replay", "secured", "secured/replay", "dev", "dev/replay")
# user-added's partitions, as dev/stack.sh, k8s/dev and docker-compose.yml create it.
PARTITIONS = 3


def venv_tool(name: str) -> str:
    """A console script installed beside the running interpreter (requirements-dev.txt)."""
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.fail(f"{name} is not installed: run `make venv` (requirements-dev.txt pins it)")
    return str(path)


@functools.cache
def render(kustomization: str) -> tuple[dict[str, Any], ...]:
    """The manifests `kustomize build k8s/<kustomization>` gives, parsed."""
    if not KUSTOMIZE.exists():
        pytest.fail(f"{KUSTOMIZE} is missing: run `make tools` (it installs the pinned kustomize)")
    done = subprocess.run(
        [str(KUSTOMIZE), "build", str(K8S / kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"kustomize build k8s/{kustomization} failed:\n{done.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def find(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    """The one manifest of this kind and name."""
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def config(docs: tuple[dict[str, Any], ...]) -> dict[str, str]:
    """The settings ConfigMap's data."""
    return dict(find(docs, "ConfigMap", "ums-find-config")["data"])


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod template's spec of a Deployment, StatefulSet or Job."""
    return workload["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def containers(workload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every container of a workload, init containers first."""
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def port_number(container: dict[str, Any], port: int | str) -> int:
    """A probe's or Service's port, resolved through the container's named ports."""
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    assert port in named, f"container {container['name']} has no port named {port!r}"
    return int(named[port])
