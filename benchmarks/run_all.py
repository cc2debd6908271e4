"""``make bench``: run every benchmark, write ``benchmarks/results/results.json`` and ``results.md``.

Each benchmark runs as its own process (``python benchmarks/bench_x.py``, bounded by a timeout) and
prints one JSON document; this script collects them, turns each headline figure into a row of one
markdown table (figure, value, target, met?) and prints that table. A benchmark that fails or times
out is reported as such and the others still run. ``--quick`` runs every benchmark at smaller sizes
(a smoke run of a few minutes; its ratios are not the ones BENCHMARKS.md quotes).

Usage: .venv/bin/python benchmarks/run_all.py [--quick] [--only quota,ingest]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import RESULTS_DIR, figure, log, machine_info

HERE = Path(__file__).resolve().parent
ORDER = ("quota", "shared_quota", "callplan", "ingest", "items", "merge", "shared_warehouse", "orchestration", "marts", "finances", "transcode",
         "definitions")
TIMEOUTS_S = {"quota": 600, "shared_quota": 600, "callplan": 600, "ingest": 1500, "items": 1200, "merge": 900, "shared_warehouse": 900, "orchestration": 3600,
              "marts": 1200, "finances": 900, "transcode": 1800, "definitions": 2400}


def command(name: str, quick: bool) -> list[str]:
    script = str(HERE / f"bench_{name}.py")
    args: list[str] = ["--quick"] if quick else []
    if name == "callplan" and (RESULTS_DIR / "quota.json").exists():
        args += ["--quota-json", str(RESULTS_DIR / "quota.json")]
    return [sys.executable, script, *args]


def timeout_for(name: str) -> float:
    """``TIMEOUTS_S`` hold on an idle machine; a loaded one gets proportionally more.

    Issue 20: ``make bench`` failed after 32.9 min on a machine with a load of ~6 on 2 cores. With
    more runnable processes than cores every benchmark gets a share of a core, so the timeout is
    multiplied by the load per core (the 1-minute load average at the benchmark's start), never less
    than 1. A benchmark that waits on the sandbox's own progress (bench_ingest's preparation) has
    no deadline of its own beyond this one.
    """
    load_per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return round(TIMEOUTS_S[name] * max(1.0, load_per_core))


def run(name: str, quick: bool) -> dict[str, Any]:
    """Run one benchmark; its JSON (or an error record) plus the wall time and machine load."""
    cmd = command(name, quick)
    timeout = timeout_for(name)
    log(f"=== {name}: {' '.join(Path(c).name if c.endswith('.py') else c for c in cmd[1:])} (timeout {timeout} s)")
    load_before = os.getloadavg()
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout, cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return {"benchmark": name, "error": f"timed out after {timeout} s (load {load_before[0]:.1f} at the start)",
                "wall_s": round(time.perf_counter() - started, 1)}
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"benchmark": name, "error": f"exit code {done.returncode}", "wall_s": round(wall, 1)}
    try:
        result = json.loads(done.stdout)
    except ValueError:
        return {"benchmark": name, "error": "no JSON on stdout", "stdout_tail": done.stdout[-1000:],
                "wall_s": round(wall, 1)}
    result["wall_s"] = round(wall, 1)
    result["timeout_s"] = timeout
    result["load_average_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    return result


def summary_rows(name: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    if "error" in result:
        rows = [figure(f"{name}: did not finish", None, "", False, result["error"])]
    else:
        rows = result.get("summary", [])
    return [{"benchmark": name, **row} for row in rows]


def markdown(summary: list[dict[str, Any]], machine: dict[str, Any], quick: bool, started: str, wall: float) -> str:
    lines = [
        f"# Benchmark results{' (quick sizes)' if quick else ''}",
        "",
        f"Run {started}, {wall / 60:.1f} min. Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gb']} GB RAM, {machine['os']}, Python {machine['python']}, DuckDB {machine['duckdb']}, "
        f"Dagster {machine['dagster']}; load average at start {machine['load_average']}.",
        "",
        "| benchmark | figure | value | target | met | detail |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary:
        met = {True: "yes", False: "**no**", None: "-"}[row.get("ok")]
        value = "-" if row.get("value") is None else f"{row['value']:g}"
        lines.append(f"| {row.get('benchmark', '')} | {row['name']} | {value} | {row['target']} | {met} | "
                     f"{row.get('detail', '')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes in all")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ORDER)}")
    args = parser.parse_args()
    selected = [n.strip() for n in args.only.split(",") if n.strip()] or list(ORDER)
    unknown = [n for n in selected if n not in ORDER]
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {unknown}; allowed: {', '.join(ORDER)}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if "quota" in selected:
        (RESULTS_DIR / "quota.json").unlink(missing_ok=True)  # callplan must not reuse a stale run
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_info()
    started = time.perf_counter()
    results: dict[str, Any] = {}
    summary: list[dict[str, Any]] = []
    for name in [n for n in ORDER if n in selected]:
        result = run(name, args.quick)
        results[name] = result
        if "error" not in result:
            (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
        summary += summary_rows(name, result)
        log(f"=== {name}: {'FAILED: ' + result['error'] if 'error' in result else 'done'} in {result['wall_s']} s")
    wall = time.perf_counter() - started
    document = {"started": started_at, "wall_s": round(wall, 1), "quick": args.quick, "machine": machine,
                "summary": summary, "benchmarks": results}
    (RESULTS_DIR / "results.json").write_text(json.dumps(document, indent=2, default=str))
    table = markdown(summary, machine, args.quick, started_at, wall)
    (RESULTS_DIR / "results.md").write_text(table)
    print(table)
    log(f"wrote {RESULTS_DIR / 'results.json'} and {RESULTS_DIR / 'results.md'}")


if __name__ == "__main__":
    sys.exit(main())
