"""The MySQL account each container of a kustomization logs in as, read from its manifests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.deploy.podenv import resolve
from tests.deploy.support import containers, find, render


@dataclass(frozen=True)
class Accounts:
    """What each process is given: the migrate container's environment and the others' logins."""

    migrate: dict[str, str]
    logins: dict[str, tuple[str, str]]  # container name -> (user, password or secret ref)


def deployed_accounts(kustomization: str = "") -> Accounts:
    """The API's, the consumer's and migrate's credentials as their containers would see them."""
    docs = render(kustomization)
    consumer = find(docs, "Deployment", "ums-find-consumer")
    api = find(docs, "Deployment", "ums-find-service")
    envs: dict[str, dict[str, str]] = {}
    for workload in (api, consumer):
        for container in containers(workload):
            envs[container["name"]] = resolve(docs, workload, container)
    logins = {name: (env["UMS_MYSQL_USER"], env.get("UMS_MYSQL_PASSWORD", "")) for name, env in envs.items()}
    return Accounts(migrate=envs["migrate"], logins=logins)


def replay_logins() -> dict[str, tuple[str, str]]:
    """The replay Job's containers' logins (its Secret comes with k8s/)."""
    docs: tuple[dict[str, Any], ...] = render("") + render("replay")
    job = find(render("replay"), "Job", "ums-find-replay")
    found = {}
    for container in containers(job):
        env = resolve(docs, job, container)
        found[container["name"]] = (env["UMS_MYSQL_USER"], env.get("UMS_MYSQL_PASSWORD", ""))
    return found
