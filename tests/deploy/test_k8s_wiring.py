"""How the manifests fit together: Service, budget, autoscaler, network policies, settings, dev overlay."""

from __future__ import annotations

import shlex
from typing import Any

from tests.deploy.support import PARTITIONS, config, find, pod_spec, port_number, render


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    """The labels of a workload's pods."""
    return workload["spec"]["template"]["metadata"]["labels"]  # type: ignore[no-any-return]


def selects(selector: dict[str, str], workload: dict[str, Any]) -> bool:
    """Whether a matchLabels selector picks this workload's pods."""
    return selector.items() <= pod_labels(workload).items()


def test_service_is_a_load_balancer_on_8080_for_the_api_only() -> None:
    docs = render("")
    service = find(docs, "Service", "ums-find-service")
    api, consumer = (
        find(docs, "Deployment", "ums-find-service"),
        find(docs, "Deployment", "ums-find-consumer"),
    )
    assert service["spec"]["type"] == "LoadBalancer"
    (port,) = service["spec"]["ports"]
    assert port["port"] == 8080
    assert port_number(pod_spec(api)["containers"][0], port["targetPort"]) == 8080
    assert selects(service["spec"]["selector"], api) and not selects(service["spec"]["selector"], consumer)


def test_budgets_and_autoscaler_cover_the_workloads() -> None:
    docs = render("")
    api, consumer = (
        find(docs, "Deployment", "ums-find-service"),
        find(docs, "Deployment", "ums-find-consumer"),
    )
    scaler = find(docs, "HorizontalPodAutoscaler", "ums-find-service")["spec"]
    assert scaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "ums-find-service",
    }
    # The autoscaler owns the API's count: a `replicas` field would reset it on every apply.
    assert "replicas" not in api["spec"]
    assert scaler["minReplicas"] == 3 < scaler["maxReplicas"]
    budget = find(docs, "PodDisruptionBudget", "ums-find-service")["spec"]
    assert selects(budget["selector"]["matchLabels"], api)
    assert 0 < budget["minAvailable"] < scaler["minReplicas"]
    # A CPU target needs a CPU request to measure against.
    assert "cpu" in pod_spec(api)["containers"][0]["resources"]["requests"]
    consumers = find(docs, "PodDisruptionBudget", "ums-find-consumer")["spec"]
    assert selects(consumers["selector"]["matchLabels"], consumer)
    assert not selects(consumers["selector"]["matchLabels"], api)
    assert consumers["maxUnavailable"] == 1 < consumer["spec"]["replicas"]


def test_every_object_has_the_namespace_and_the_standard_labels() -> None:
    for kustomization in ("", "replay", "dev"):
        for doc in render(kustomization):
            meta = doc["metadata"]
            if doc["kind"] != "Namespace":
                assert meta.get("namespace") == "ums-find", f"{doc['kind']}/{meta['name']}"
            if meta["labels"].get("app.kubernetes.io/name") in (None, "ums-find"):
                assert meta["labels"]["app.kubernetes.io/part-of"] == "ums-find", meta["name"]
                assert meta["labels"]["app.kubernetes.io/managed-by"] == "kustomize", meta["name"]
    names = [d["metadata"]["name"] for d in render("") if d["kind"] == "Namespace"]
    assert names == ["ums-find"]


def test_dev_overlay_brings_mysql_8_and_apache_kafka_where_the_settings_look() -> None:
    docs = render("dev")
    data = config(docs)
    mysql, kafka = find(docs, "StatefulSet", "mysql"), find(docs, "StatefulSet", "kafka")
    assert pod_spec(mysql)["containers"][0]["image"].startswith("mysql:8.")
    assert pod_spec(kafka)["containers"][0]["image"].startswith("apache/kafka:4.")
    host, _, port = data["UMS_KAFKA_BOOTSTRAP"].partition(":")
    for service, wanted in ((data["UMS_MYSQL_HOST"], int(data["UMS_MYSQL_PORT"])), (host, int(port))):
        assert [p["port"] for p in find(docs, "Service", service)["spec"]["ports"]] == [wanted]
    script = shlex.split(pod_spec(find(docs, "Job", "kafka-topics"))["containers"][0]["command"][-1])
    assert script[script.index("--topic") + 1] == data["UMS_TOPIC"] == "user-added"
    assert int(script[script.index("--partitions") + 1]) == PARTITIONS
