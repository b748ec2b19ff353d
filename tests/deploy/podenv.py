"""What a container of the rendered manifests sees: its environment and its mounted Secret keys."""

from __future__ import annotations

import base64
import posixpath
from typing import Any

from tests.deploy.support import config, pod_spec

Docs = tuple[dict[str, Any], ...]


def secret_data(docs: Docs, name: str) -> dict[str, str] | None:
    """A rendered Secret's decoded data (None when the kustomization leaves it to the operator)."""
    for doc in docs:
        if doc["kind"] == "Secret" and doc["metadata"]["name"] == name:
            return {k: base64.b64decode(v).decode() for k, v in doc.get("data", {}).items()}
    return None


def environment(docs: Docs, container: dict[str, Any]) -> dict[str, str]:
    """The container's variables: the ConfigMap, then its own `env` (Secret refs as `secret:NAME/KEY`)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] == "ums-find-config", source
        env.update(config(docs))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = f"secret:{ref['name']}/{ref['key']}"
    return env


def mounted_key(workload: dict[str, Any], container: dict[str, Any], path: str) -> tuple[str, str] | None:
    """The (Secret, key) a file path of this container holds, or None if no Secret is mounted there."""
    volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "secret" not in volume or mount["mountPath"] != posixpath.dirname(path):
            continue
        secret, name = volume["secret"], posixpath.basename(path)
        items = {item["path"]: item["key"] for item in secret.get("items", [])}
        if "items" not in secret:
            return secret["secretName"], name
        return (secret["secretName"], items[name]) if name in items else None
    return None


def resolve(docs: Docs, workload: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """The environment with each `*_FILE` and Secret ref replaced by the value it names (dev Secrets)."""
    env = environment(docs, container)
    for var, value in list(env.items()):
        if var.endswith("_FILE"):
            found = mounted_key(workload, container, value)
            assert found is not None, f"{container['name']}: nothing mounted at {value}"
            env[var.removesuffix("_FILE")] = f"secret:{found[0]}/{found[1]}"
            del env[var]
    for var, value in env.items():
        if value.startswith("secret:"):
            name, _, key = value.removeprefix("secret:").partition("/")
            data = secret_data(docs, name)
            if data is not None:
                assert key in data, f"{container['name']}: Secret {name} has no key {key}"
                env[var] = data[key]
    return env
