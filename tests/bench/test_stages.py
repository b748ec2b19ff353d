"""The freshness stages: histogram buckets and per-stage figures from the moments recorded."""

from __future__ import annotations

from bench.stages import Stages, histogram


def test_histogram_counts_each_value_in_its_first_bucket() -> None:
    counts = histogram([0.5, 1.0, 1.5, 60.0, 5000.0])
    assert counts["<=1"] == 2 and counts["<=2"] == 1 and counts["<=100"] == 1 and counts[">1000"] == 1
    assert sum(counts.values()) == 5


def test_summary_splits_publish_to_visible_into_its_stages() -> None:
    stages = Stages()
    stages.sent, stages.acked = {"a": 0.0, "b": 0.0}, {"a": 0.002, "b": 0.003}
    stages.applied, stages.visible = {"a": 0.050, "b": 0.010}, {"a": 0.049, "b": 0.013}
    summary = stages.summary()
    assert round(summary["ack"]["max_ms"], 6) == 3.0
    assert round(summary["apply"]["max_ms"], 6) == 48.0
    # seen by the API before the apply poller saw it: counted as no time, never negative
    assert summary["visible"]["histogram"]["<=1"] == 1 and round(summary["visible"]["max_ms"], 6) == 3.0
