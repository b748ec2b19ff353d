"""Every metric an alert or a dashboard panel reads is one a running API or consumer exports."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.monitoring import our_metrics, queries
from tests.support.consumer import wait_until
from tests.support.kafka import produce
from tests.support.mysql import checkpoints
from tests.support.processes import api_server, free_port, http, output, process
from ums_find.settings import Settings


def sample_names(exposition: str) -> set[str]:
    """Every sample name of a /metrics answer (histograms as _bucket, _sum and _count)."""
    return {s.name for family in text_string_to_metric_families(exposition) for s in family.samples}


def test_every_metric_a_rule_or_panel_uses_is_exported(stack: Settings) -> None:
    user = json.dumps({"name": "KrishnaMohan", "phone": 9876543210}).encode()
    produce(stack, [(b"KrishnaMohan", user, None), (b"Broken0001", b"{not json", None)])
    port = free_port()
    with process(stack, "consume", UMS_CONSUMER_HTTP_PORT=str(port)) as consumer:
        wait_until(lambda: sum(checkpoints(stack).values()) >= 2, 60, "the consumer to apply both records")
        exported = set()

        def scraped_lag() -> bool:
            exported.update(sample_names(http(f"http://127.0.0.1:{port}/metrics")[2].decode()))
            return "ums_consumer_lag" in exported

        wait_until(scraped_lag, 30, f"the consumer's lag gauge; log: {output(consumer)}")
    with api_server(stack) as base:
        assert http(base + "/user/KrishnaMohan")[0] == 200
        exported |= sample_names(http(base + "/metrics")[2].decode())
    used = {where: our_metrics(expr) for where, expr in queries().items()}
    missing = {where: names - exported for where, names in used.items() if names - exported}
    assert missing == {}, f"not exported: {missing}"
    assert "ums_find_positions_age_seconds" in exported and "ums_consumer_stalled" in exported
    assert set().union(*used.values()) >= {"ums_consumer_lag", "ums_find_http_requests_total"}
