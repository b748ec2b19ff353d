"""The contract's sample records, as kept beside the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES_PATH = Path(__file__).with_name("samples.jsonl")


def load_samples() -> list[dict[str, Any]]:
    """Every sample record, in file order."""
    lines = SAMPLES_PATH.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def raw(sample: dict[str, Any]) -> tuple[bytes | None, bytes | None, int]:
    """The sample as Kafka would deliver it: key bytes, value bytes, timestamp."""
    key = None if sample["key"] is None else sample["key"].encode("utf-8")
    value = None if sample["value"] is None else sample["value"].encode("utf-8")
    return key, value, sample["timestamp_ms"]


def expected_name(sample: dict[str, Any]) -> str:
    """The name whose view state the sample's `expect` describes."""
    view = sample["expect"].get("view")
    if view:
        return str(view["name"])
    return str(sample["expect"].get("name") or sample["key"])
