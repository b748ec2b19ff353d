"""Process-wide logging set-up."""

from __future__ import annotations

import logging
import os


def configure(level: str | None = None) -> None:
    """Log to stderr at `UMS_LOG_LEVEL` (INFO by default)."""
    logging.basicConfig(
        level=(level or os.environ.get("UMS_LOG_LEVEL", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
