"""Every manifest kustomize renders validates against the Kubernetes schemas; the YAML is lint-clean."""

from __future__ import annotations

import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from tests.deploy.support import K8S, KUSTOMIZATIONS, REPO, find, render, venv_tool

# The oldest minor version still commonly run, and the newest the package knows.
VERSIONS = ("1.31.0", latest_version())


def validate_all(docs: tuple[dict[str, Any], ...] | list[dict[str, Any]], where: str) -> None:
    """Validate each manifest strictly (unknown fields rejected) at every version."""
    assert docs, f"{where} renders nothing"
    for doc in docs:
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                name = f"{doc['kind']}/{doc['metadata']['name']}"
                pytest.fail(
                    f"{where}: {name} is invalid for Kubernetes {version}: {exc.message} at {exc.path}"
                )


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS, ids=lambda k: f"k8s/{k}")
def test_rendered_manifests_validate(kustomization: str) -> None:
    validate_all(render(kustomization), f"k8s/{kustomization}")


def test_secret_template_validates_and_holds_no_real_password() -> None:
    docs = list(yaml.safe_load_all((K8S / "secret.example.yaml").read_text(encoding="utf-8")))
    validate_all(docs, "k8s/secret.example.yaml")
    assert set(docs[0]["stringData"].values()) == {"CHANGE-ME"}


def test_validation_rejects_a_broken_manifest() -> None:
    # Guards the guard: a misspelt field must not pass as valid.
    api = find(render(""), "Deployment", "ums-find-service")
    broken = {**api, "spec": {**api["spec"], "replicaz": 3}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_yamllint_passes() -> None:
    done = subprocess.run(
        [venv_tool("yamllint"), "--strict", "k8s", "docker-compose.yml", ".yamllint.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
