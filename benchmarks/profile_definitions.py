"""Where the definitions load spends its time (BENCHMARKS.md section 10, "where the time goes").

Not part of ``make bench``: a diagnostic for ``bench_definitions.py``. For N accounts x 3 marketplaces
(the same configuration file) a FRESH process loads the code location as ``bench_definitions.py``'s
child does (import, ``defs()``, repository and asset graph, every job, the UI snapshot) while a thread
samples the main thread's stack every ``--interval`` seconds. Each sample is owned by the innermost
frame in ``sp_assets`` (project code) or in Dagster (construction in the ``defs`` phase; validation
and resolution in the later phases); frames of the standard library and other packages count for
the caller that owns them. Figures are shares of the samples and CPU seconds, because wall time on a
shared machine moves with its load.

Then, in the same run, Dagster's own floor per asset (CPU ms, ``--floor`` assets in a loop): a minimal
``@asset``; an ``@asset`` shaped like the project's (check specs, daily partitions, column schema,
kinds, tags, retries, pool, a resource); the binding of 4 vs 301 top-level resources to each asset;
and the same shaped keys as multi-assets of 29 specs.

Usage: .venv/bin/python benchmarks/profile_definitions.py [--accounts 20] [--floor 8706] [--interval 0.002]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_definitions import write_config

ROOT = Path(__file__).resolve().parents[1]

SAMPLED = r"""
import collections, json, os, sys, threading, time, warnings
warnings.filterwarnings("ignore")
phase = ["import"]; shares = collections.Counter(); interval = float(sys.argv[1]); done = threading.Event()
main = threading.get_ident()

def owner(path):
    return "project" if "/sp_assets/" in path else "dagster" if "/dagster" in path else None

def sample():
    while not done.wait(interval):
        frame, found, importing = sys._current_frames().get(main), "other", False
        while frame is not None:
            path = frame.f_code.co_filename
            importing = importing or "importlib._bootstrap" in path
            if found == "other" and owner(path):
                found = owner(path)
            frame = frame.f_back
        shares[(phase[0], "import" if importing else found)] += 1

threading.Thread(target=sample, daemon=True).start()
marks, started, cpu = {}, time.perf_counter(), time.process_time()
from sp_assets.definitions import defs
marks["import"] = time.perf_counter(); phase[0] = "defs"
definitions = defs()
marks["defs"] = time.perf_counter(); phase[0] = "repository"
repository = definitions.get_repository_def(); graph = repository.asset_graph
marks["repository"] = time.perf_counter(); phase[0] = "jobs"
from dagster._core.remote_representation.external_data import RepositorySnap
jobs = repository.get_all_jobs()
marks["jobs"] = time.perf_counter(); phase[0] = "snapshot"
RepositorySnap.from_def(repository)
marks["snapshot"] = time.perf_counter(); done.set()
total, previous, phases = sum(shares.values()), started, {}
for name, moment in marks.items():
    phases[name] = round(moment - previous, 2); previous = moment
print(json.dumps({"wall_s": round(previous - started, 2), "cpu_s": round(time.process_time() - cpu, 2),
                  "phases_wall_s": phases, "assets": len(graph.get_all_asset_keys()), "jobs": len(jobs),
                  "samples": total, "shares_pct": {f"{p}/{o}": round(100 * n / total, 1)
                                                   for (p, o), n in shares.most_common()}}))
"""

FLOOR = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import dagster as dg
from dagster._core.remote_representation.external_data import RepositorySnap
N, PER = int(sys.argv[1]), 29
parts = dg.DailyPartitionsDefinition(start_date="2026-10-01", timezone="America/New_York")
schema = dg.TableSchema(columns=[dg.TableColumn(f"c{j}", "varchar") for j in range(20)])
out = {}

class Api(dg.ConfigurableResource):
    code: str

def per(seconds, count):
    return round(seconds / count * 1000, 3)

def phases(label, build, count, resources):
    started = time.process_time(); assets = build()
    built = time.process_time()
    repository = dg.Definitions(assets=assets, resources=resources).get_repository_def(); repository.asset_graph
    bound = time.process_time()
    RepositorySnap.from_def(repository)
    out[label] = {"build_ms": per(built - started, count), "repository_ms": per(bound - built, count),
                  "snapshot_ms": per(time.process_time() - bound, count)}
    out[label]["total_ms"] = round(sum(out[label].values()), 3)

def minimal():
    made = []
    for i in range(N):
        @dg.asset(name=f"a{i}", key_prefix=[f"m{i // PER}"])
        def body():
            return None
        made.append(body)
    return made

def shaped(resource_of=lambda i: "warehouse"):
    made = []
    for i in range(N):
        m = f"m{i // PER}"; key = dg.AssetKey([m, f"a{i}"])
        @dg.asset(name=f"a{i}", key_prefix=[m], group_name=f"g_{m}", partitions_def=parts,
                  check_specs=[dg.AssetCheckSpec("pk", asset=key, blocking=True), dg.AssetCheckSpec("rows", asset=key)],
                  metadata={"dagster/column_schema": schema, "dagster/table_name": f"{m}.a{i}"},
                  kinds={"duckdb", "python", "amazon"}, tags={"refresh": "rolling"}, code_version="1",
                  retry_policy=dg.RetryPolicy(max_retries=2), pool=f"p_{m}",
                  required_resource_keys={"warehouse", resource_of(i)})
        def body(context):
            return None
        made.append(body)
    return made

def multi():
    made = []
    for m in range(N // PER):
        specs = [dg.AssetSpec([f"m{m}", f"a{k}"], group_name=f"g{m}", partitions_def=parts, kinds={"duckdb"},
                              metadata={"dagster/column_schema": schema}) for k in range(PER)]
        @dg.multi_asset(name=f"m{m}_all", specs=specs, can_subset=True, partitions_def=parts,
                        check_specs=[dg.AssetCheckSpec("pk", asset=s.key, blocking=True) for s in specs],
                        required_resource_keys={"warehouse"})
        def body(context):
            return None
        made.append(body)
    return made

none = dg.ResourceDefinition.none_resource()
phases("minimal_asset", minimal, N, {})
phases("shaped_asset", shaped, N, {"warehouse": none})
phases("shaped_multi_asset_29_specs", multi, N // PER * PER, {"warehouse": none})
for count in (3, 300):
    resources = {"warehouse": none, **{f"api_{j}": Api(code=str(j)) for j in range(count)}}
    phases(f"shaped_asset_{count + 1}_resources", lambda: shaped(lambda i: f"api_{i // PER % 3}"), N, resources)
print(json.dumps(out))
"""


def child(script: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One fresh process running ``script``; its last stdout line as JSON."""
    done = subprocess.run([sys.executable, "-c", script, *args], env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"profile child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=20, help="accounts x 3 marketplaces to load")
    parser.add_argument("--floor", type=int, default=8706, help="assets in each floor loop (0: no floor)")
    parser.add_argument("--interval", type=float, default=0.002, help="seconds between stack samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile_definitions_") as scratch:
        config = write_config(args.accounts, Path(scratch))
        load = round(os.getloadavg()[0], 2)
        env = {"SP_ASSETS_CONFIG": str(config), "SP_ASSETS_ACCOUNTS": ""}
        result: dict[str, Any] = {"accounts": args.accounts, "load_average_before": load,
                                  "load": child(SAMPLED, [str(args.interval)], env)}
    if args.floor:
        result["floor_load_average_before"] = round(os.getloadavg()[0], 2)
        result["floor_cpu_ms_per_asset"] = child(FLOOR, [str(args.floor)], {})
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.exit(main())
