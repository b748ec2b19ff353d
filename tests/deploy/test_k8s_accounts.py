"""Least privilege as deployed: the API reads, the consumer and replay write, only migrate administers."""

from __future__ import annotations

import pytest

from tests.deploy.accounts import deployed_accounts, replay_logins
from tests.deploy.support import containers, find, pod_spec, render

SECRET = "secret:ums-find-mysql"


@pytest.mark.parametrize("kustomization", ["", "dev"], ids=lambda k: f"k8s/{k}")
def test_each_process_logs_in_as_the_account_migrate_makes_for_it(kustomization: str) -> None:
    accounts = deployed_accounts(kustomization)
    made = accounts.migrate
    api_account = (made["UMS_API_MYSQL_USER"], made["UMS_API_MYSQL_PASSWORD"])
    writer_account = (made["UMS_WRITER_MYSQL_USER"], made["UMS_WRITER_MYSQL_PASSWORD"])
    assert accounts.logins["api"] == api_account
    assert accounts.logins["consumer"] == writer_account
    assert api_account[0] != writer_account[0] and api_account[1] != writer_account[1]
    admin = accounts.logins["migrate"]
    assert admin[0] not in (api_account[0], writer_account[0])
    if kustomization == "":  # production reads every credential from the Secret the operator makes
        assert admin == (f"{SECRET}/admin-user", f"{SECRET}/admin-password")
        assert api_account[1] == f"{SECRET}/api-password"


def test_the_replay_job_writes_with_the_writer_account() -> None:
    accounts = deployed_accounts("")
    logins = replay_logins()
    assert logins["replay"] == accounts.logins["consumer"]
    assert logins["migrate"] == accounts.logins["migrate"]


def test_no_process_but_migrate_sees_the_administrators_password() -> None:
    docs = render("")
    for kind, name in (("Deployment", "ums-find-service"), ("Deployment", "ums-find-consumer")):
        workload = find(docs, kind, name)
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        for container in containers(workload):
            keys = {
                item["key"]
                for mount in container.get("volumeMounts", [])
                if "secret" in volumes[mount["name"]]
                for item in volumes[mount["name"]]["secret"]["items"]
            }
            if container["name"] != "migrate":
                assert "admin-password" not in keys, container["name"]
                assert len(keys) == 1, f"{container['name']} sees {keys}"
