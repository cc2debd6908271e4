"""What every benchmark shares: the sandbox process, a client, the token-bucket minimum, the output.

Benchmarks are plain scripts (``python benchmarks/bench_x.py``), not tests: each prints progress to
stderr and ONE JSON document to stdout, which ``run_all.py`` collects. Every headline figure is a ratio
against a limit computed or measured in the same run (the token-bucket minimum of the calls actually
made, DuckDB's own ``read_csv`` of the same file, a plain INSERT of the same rows), so a busy machine
moves the numerator and the denominator together.

The sandbox always runs in its own process (``SandboxProcess``): in the benchmark's process it would
share the GIL with the client and the benchmark would measure Python's thread switching.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from sp_assets.lib.spapi import LWACredentials, Secret, SPAPIClient
from sp_assets.sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
US = "ATVPDKIKX0DER"
# Any client id and secret work with the sandbox; the refresh token names the region (NA).
CLIENT_ID = "amzn1.application-oa2-client.benchmarks"
CLIENT_SECRET = "benchmarks-client-secret"
REFRESH_TOKEN = "Atzr|sandbox-na-benchmarks"


def log(message: str) -> None:
    """Progress for a human watching; stdout is reserved for the JSON result."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def emit(result: Mapping[str, Any]) -> None:
    print(json.dumps(result, indent=2, default=str), flush=True)


# ------------------------------------------------------------------------------------------ machine
def machine_info() -> dict[str, Any]:
    """The machine a result came from: without it a throughput figure means nothing."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    memory_gb = None
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages * size / 2**30, 1)
    except (ValueError, OSError):
        pass
    import dagster
    import duckdb
    import polars

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": dagster.__version__,
        "polars": polars.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size (``ru_maxrss`` is in KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ------------------------------------------------------------------------------------------ sandbox
@contextmanager
def sandbox_process(*, speed: float, orders_per_day: int, seed: int = 7, state_dir: Path | None = None,
                    extra_args: Sequence[str] = ()) -> Iterator[SandboxProcess]:
    """A fresh sandbox in its own process: fresh buckets, so every run starts with full bursts."""
    args = ["--speed", f"{speed:g}", "--orders-per-day", str(orders_per_day), "--seed", str(seed), *extra_args]
    if state_dir is not None:
        args += ["--state-dir", str(state_dir)]
    process = SandboxProcess(args).start()
    try:
        yield process
    finally:
        process.stop()


def server_stats(base_url: str) -> dict[str, int]:
    """The sandbox's own counters: ``<operation>.served`` (took a token), ``.429``, ``.requests``."""
    return requests.get(base_url + "/_sandbox/stats", timeout=30).json()


def stats_delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {key: after.get(key, 0) - before.get(key, 0) for key in after if after.get(key, 0) != before.get(key, 0)}


def client_for(base_url: str, speed: float, refresh_token: str = REFRESH_TOKEN) -> SPAPIClient:
    """A client paced for a sandbox at ``speed`` (its buckets mirror the server's); another
    ``refresh_token`` of the region is another seller account, with buckets of its own."""
    credentials = LWACredentials(CLIENT_ID, Secret(CLIENT_SECRET), Secret(refresh_token))
    return SPAPIClient(credentials, base_url, token_url=base_url + "/auth/o2/token", speed=speed)


def past_window(days: int, end_days_ago: int = 12) -> tuple[datetime, datetime]:
    """``days`` whole UTC days ending ``end_days_ago`` days before today: orders there no longer change."""
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=end_days_ago)
    return end - timedelta(days=days), end


# ------------------------------------------------------------------------------------------ token buckets
@dataclass(frozen=True)
class Bucket:
    """Amazon's usage plan of one operation, as the sandbox enforces it (server-side constants)."""

    operation: str
    rate: float  # tokens per second at speed 1
    burst: int


def bucket_minimum(calls: int, bucket: Bucket, speed: float) -> float:
    """The least time ``calls`` calls can take through a full bucket: ``max(0, (calls - burst) / (rate*speed))``.

    The bucket starts full (``burst`` calls go at once); every further call needs one refilled token.
    It ignores network latency and server time, so no client can beat it.
    """
    return max(0.0, (calls - bucket.burst) / (bucket.rate * speed))


def sequential_minimum(phases: Sequence[float]) -> float:
    """Phases that run one after another (all getOrders pages, then the items): their minimums add up."""
    return sum(phases)


def concurrent_minimum(phases: Sequence[float]) -> float:
    """Operations that run at the same time on separate buckets: the slowest bucket decides."""
    return max(phases, default=0.0)


# ------------------------------------------------------------------------------------------ timing
def timed(label: str, action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    log(f"{label}: {elapsed:.3f} s")
    return elapsed, result


def figure(name: str, value: float | None, target: str, ok: bool | None, detail: str = "") -> dict[str, Any]:
    """One row of the summary table: the ratio (or figure), its target, and whether it is met."""
    return {"name": name, "value": value, "target": target, "ok": ok, "detail": detail}


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator > 0 else None
