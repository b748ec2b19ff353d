"""The OpenAPI document as served: the `after` parameter lists the topic's partitions once known."""

from __future__ import annotations

import json
import threading
from typing import Any

OFFSET = "[0-9]{1,18}"
LISTED_MAX = 1000  # beyond this many partitions the pattern stays generic (any canonical number)


class OpenApiDocument:
    """The document of `ums_find/openapi.json`, with the valid partitions of a token spelled out.

    A token naming a partition the topic lacks is a 400, so a schema-valid token must name an
    existing one: the served document says which, for the partition count known at the time.
    """

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._lock = threading.Lock()
        self._cached: tuple[int | None, bytes] = (None, raw)

    def render(self, partitions: int | None) -> bytes:
        """The document for a topic of `partitions` partitions (the generic one when unknown)."""
        if partitions is None or partitions > LISTED_MAX:
            return self._raw
        count, body = self._cached
        if count == partitions:
            return body
        body = json.dumps(with_partitions(json.loads(self._raw), partitions), ensure_ascii=False).encode()
        with self._lock:
            self._cached = (partitions, body)
        return body


def token_pattern(partitions: int) -> str:
    """A pattern matching exactly the tokens of partitions 0 to `partitions - 1`."""
    listed = "|".join(str(p) for p in range(partitions))
    return f"^(?:{listed}):{OFFSET}$"


def with_partitions(document: dict[str, Any], partitions: int) -> dict[str, Any]:
    """The document with every `after` parameter's pattern narrowed to the topic's partitions."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "after" and parameter.get("in") == "query":
                    parameter["schema"]["pattern"] = token_pattern(partitions)
    return document
