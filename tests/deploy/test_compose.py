"""docker-compose.yml: valid by the Compose schema, and wired so that `docker compose up` serves :8080."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import yaml

from tests.deploy.support import PARTITIONS, REPO, venv_tool
from ums_find.settings import Settings

COMPOSE = REPO / "docker-compose.yml"
_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def services() -> dict[str, Any]:
    """The services, anchors and merge keys resolved."""
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]  # type: ignore[no-any-return]


def interpolated(env: dict[str, Any]) -> dict[str, str]:
    """An environment as Compose would give it with no variables set in the shell."""
    return {key: _DEFAULTED.sub(lambda m: m[2], str(value)) for key, value in env.items()}


def test_valid_by_the_compose_schema() -> None:
    done = subprocess.run(
        [venv_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_servers_are_mysql_8_and_apache_kafka_in_kraft_mode() -> None:
    found = services()
    assert found["mysql"]["image"].startswith("mysql:8.")
    assert found["kafka"]["image"].startswith("apache/kafka:4.")
    assert "controller" in found["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    topics = found["kafka-topics"]["command"][0]
    assert "user-added" in topics and f"--partitions {PARTITIONS}" in topics


def test_our_services_run_the_image_with_their_subcommand() -> None:
    found = services()
    for name, args in {"migrate": ["migrate"], "api": ["serve"], "consumer": ["consume"]}.items():
        service = found[name]
        assert service["build"] == "." and service["command"] == args and "entrypoint" not in service
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        Settings.from_env(interpolated(service["environment"]))  # every value valid
    assert found["api"]["ports"] == ["8080:8080"]
    assert found["api"]["environment"]["UMS_HTTP_PORT"] == "8080"


def test_everything_starts_in_order_and_reports_its_health() -> None:
    found = services()
    for name in ("mysql", "kafka", "api", "consumer"):
        assert found[name]["healthcheck"]["test"], f"{name} has no health check"
    waits = {name: service.get("depends_on", {}) for name, service in found.items()}
    assert waits["migrate"] == {"mysql": {"condition": "service_healthy"}}
    assert waits["kafka-topics"] == {"kafka": {"condition": "service_healthy"}}
    done = {"condition": "service_completed_successfully"}
    assert waits["api"] == {"migrate": done}
    assert waits["consumer"] == {"migrate": done, "kafka-topics": done}
    assert "8080/readyz" in " ".join(found["api"]["healthcheck"]["test"])
    consumer_port = found["consumer"]["environment"]["UMS_CONSUMER_HTTP_PORT"]
    assert f"{consumer_port}/healthz" in " ".join(found["consumer"]["healthcheck"]["test"])


def test_the_consumer_gets_time_to_finish_its_batch() -> None:
    consumer = services()["consumer"]
    grace_s = int(consumer["stop_grace_period"].removesuffix("s"))
    assert grace_s > float(consumer["environment"]["UMS_SHUTDOWN_S"])


def test_each_process_logs_in_with_its_own_account() -> None:
    found = services()
    env = {name: interpolated(found[name]["environment"]) for name in ("migrate", "api", "consumer")}
    admin = found["mysql"]["environment"]["MYSQL_ROOT_PASSWORD"]
    assert env["migrate"]["UMS_MYSQL_USER"] == "root" and env["migrate"]["UMS_MYSQL_PASSWORD"] in admin
    for process, role in (("api", "API"), ("consumer", "WRITER")):
        assert env[process]["UMS_MYSQL_USER"] == env["migrate"][f"UMS_{role}_MYSQL_USER"], process
        assert env[process]["UMS_MYSQL_PASSWORD"] == env["migrate"][f"UMS_{role}_MYSQL_PASSWORD"], process
        assert env[process]["UMS_MYSQL_USER"] != "root", process
    assert env["api"]["UMS_MYSQL_USER"] != env["consumer"]["UMS_MYSQL_USER"]
