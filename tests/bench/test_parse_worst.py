"""The parser micro-benchmark runs and covers every hostile form; its figures are not asserted."""

from __future__ import annotations

from bench.parse_worst import forms, measure, table


def test_every_hostile_form_is_measured_and_none_raises() -> None:
    rows = measure(size=4096, min_s=0.001)
    assert [r[0] for r in rows[1:]] == list(forms(4096))
    assert all(seconds > 0 for _name, _size, seconds, _outcome in rows)
    assert "| normal record |" in table(rows) and "worst:" in table(rows)
