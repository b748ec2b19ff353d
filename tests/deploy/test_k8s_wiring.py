"""How the manifests fit together: Service, budget, autoscaler, network policies, settings, dev overlay."""

from __future__ import annotations

import posixpath
import shlex
from typing import Any

import yaml

from tests.deploy.support import K8S, PARTITIONS, config, containers, find, pod_spec, port_number, render
from ums_find.settings import Settings

DNS, MYSQL, KAFKA = {("UDP", 53), ("TCP", 53)}, {("TCP", 3306)}, {("TCP", 9092)}


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


def test_budget_and_autoscaler_cover_the_api() -> None:
    docs = render("")
    api = find(docs, "Deployment", "ums-find-service")
    budget = find(docs, "PodDisruptionBudget", "ums-find-service")
    assert selects(budget["spec"]["selector"]["matchLabels"], api)
    assert 0 < budget["spec"]["minAvailable"] < api["spec"]["replicas"]
    scaler = find(docs, "HorizontalPodAutoscaler", "ums-find-service")["spec"]
    assert scaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "ums-find-service",
    }
    assert scaler["minReplicas"] == api["spec"]["replicas"] < scaler["maxReplicas"]
    # A CPU target needs a CPU request to measure against.
    assert "cpu" in pod_spec(api)["containers"][0]["resources"]["requests"]


def ports(rules: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """Every (protocol, port) a list of NetworkPolicy rules lets through."""
    return {(p.get("protocol", "TCP"), p["port"]) for rule in rules for p in rule["ports"]}


def test_network_policies_let_only_the_needed_traffic_through() -> None:
    docs = render("")
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    workloads = {
        "api": find(docs, "Deployment", "ums-find-service"),
        "consumer": find(docs, "Deployment", "ums-find-consumer"),
        "replay": find(render("replay"), "Job", "ums-find-replay"),
    }
    expected = {
        "api": ({("TCP", 8080)}, MYSQL | DNS),
        "consumer": ({("TCP", 8081)}, KAFKA | MYSQL | DNS),
        "replay": (set(), KAFKA | MYSQL | DNS),
    }
    for role, workload in workloads.items():
        (policy,) = [p for p in policies if selects(p["spec"]["podSelector"]["matchLabels"], workload)]
        spec = policy["spec"]
        assert set(spec["policyTypes"]) == {"Ingress", "Egress"}, f"{role}: not isolated both ways"
        assert (ports(spec.get("ingress", [])), ports(spec["egress"])) == expected[role], role
        # Rules without peers stand for "any address": the servers may live outside the cluster.
        assert all("from" not in rule for rule in spec.get("ingress", [])), role
        assert all("to" not in rule for rule in spec["egress"]), role
    assert int(config(docs)["UMS_CONSUMER_HTTP_PORT"]) == 8081


def test_the_settings_are_valid_and_the_password_is_a_mounted_file() -> None:
    docs = render("")
    data = config(docs)
    path = data.pop("UMS_MYSQL_PASSWORD_FILE")
    Settings.from_env(data)  # raises, naming the variable, if a value is invalid
    for workload in (
        find(docs, "Deployment", "ums-find-service"),
        find(docs, "Deployment", "ums-find-consumer"),
    ):
        secrets = {
            v["name"]: v["secret"]["secretName"] for v in pod_spec(workload)["volumes"] if "secret" in v
        }
        for container in containers(workload):
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert secrets.get(mounts.get(posixpath.dirname(path), "")) == "ums-find-mysql", container["name"]
    template = yaml.safe_load((K8S / "secret.example.yaml").read_text(encoding="utf-8"))
    generated = find(render("dev"), "Secret", "ums-find-mysql")
    key = posixpath.basename(path)
    assert template["metadata"]["name"] == "ums-find-mysql" and key in template["stringData"]
    assert key in generated["data"]


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
    assert all(not d["metadata"].get("namespace") for d in docs), "a namespace would defeat `kubectl -n`"
