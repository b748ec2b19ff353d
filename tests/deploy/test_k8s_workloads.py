"""The workloads' promises, read from the manifests as kustomize renders them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.dockerfile import exec_form, parse
from tests.deploy.support import (
    KUSTOMIZATIONS,
    PARTITIONS,
    REPO,
    config,
    containers,
    find,
    pod_spec,
    port_number,
    render,
)
from ums_find.cli import main

# Each of our containers runs the image's entrypoint (`ums-find`) with these arguments.
ARGS = {"api": ["serve"], "consumer": ["consume"], "replay": ["replay"], "migrate": ["migrate"]}


def ours(docs: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """The workloads that run the ums-find image."""
    kinds = {"Deployment", "StatefulSet", "Job"}
    return [
        d
        for d in docs
        if d["kind"] in kinds and d["metadata"]["labels"]["app.kubernetes.io/name"] == "ums-find"
    ]


def probe(container: dict[str, Any], kind: str) -> tuple[str, int]:
    """A probe's HTTP path and port number."""
    get = container[kind]["httpGet"]
    return get["path"], port_number(container, get["port"])


# The shortest database outage that takes an API pod out of the Service's endpoints: shorter
# blips are answered `503` with a JSON body (better for a client than a refused connection).
READINESS_BLIP_S = 30
# Seconds the kubelet should still wait after the preStop pause and the drain bound.
SHUTDOWN_HEADROOM_S = 10


def test_api_deployment() -> None:
    docs = render("")
    api = find(docs, "Deployment", "ums-find-service")
    (container,) = containers(api)
    assert probe(container, "readinessProbe") == ("/readyz", 8080)
    assert probe(container, "livenessProbe") == ("/healthz", 8080)
    ready = container["readinessProbe"]
    assert ready["periodSeconds"] * ready["failureThreshold"] >= READINESS_BLIP_S
    pause = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep", "no pause for the LoadBalancer to drain"
    drain_s = float(pause[1]) + float(config(docs)["UMS_SHUTDOWN_S"])
    assert pod_spec(api)["terminationGracePeriodSeconds"] >= drain_s + SHUTDOWN_HEADROOM_S
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    spread = pod_spec(api)["topologySpreadConstraints"]
    assert {"kubernetes.io/hostname"} <= {c["topologyKey"] for c in spread}
    assert all(c["labelSelector"]["matchLabels"].items() <= pod_labels.items() for c in spread)


def test_consumer_deployment() -> None:
    docs = render("")
    consumer = find(docs, "Deployment", "ums-find-consumer")
    assert 1 <= consumer["spec"]["replicas"] <= PARTITIONS
    assert consumer["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0, (
        "a rollout would exceed the partitions"
    )
    main_container = pod_spec(consumer)["containers"][0]
    own_port = int(config(docs)["UMS_CONSUMER_HTTP_PORT"])
    assert probe(main_container, "readinessProbe") == ("/readyz", own_port)
    assert probe(main_container, "livenessProbe") == ("/healthz", own_port)
    drain_s = float(config(docs)["UMS_SHUTDOWN_S"])
    assert pod_spec(consumer)["terminationGracePeriodSeconds"] >= drain_s + SHUTDOWN_HEADROOM_S
    assert [c["name"] for c in pod_spec(consumer)["initContainers"]] == ["migrate"]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS, ids=lambda k: f"k8s/{k}")
def test_every_container_runs_the_image_entrypoint_with_its_subcommand(kustomization: str) -> None:
    entrypoint = exec_form(parse(REPO / "Dockerfile")[-1].values("ENTRYPOINT")[-1])
    assert entrypoint == ["ums-find"]
    images = set()
    for workload in ours(render(kustomization)):
        for container in containers(workload):
            assert "command" not in container, "a command would replace the image's entrypoint"
            assert container["args"] == ARGS[container["name"]]
            images.add(container["image"])
    assert len(images) == 1, f"one image for every process, not {images}"


def test_the_subcommands_exist() -> None:
    used = {args[0] for args in ARGS.values()}
    # `replay` arrives with the replay feature; every other subcommand must exist already.
    assert used - set(main.commands) <= {"replay"}


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS, ids=lambda k: f"k8s/{k}")
def test_every_pod_of_ours_is_unprivileged_and_read_only(kustomization: str) -> None:
    for workload in ours(render(kustomization)):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        assert spec["automountServiceAccountToken"] is False
        tmp_volumes = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts.get("/tmp") in tmp_volumes, f"{container['name']}: no writable /tmp"
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
            assert "memory" in container["resources"]["limits"]


def test_replay_is_a_job_of_its_own() -> None:
    job = find(render("replay"), "Job", "ums-find-replay")
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert [c["args"] for c in containers(job)] == [["migrate"], ["replay"]]
    # Applying k8s/ must never start a rebuild; the Job is created on demand.
    assert not [d for d in render("") if d["kind"] == "Job"]
    prod_image = pod_spec(find(render(""), "Deployment", "ums-find-service"))["containers"][0]["image"]
    assert pod_spec(job)["containers"][0]["image"] == prod_image, (
        "k8s/replay's image is out of step with k8s/"
    )
