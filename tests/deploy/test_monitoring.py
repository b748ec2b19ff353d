"""Alerts unit-tested by promtool, the dashboard importable, the manifests clean by kube-score."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.monitoring import alerts, dashboard, our_metrics, queries, rule_groups
from tests.deploy.support import REPO, render

TOOLS = REPO / ".run" / "bin"
RULE_TESTS = Path(__file__).with_name("promtool") / "rules_test.yaml"
# The alerts the runbook explains, each under its own heading.
RUNBOOK = REPO / "docs" / "RUNBOOK.md"
# kube-score's critical findings we accept, with the README's reason for each (none today).
DELIBERATE: set[str] = set()


def tool(name: str) -> str:
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make tools` (it builds the pinned {name})")
    return str(path)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_checks_the_rules_and_passes_their_unit_tests(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule_groups()), encoding="utf-8")
    shutil.copy(RULE_TESTS, tmp_path / "rules_test.yaml")
    checked = run([tool("promtool"), "check", "rules", "rules.yaml"], tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run([tool("promtool"), "test", "rules", "rules_test.yaml"], tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # Every alert has a test case that expects it to fire.
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    fired = {c["alertname"] for t in tests for c in t["alert_rule_test"] if c["exp_alerts"]}
    assert fired == set(alerts())


def test_promtool_fails_a_rule_that_no_longer_fires(tmp_path: Path) -> None:
    # Guards the guard: a threshold moved out of reach must fail the unit tests.
    groups = rule_groups()
    for group in groups["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "UmsFindApiErrors":
                rule["expr"] = rule["expr"].replace("> 0.01", "> 0.5")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(groups), encoding="utf-8")
    shutil.copy(RULE_TESTS, tmp_path / "rules_test.yaml")
    assert run([tool("promtool"), "test", "rules", "rules_test.yaml"], tmp_path).returncode != 0


def test_every_alert_has_a_runbook_entry_and_a_severity() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    for name, rule in alerts().items():
        assert f"## {name}" in text, f"docs/RUNBOOK.md has no section for {name}"
        assert rule["annotations"]["runbook"] == f"docs/RUNBOOK.md#{name.lower()}"
        assert rule["labels"]["severity"] in {"warning", "critical"}


def test_the_dashboard_imports_as_is() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and board["panels"]
    (variable,) = board["templating"]["list"]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
    wanted = {"ums_find_http_requests_total", "ums_find_http_request_duration_seconds_bucket"}
    wanted |= {"ums_consumer_lag", "ums_consumer_records_applied_total", "ums_consumer_poison_records_total"}
    used = set().union(*(our_metrics(q) for q in queries().values()))
    assert wanted <= used


def test_the_monitoring_kustomization_renders() -> None:
    docs = render("monitoring")
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["ConfigMap", "PodMonitor", "PrometheusRule"]
    (board,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"


def kube_score_criticals(docs: list[dict[str, Any]], tmp_path: Path) -> set[str]:
    """kube-score's critical findings on these manifests."""
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    done = run([tool("kube-score"), "score", "--output-format", "ci", str(manifests)], tmp_path)
    assert "[OK]" in done.stdout, done.stdout + done.stderr
    return {line for line in done.stdout.splitlines() if line.startswith("[CRITICAL]")}


@pytest.mark.parametrize("overlay", ["", "secured/"], ids=["k8s", "k8s/secured"])
def test_kube_score_finds_nothing_critical_but_the_deliberate(tmp_path: Path, overlay: str) -> None:
    critical = kube_score_criticals([*render(overlay.rstrip("/")), *render(f"{overlay}replay")], tmp_path)
    assert {c for c in critical if not any(d in c for d in DELIBERATE)} == set()


def test_kube_score_would_see_a_missing_budget(tmp_path: Path) -> None:
    # Guards the guard: the consumer without its PodDisruptionBudget is a critical finding.
    docs = [
        d
        for d in render("")
        if (d["kind"], d["metadata"]["name"]) != ("PodDisruptionBudget", "ums-find-consumer")
    ]
    critical = kube_score_criticals(docs, tmp_path)
    assert any("ums-find-consumer" in c and "PodDisruptionBudget" in c for c in critical), critical
