"""The monitoring manifests: the PrometheusRule's rules, the dashboard's queries, and their metrics."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from tests.deploy.support import K8S

MONITORING = K8S / "monitoring"
DASHBOARD = MONITORING / "ums-find-dashboard.json"
_OURS = re.compile(r"\bums_[a-z0-9_]+\b")


def rule_groups() -> dict[str, Any]:
    """The PrometheusRule's spec: a Prometheus rule file (`groups:`)."""
    doc = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text(encoding="utf-8"))
    assert doc["kind"] == "PrometheusRule"
    return doc["spec"]  # type: ignore[no-any-return]


def alerts() -> dict[str, dict[str, Any]]:
    """Every alerting rule by name."""
    return {r["alert"]: r for g in rule_groups()["groups"] for r in g["rules"] if "alert" in r}


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard as it imports."""
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def queries() -> dict[str, str]:
    """Every PromQL expression of the rules and panels, by where it is."""
    found = {f"alert {name}": rule["expr"] for name, rule in alerts().items()}
    for panel in dashboard()["panels"]:
        for target in panel["targets"]:
            found[f"panel {panel['title']!r} {target['refId']}"] = target["expr"]
    return found


def our_metrics(expr: str) -> set[str]:
    """The sample names of ours an expression reads (histogram series keep their suffix)."""
    return set(_OURS.findall(expr))
