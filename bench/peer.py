"""Peer: the Debezium JDBC sink on Kafka Connect standalone, sinking the same records into a sibling table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import Config
from bench.data import Row
from ums_find.settings import Settings


def run(config: Config, topic: Settings, rows: list[Row], run_id: str, work: Path) -> dict[str, Any]:
    """Records/s of the peer sink, or why it could not run."""
    return {"available": False, "reason": "not attempted yet"}
