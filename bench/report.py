"""The one table (with targets met or not), the JSON results, the chart and the docs page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str, str, str]
HEADER: Row = ("figure", "ums-find", "beside it, same run", "ratio", "target", "met")
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def mmm(spread: dict[str, float], unit: str = "", digits: int = 0) -> str:
    """`median (min-max)`."""
    f = f"{{:,.{digits}f}}"
    return f"{f.format(spread['median'])}{unit} ({f.format(spread['min'])}-{f.format(spread['max'])})"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def lookup_rows(lk: dict[str, Any]) -> list[Row]:
    """Throughput and latency per concurrency, ums-find beside the tutorial and the hello ceiling."""
    rows: list[Row] = []
    for conns in lk["ums-find"]:
        ums, tut, hello = (lk[t][conns] for t in ("ums-find", "tutorial", "hello"))
        x_tut = ums["rps"]["median"] / tut["rps"]["median"]
        of_hello = ums["rps"]["median"] / hello["rps"]["median"]
        key = conns == "16"
        rows.append(
            (
                f"lookups c={conns}, req/s",
                mmm(ums["rps"]),
                f"tutorial {mmm(tut['rps'])}; hello {mmm(hello['rps'])}",
                f"{x_tut:.1f}x tutorial; {of_hello:.0%} of hello",
                ">= 4x; >= 75%" if key else "",
                verdict(x_tut >= 4 and of_hello >= 0.75) if key else "",
            )
        )
        rows.append(
            (
                f"lookups c={conns}, p50 / p99 ms",
                f"{ums['p50_ms']['median']:.1f} / {mmm(ums['p99_ms'], '', 1)}",
                f"tutorial {tut['p50_ms']['median']:.1f} / {tut['p99_ms']['median']:.1f}; "
                f"hello {hello['p50_ms']['median']:.1f} / {hello['p99_ms']['median']:.1f}",
                f"{ums['p99_ms']['median'] / hello['p99_ms']['median']:.2f}x hello's p99" if key else "",
                "<= 1.25x hello's p99" if key else "",
                verdict(ums["p99_ms"]["median"] <= 1.25 * hello["p99_ms"]["median"]) if key else "",
            )
        )
    return rows


def ingest_rows(ing: dict[str, Any]) -> list[Row]:
    """Consumer records/s beside the bare consume and bare upsert ceilings."""
    ums = ing["consumer"]["records_per_s"]
    upsert = ing["bare-upsert"]["records_per_s"]
    share = ums["median"] / upsert["median"]
    beside = f"bare consume {mmm(ing['bare-consume']['records_per_s'])}; bare upsert {mmm(upsert)}"
    label = f"ingest of {ing['consumer']['records']:,} records, records/s"
    return [(label, mmm(ums), beside, f"{share:.0%} of bare upsert", ">= 60%", verdict(share >= 0.6))]


def replay_rows(rp: dict[str, Any], ing: dict[str, Any]) -> list[Row]:
    """Replay duration as a multiple of the bare upsert of the same rows, and failed lookups."""
    target = "<= 2x bare upsert, 0 failed"
    if not rp.get("available"):
        return [("replay with lookups", "not available", rp.get("reason", ""), "", target, "n/a")]
    bare_s = ing["bare-upsert"]["seconds"]["median"]
    times = rp["seconds"] / bare_s
    ok = rp["exit_code"] == 0 and times <= 2 and rp["failed_lookups"] == 0
    value = f"{rp['seconds']:.1f} s, {rp['failed_lookups']} failed of {rp['lookups']:,} lookups"
    label = f"replay of {rp['records']:,} records with lookups"
    beside = f"bare upsert of the same rows {bare_s:.1f} s; exit code {rp['exit_code']}"
    return [(label, value, beside, f"{times:.1f}x bare upsert", target, verdict(ok))]


def other_rows(results: dict[str, Any]) -> list[Row]:
    """Freshness, memory and the peer sink."""
    fr, mem, peer = results["freshness"], results["memory_mb"], results["peer"]
    rows: list[Row] = [
        (
            f"freshness at {fr['rate_per_s']}/s, p50 / p99 ms",
            f"{fr['p50_ms']:.1f} / {fr['p99_ms']:.1f}",
            f"max {fr['max_ms']:.1f} ms; {fr['not_visible']} of {fr['records']:,} not visible; "
            + stage_text(fr)
            + cpu_text(fr),
            "",
            "p99 < 50 ms",
            verdict(fr["p99_ms"] < 50 and fr["not_visible"] == 0),
        )
    ]
    for role, limit in (("api:ums-find", 120), ("consumer", 200)):
        peak = mem.get(role, float("nan"))
        beside = "; ".join(
            f"{r} {v:.0f}" for r, v in sorted(mem.items()) if r.startswith("api:") and r != role
        )
        label = f"peak RSS {role.removeprefix('api:')}, MiB"
        rows.append(
            (
                label,
                f"{peak:.0f}",
                beside if role != "consumer" else "",
                "",
                f"< {limit}",
                verdict(peak < limit),
            )
        )
    if peer.get("available"):
        ums = results["ingest"]["consumer"]["records_per_s"]["median"]
        times = ums / peer["records_per_s"]
        label, value = "ingest vs peer: Debezium JDBC sink, records/s", f"{ums:,.0f}"
        beside = f"peer {peer['records_per_s']:,.0f}: {peer.get('note', '')}"
        rows.append((label, value, beside, f"{times:.1f}x the peer", ">= 3x", verdict(times >= 3)))
    else:
        rows.append(("peer: Debezium JDBC sink", "did not run", peer.get("reason", ""), "", "", "n/a"))
    return rows


def stage_text(fr: dict[str, Any]) -> str:
    """p50 / p99 of each stage of publish to visible (broker ack, apply, API answer)."""
    stages = fr.get("stages", {})
    return ", ".join(f"{k} {v['p50_ms']:.1f} / {v['p99_ms']:.1f}" for k, v in stages.items())


def cpu_text(fr: dict[str, Any]) -> str:
    """CPU per record of each process while the users were published and looked for."""
    cpu = fr.get("cpu_ms_per_record", {})
    return "; CPU ms/record " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()) if cpu else ""


def table(results: dict[str, Any]) -> str:
    """Every figure as one Markdown table."""
    rows = lookup_rows(results["lookups"]) + ingest_rows(results["ingest"])
    rows += replay_rows(results["replay"], results["ingest"]) + other_rows(results)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write(results: dict[str, Any], out_dir: Path, docs: Path | None) -> str:
    """Write results.json, chart.png and the docs' results section; return the table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = table(results)
    results["table"] = text
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    from bench.chart import draw

    draw(results, out_dir / "chart.png")
    if docs is not None:
        update_docs(docs, results, text)
    return text


def update_docs(docs: Path, results: dict[str, Any], text: str) -> None:
    """Replace the page's results section (between its markers) with this run's."""
    run = results["run"]
    section = (
        f"{START}\nLast run: {run['finished']} UTC, `{run['command']}` "
        f"({'quick mode: small sizes, not comparable' if run['quick'] else 'full sizes'}), "
        f"on {run['machine']}; API served with {run['server']}.\n\n"
        f"{text}\n\n![chart](benchmarks-chart.png)\n{END}"
    )
    page = docs.read_text() if docs.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    page = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: section, page, flags=re.S)
    docs.write_text(page)
    chart = Path(results["run"]["out_dir"]) / "chart.png"
    (docs.parent / "benchmarks-chart.png").write_bytes(chart.read_bytes())
