"""k8s/secured: every process speaks SASL_SSL to Kafka and verified TLS to MySQL, its secrets as files."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy.podenv import environment, mounted_key
from tests.deploy.support import K8S, config, containers, find, render
from ums_find.kafka.security import security_config
from ums_find.settings import Settings
from ums_find.store.connection import tls_options

SECRET = "ums-find-security"
WORKLOADS = [
    ("secured", "Deployment", "ums-find-service"),
    ("secured", "Deployment", "ums-find-consumer"),
    ("secured/replay", "Job", "ums-find-replay"),
]


def _workload(kustomization: str, kind: str, name: str) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    # The replay Job takes the settings k8s/secured deploys.
    docs = render("secured") + (render(kustomization) if kustomization != "secured" else ())
    return docs, find(render(kustomization), kind, name)


def _settings(
    docs: tuple[dict[str, Any], ...], workload: dict[str, Any], container: dict[str, Any]
) -> Settings:
    """The container's settings, each file it names replaced by the Secret key mounted there."""
    env = environment(docs, container)
    files = {k: v for k, v in env.items() if k.endswith("_FILE") and not k.endswith("PASSWORD_FILE")}
    passwords = {k: v for k, v in env.items() if k.endswith("PASSWORD_FILE")}
    for path in [*files.values(), *passwords.values()]:
        assert mounted_key(workload, container, path) is not None, f"{container['name']}: nothing at {path}"
    plain = {k: v for k, v in env.items() if k not in passwords and not v.startswith("secret:")}
    return Settings.from_env({**plain, **{k.removesuffix("_FILE"): "from-a-file" for k in passwords}})


@pytest.mark.parametrize(("kustomization", "kind", "name"), WORKLOADS, ids=lambda v: str(v))
def test_every_process_verifies_both_servers_with_the_mounted_cas(
    kustomization: str, kind: str, name: str
) -> None:
    docs, workload = _workload(kustomization, kind, name)
    for container in containers(workload):
        env = environment(docs, container)
        settings = _settings(docs, workload, container)
        kafka = security_config(settings.kafka)
        assert kafka["security.protocol"] == "SASL_SSL" and kafka["sasl.mechanism"] == "SCRAM-SHA-512"
        assert kafka["ssl.endpoint.identification.algorithm"] == "https"
        assert mounted_key(workload, container, env["UMS_KAFKA_CA_FILE"]) == (SECRET, "kafka-ca.pem")
        assert mounted_key(workload, container, env["UMS_KAFKA_PASSWORD_FILE"]) == (SECRET, "kafka-password")
        assert mounted_key(workload, container, env["UMS_MYSQL_SSL_CA"]) == (SECRET, "mysql-ca.pem")
        mysql = tls_options(settings.mysql)
        assert (mysql["ssl_ca"], mysql["ssl_verify_cert"], mysql["ssl_verify_identity"]) == (
            env["UMS_MYSQL_SSL_CA"],
            True,
            True,
        ), container["name"]


@pytest.mark.parametrize(("kustomization", "kind", "name"), WORKLOADS, ids=lambda v: str(v))
def test_no_password_sits_in_an_environment_variable(kustomization: str, kind: str, name: str) -> None:
    docs, workload = _workload(kustomization, kind, name)
    for container in containers(workload):
        inline = [k for k in environment(docs, container) if k.endswith("PASSWORD")]
        assert inline == [], f"{container['name']}: {inline}"


def test_the_secret_template_holds_every_key_the_manifests_mount() -> None:
    templates = list(yaml.safe_load_all((K8S / "secret.example.yaml").read_text(encoding="utf-8")))
    template = next(d for d in templates if d["metadata"]["name"] == SECRET)
    mounted = {
        item["key"]
        for kustomization, kind, name in WORKLOADS
        for volume in find(render(kustomization), kind, name)["spec"]["template"]["spec"]["volumes"]
        if volume.get("secret", {}).get("secretName") == SECRET
        for item in volume["secret"]["items"]
    }
    assert mounted == set(template["stringData"]) == {"kafka-ca.pem", "mysql-ca.pem", "kafka-password"}


def test_the_plain_overlays_stay_plaintext() -> None:
    for kustomization in ("", "dev"):
        data = config(render(kustomization))
        assert "UMS_KAFKA_SECURITY_PROTOCOL" not in data and "UMS_MYSQL_SSL_CA" not in data
