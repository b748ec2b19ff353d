"""Every server a process of ours connects to is let through by the NetworkPolicies of its pod."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.deploy.podenv import environment
from tests.deploy.support import containers, find, render
from ums_find.settings import Settings

# What each subcommand connects to: `serve` reads MySQL and asks Kafka for the topic's
# partition count (the position tokens); `consume` and `replay` read Kafka and write MySQL;
# `migrate` talks to MySQL alone. The API's read replicas (UMS_MYSQL_READ_HOSTS) count as MySQL.
CONNECTS = {
    "serve": {"mysql", "kafka"},
    "consume": {"mysql", "kafka"},
    "replay": {"mysql", "kafka"},
    "migrate": {"mysql"},
}
WORKLOADS = (("", "Deployment", "ums-find-service"), ("", "Deployment", "ums-find-consumer"))
WORKLOADS += (("replay", "Job", "ums-find-replay"),)
WORKLOADS += (("secured", "Deployment", "ums-find-service"), ("secured", "Deployment", "ums-find-consumer"))
WORKLOADS += (("secured/replay", "Job", "ums-find-replay"),)


def targets(settings: Settings, needs: set[str]) -> set[tuple[str, int]]:
    """The host:port pairs a process with these needs opens."""
    found = set()
    if "mysql" in needs:
        found = {(settings.mysql.host, settings.mysql.port), *settings.mysql.read_endpoints}
    if "kafka" in needs:
        for server in settings.kafka.bootstrap.split(","):
            host, _, port = server.strip().rpartition(":")
            found.add((host, int(port)))
    return found


def policies_for(docs: tuple[dict[str, Any], ...], workload: dict[str, Any]) -> list[dict[str, Any]]:
    """The NetworkPolicies whose podSelector picks the workload's pods."""
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return [
        d
        for d in docs
        if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    ]


def egress_allows(policies: list[dict[str, Any]], protocol: str, port: int) -> bool:
    """Whether some egress rule lets a connection to any address on this port through."""
    for policy in policies:
        if "Egress" not in policy["spec"].get("policyTypes", []):
            return True  # a policy that does not isolate egress allows it all
        for rule in policy["spec"].get("egress", []):
            # A peer list would need the server's address, which the settings do not fix.
            if rule.get("to"):
                continue
            allowed = rule.get("ports")
            if not allowed or any(
                p.get("protocol", "TCP") == protocol and p.get("port") == port for p in allowed
            ):
                return True
    return not policies


def _unfiled(name: str) -> str:
    return name.removesuffix("_FILE") if name.endswith("PASSWORD_FILE") else name


def _secret(name: str, value: str) -> bool:
    return value.startswith("secret:") or name.endswith("PASSWORD")


def unreachable(docs: tuple[dict[str, Any], ...], workload: dict[str, Any]) -> list[str]:
    """Each container's server (and DNS to find it) that its pod's policies would cut off."""
    policies = policies_for(docs, workload)
    cut = []
    for container in containers(workload):
        # Files and Secrets stand for values the settings need (a SASL password) but do not route by.
        env = {_unfiled(k): v for k, v in environment(docs, container).items()}
        settings = Settings.from_env({k: "from-a-secret" if _secret(k, v) else v for k, v in env.items()})
        for host, port in targets(settings, CONNECTS[container["args"][0]]):
            if not egress_allows(policies, "TCP", port):
                cut.append(f"{container['name']} -> {host}:{port}")
            if not host.replace(".", "").isdigit() and not egress_allows(policies, "UDP", 53):
                cut.append(f"{container['name']} -> DNS for {host}")
    return cut


@pytest.mark.parametrize(("kustomization", "kind", "name"), WORKLOADS, ids=lambda v: str(v) or "k8s")
def test_every_server_a_process_connects_to_is_allowed(kustomization: str, kind: str, name: str) -> None:
    # The replay Job's policy and settings come with k8s/ (or k8s/secured), applied before it.
    applied = render("secured" if kustomization.startswith("secured") else "")
    docs = applied + (render(kustomization) if kustomization not in ("", "secured") else ())
    workload = find(render(kustomization), kind, name)
    assert policies_for(docs, workload), f"{name}: no policy isolates it"
    assert unreachable(applied, workload) == []


def test_a_policy_without_kafka_cuts_the_api_off() -> None:
    # Guards the check: the API's old policy (MySQL and DNS only) must be found wanting.
    docs = copy.deepcopy(render(""))
    policy = find(docs, "NetworkPolicy", "ums-find-service")
    policy["spec"]["egress"] = [r for r in policy["spec"]["egress"] if r["ports"][0]["port"] != 9092]
    api = find(docs, "Deployment", "ums-find-service")
    assert unreachable(docs, api) == ["api -> kafka:9092"]


def test_read_replicas_on_another_port_need_a_policy_for_it() -> None:
    docs = copy.deepcopy(render(""))
    api = find(docs, "Deployment", "ums-find-service")
    (container,) = containers(api)
    hosts = next(var for var in container["env"] if var["name"] == "UMS_MYSQL_READ_HOSTS")
    hosts["value"] = "replica-a:3306,replica-b:3307"
    assert unreachable(docs, api) == ["api -> replica-b:3307"]


def test_ingress_lets_in_only_the_ports_the_pods_serve_on() -> None:
    docs = render("")
    data = find(docs, "ConfigMap", "ums-find-config")["data"]
    served = {
        "ums-find-service": {int(data["UMS_HTTP_PORT"])},
        "ums-find-consumer": {int(data["UMS_CONSUMER_HTTP_PORT"])},
        "ums-find-replay": set(),
    }
    for name, wanted in served.items():
        spec = find(docs, "NetworkPolicy", name)["spec"]
        assert set(spec["policyTypes"]) == {"Ingress", "Egress"}, name
        ports = {p["port"] for rule in spec.get("ingress", []) for p in rule["ports"]}
        assert ports == wanted, name
