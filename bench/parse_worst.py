"""The parser's worst records: parse time of each hostile form beside a normal record's.

Run: python -m bench.parse_worst [--size BYTES] (BENCH_QUICK=1: 64 KiB records, fewer rounds).
Pure CPU, no services. Each hostile record is as large as --size (the broker's default
limit by default) where its form can fill it; the cost must stay within a small multiple
of decoding a valid record of the same size (ns per byte), never grow faster.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from ums_find.events import Poison, parse

BROKER_MAX = 1_048_588
HEAD = b'{"name": "Someone01", '
NORMAL = b'{"name": "KrishnaMohan", "phone": 9876543210, "since": "2022-03-01T10:00:00Z"}'
Record = tuple[bytes, int]  # value, record timestamp (ms)


def forms(size: int) -> dict[str, Record]:
    """Each hostile form at about `size` bytes (the short ones stay short)."""
    n = size - 64

    def with_since(since: bytes) -> bytes:
        return HEAD + b'"phone": 9000000000, "since": ' + since + b"}"

    return {
        "large valid (baseline per byte)": (HEAD + b'"phone": 9000000000, "x": "' + b"a" * n + b'"}', 0),
        "since 1e999999999": (with_since(b"1e999999999"), 0),
        "since 1e400000": (with_since(b"1e400000"), 0),
        "since exponent of N digits": (with_since(b"1e" + b"9" * n), 0),
        "since integer of N digits": (with_since(b"9" * n), 0),
        "since fraction of N digits": (with_since(b"1646128800." + b"9" * n), 0),
        "since 0.<N zeros>1": (with_since(b"0." + b"0" * n + b"1"), 0),
        "since array of N-digit year": (with_since(b"[" + b"9" * n + b", 1, 1, 0, 0]"), 0),
        "phone string of N digits": (HEAD + b'"phone": "' + b"9" * n + b'"}', 0),
        "phone string of N leading zeros": (HEAD + b'"phone": "' + b"0" * n + b'9000000000"}', 0),
        "phone integer of N digits": (HEAD + b'"phone": ' + b"9" * n + b"}", 0),
        "unknown field of N digits": (HEAD + b'"phone": 9000000000, "x": ' + b"9" * n + b"}", 0),
        "unknown field 1e-N fraction": (HEAD + b'"phone": 9000000000, "x": 0.' + b"0" * n + b"1}", 0),
        "deep nesting": (b"[" * (n // 2) + b"]" * (n // 2), 0),
        "invalid UTF-8 at the end": (HEAD + b'"x": "' + b"a" * n + b'\xff"}', 0),
        "escaped surrogates in the name": (b'{"name": "' + b"\\udc00" * (n // 6) + b'"}', 0),
        "timestamp beyond year 9999": (HEAD + b'"phone": 9000000000}', 2**63 - 1),
    }


def per_call(value: bytes, ts: int, min_s: float) -> float:
    """Seconds per parse: the best of a few rounds of at least `min_s` each."""
    best = float("inf")
    for _ in range(3):
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < min_s:
            parse(b"Someone01", value, ts)
            calls += 1
        best = min(best, elapsed / calls)
    return best


def measure(size: int, min_s: float) -> list[tuple[str, int, float, str]]:
    """(form, bytes, seconds per parse, outcome) for the normal record, then every hostile one."""
    rows = [("normal record", len(NORMAL), per_call(NORMAL, 0, min_s), _outcome(parse(b"k", NORMAL, 0)))]
    for name, (value, ts) in forms(size).items():
        rows.append((name, len(value), per_call(value, ts, min_s), _outcome(parse(b"k", value, ts))))
    return rows


def _outcome(event: object) -> str:
    return f"poison: {event.reason}" if isinstance(event, Poison) else type(event).__name__


def table(rows: list[tuple[str, int, float, str]]) -> str:
    """Markdown: each form's time, its ratio to the normal record, and ns per byte beside the baseline."""
    normal = rows[0][2]
    per_byte: Callable[[int, float], float] = lambda size, s: s * 1e9 / size  # noqa: E731
    lines = [
        "| record | bytes | µs per parse | x normal record | ns per byte | outcome |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, size, seconds, outcome in rows:
        lines.append(
            f"| {name} | {size:,} | {seconds * 1e6:,.1f} | {seconds / normal:,.0f} "
            f"| {per_byte(size, seconds):.2f} | {outcome} |"
        )
    worst = max(rows[1:], key=lambda r: r[2])
    ratio = worst[2] / normal
    lines.append(f"\nworst: {worst[0]}, {worst[2] * 1e3:.2f} ms ({ratio:,.0f} x the normal record)")
    return "\n".join(lines)


def main() -> None:
    """Measure and print the table."""
    quick = os.environ.get("BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    size = 65_536 if quick else BROKER_MAX
    parser.add_argument("--size", type=int, default=size, help="bytes of each hostile record")
    parser.add_argument("--min-s", type=float, default=0.02 if quick else 0.2, help="seconds per round")
    args = parser.parse_args()
    print(table(measure(args.size, args.min_s)))


if __name__ == "__main__":
    main()
