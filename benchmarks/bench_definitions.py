"""Benchmark 10, definitions load: how long the code location takes to load at 1, 10, 50 and 100 accounts.

Issue 19: a simulation of 100 seller accounts took 40 s to load the definitions and 72 s for
``dagster definitions validate``, growing faster than linearly, and every run's process paid it again.
Here a configuration of N accounts x 3 marketplaces (``a001``..``aNNN``, each with ``us``, ``ca``,
``mx``) is written to a temporary file and, for each N, a FRESH Python process (so nothing is cached)
with ``SP_ASSETS_CONFIG`` pointing at it measures:

* ``code_location_s``: what a code server (``dagster dev``, ``dagster definitions validate``) does
  when it loads the location: import ``sp_assets.definitions``, build ``defs()``, the repository
  (its asset graph), every job resolved, and the repository snapshot it sends to the UI
  (``RepositorySnap.from_def``: every job's snapshot and config schema, every asset node);
* ``run_process_s``: what a run's process does before its first step: ``defs()``, the repository
  and the ONE job it runs (Dagster resolves jobs lazily);
* the phases of each and the child's peak RSS.

Median of ``--repeats`` runs per N (min and max given), the machine's load average before each N,
and the growth exponent: the slope of log(time) against log(N) between 10 and 100 accounts (1.0 is
linear). With ``SP_ASSETS_ACCOUNTS`` a code location builds only a group of the accounts
(workspace.yaml can list one location per group); ``group_s`` is the code-location load of a group
of ``--group`` accounts out of the 100-account file. Both figures are reported: the whole-file load
at 100 accounts and the per-group load; the summary says which one meets the 10 s target.

Usage: .venv/bin/python benchmarks/bench_definitions.py [--sizes 1,10,50,100] [--repeats 3] [--group 10]
       [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchlib import ROOT, emit, figure, log, machine_info

MARKETPLACES = ("us", "ca", "mx")
TARGET_S = 10.0

# Runs in the child: one JSON line on stdout. MODE is "location" (what a code server loads) or
# "run" (what a run's process loads before its first step).
CHILD = r"""
import json, resource, sys, time, warnings
started = time.perf_counter()
warnings.filterwarnings("ignore")
from sp_assets.definitions import defs
imported = time.perf_counter()
definitions = defs()
built = time.perf_counter()
repository = definitions.get_repository_def()
graph = repository.asset_graph
repo_done = time.perf_counter()
phases = {"import_s": imported - started, "defs_s": built - imported, "repository_s": repo_done - built}
if sys.argv[1] == "location":
    from dagster._core.remote_representation.external_data import RepositorySnap
    jobs = repository.get_all_jobs()
    jobs_done = time.perf_counter()
    RepositorySnap.from_def(repository)
    phases |= {"jobs_s": jobs_done - repo_done, "snapshot_s": time.perf_counter() - jobs_done}
    counts = {"jobs": len(jobs)}
else:
    name = sorted(j for j in repository.job_names if j.endswith("_rolling_job"))[0]
    repository.get_job(name)
    phases |= {"job_s": time.perf_counter() - repo_done}
    counts = {"jobs": 1}
total = time.perf_counter() - started
counts |= {"assets": len(graph.get_all_asset_keys()), "checks": len(graph.asset_check_keys),
           "schedules": len(repository.schedule_defs)}
print(json.dumps({"total_s": total, "phases": {k: round(v, 3) for k, v in phases.items()}, **counts,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def write_config(accounts: int, directory: Path) -> Path:
    """N accounts x 3 North American marketplaces, every option at its default."""
    lines = ["defaults:", "  start_date: 2026-10-01", "accounts:"]
    for index in range(1, accounts + 1):
        lines += [f"  a{index:03d}:", "    marketplaces:", *(f"      {code}: {{}}" for code in MARKETPLACES)]
    path = directory / f"accounts_{accounts}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(config: Path, mode: str, accounts: str = "") -> dict[str, Any]:
    """One fresh process loading the definitions of ``config`` (``accounts``: SP_ASSETS_ACCOUNTS)."""
    env = {**os.environ, "SP_ASSETS_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    env.pop("SP_ASSETS_ACCOUNTS", None)
    if accounts:
        env["SP_ASSETS_ACCOUNTS"] = accounts
    done = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"loading {config.name} ({mode}) failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def repeated(config: Path, mode: str, repeats: int, label: str, accounts: str = "") -> dict[str, Any]:
    """``repeats`` fresh loads: the median's phases, min/median/max of the total, peak RSS."""
    load = round(os.getloadavg()[0], 2)
    runs = [measure(config, mode, accounts) for _ in range(repeats)]
    totals = sorted(run["total_s"] for run in runs)
    median_run = sorted(runs, key=lambda run: run["total_s"])[len(runs) // 2]
    result = {"min_s": round(totals[0], 2), "median_s": round(statistics.median(totals), 2),
              "max_s": round(totals[-1], 2), "runs": len(runs), "load_average_before": load,
              "peak_rss_mb": max(run["peak_rss_mb"] for run in runs), "phases": median_run["phases"],
              **{key: median_run[key] for key in ("jobs", "assets", "checks", "schedules")}}
    log(f"{label}: median {result['median_s']} s (min {result['min_s']}, max {result['max_s']}), "
        f"{result['assets']} assets, {result['jobs']} jobs, peak RSS {result['peak_rss_mb']} MB, load {load}; "
        f"phases {result['phases']}")
    return result


def exponent(times: dict[int, float], low: int, high: int) -> float | None:
    """Slope of log(time) against log(N) between ``low`` and ``high`` accounts (1.0: linear)."""
    if low not in times or high not in times or times[low] <= 0:
        return None
    return round(math.log(times[high] / times[low]) / math.log(high / low), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,50,100", help="numbers of accounts (x 3 marketplaces)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per size (median)")
    parser.add_argument("--group", type=int, default=10,
                        help="accounts of one code location (SP_ASSETS_ACCOUNTS); 0: no group measured")
    parser.add_argument("--quick", action="store_true", help="1, 10 and 20 accounts, one run each")
    args = parser.parse_args()
    sizes = [1, 10, 20] if args.quick else [int(n) for n in args.sizes.split(",")]
    repeats = 1 if args.quick else args.repeats
    largest = max(sizes)
    group = min(args.group, largest)
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="bench_definitions_") as scratch:
        configs = {n: write_config(n, Path(scratch)) for n in sizes}
        location = {n: repeated(configs[n], "location", repeats, f"{n} accounts, code location") for n in sizes}
        run_process = {n: repeated(configs[n], "run", repeats, f"{n} accounts, a run's process") for n in sizes}
        names = ",".join(f"a{i:03d}" for i in range(1, group + 1))
        group_location = group_run = None
        if group > 0:
            group_location = repeated(configs[largest], "location", repeats,
                                      f"{group} of {largest} accounts (SP_ASSETS_ACCOUNTS), code location", names)
            group_run = repeated(configs[largest], "run", repeats,
                                 f"{group} of {largest} accounts (SP_ASSETS_ACCOUNTS), a run's process", names)
    medians = {n: r["median_s"] for n, r in location.items()}
    growth = exponent(medians, 10, largest) if largest > 10 else None
    run_growth = exponent({n: r["median_s"] for n, r in run_process.items()}, 10, largest) if largest > 10 else None
    whole, per_group = location[largest], group_location
    summary = [
        figure(f"{largest} accounts x 3 marketplaces ({whole['assets']:,} assets, {whole['jobs']:,} jobs), whole "
               f"file in one code location: load as a code server does, median of {whole['runs']} (s)",
               whole["median_s"], f"<= {TARGET_S:g} s", whole["median_s"] <= TARGET_S,
               f"min {whole['min_s']} / max {whole['max_s']} s, peak RSS {whole['peak_rss_mb']} MB, "
               f"load {whole['load_average_before']}; growth exponent 10->{largest}: {growth}"),
        *([] if per_group is None or group_run is None else [figure(
            f"the same file, one code location per group of {group} accounts (SP_ASSETS_ACCOUNTS): "
            f"load of one group, median of {per_group['runs']} (s)",
            per_group["median_s"], f"<= {TARGET_S:g} s", per_group["median_s"] <= TARGET_S,
            f"{per_group['assets']:,} assets, {per_group['jobs']} jobs, peak RSS {per_group['peak_rss_mb']} MB, "
            f"load {per_group['load_average_before']}; a run's process of that group: "
            f"{group_run['median_s']} s")]),
        figure(f"a run's process at {largest} accounts (whole file): definitions + its one job, before its "
               f"first step (s)", run_process[largest]["median_s"], "(informative)", None,
               f"growth exponent 10->{largest}: {run_growth}"),
    ]
    emit({"benchmark": "definitions", "machine": machine, "marketplaces_per_account": len(MARKETPLACES),
          "target_s": TARGET_S, "code_location": {str(n): r for n, r in location.items()},
          "run_process": {str(n): r for n, r in run_process.items()},
          "group": {"accounts": group, "of": largest, "code_location": group_location, "run_process": group_run},
          "growth_exponent_10_to_largest": growth, "run_growth_exponent_10_to_largest": run_growth,
          "summary": summary})


if __name__ == "__main__":
    sys.exit(main())
