"""What every benchmark shares: the sandbox process, a client, the token-bucket minimum, the output.

Benchmarks are plain scripts (``python benchmarks/bench_x.py``), not tests: each prints progress to
stderr and ONE JSON document to stdout, which ``run_all.py`` collects. Every headline figure is a ratio
against a limit computed or measured in the same run (the token-bucket minimum of the calls actually
made, DuckDB's own ``read_csv`` of the same file, a plain INSERT of the same rows), so a busy machine
moves the numerator and the denominator together.

The sandbox always runs in its own process (``SandboxProcess``): in the benchmark's process it would
share the GIL with the client and the benchmark would measure Python's thread switching. Its CPU time
over a measured span (``CpuShare``) is printed beside the figures it serves, so a figure bound by the
sandbox rather than by the code under test shows as such. Every figure is repeated (min/median/max
over ``--repeat`` runs, 3 by default) with the load average recorded, and a measured step that must
own its peak memory runs as a child process (``run_measured_child``, peak from ``VmHWM``).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
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


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages: recorded beside every figure (the machine is shared)."""
    return [round(x, 2) for x in os.getloadavg()]


def peak_rss_mb() -> float:
    """This process's own peak resident set size: ``VmHWM`` of /proc/self/status, in MB.

    Not ``ru_maxrss``: Linux carries the parent's high-water mark across fork and exec into the child,
    so a child of a parent that once held more (the benchmark's own process) would report the
    parent's peak, not its own. ``ru_maxrss`` (KiB on Linux) only where /proc is missing.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def spread(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    """min / median / max of repeated measurements (every figure is repeated: one run can be a fluke)."""
    return {"min": round(min(values), digits), "median": round(statistics.median(values), digits),
            "max": round(max(values), digits)}


def show(values: Mapping[str, float], fmt: str = "g") -> str:
    """``min/median/max`` of a ``spread`` for a summary line."""
    return "/".join(format(values[k], fmt) for k in ("min", "median", "max"))


# ------------------------------------------------------------------------------------------ children
def run_measured_child(command: Sequence[str], timeout_s: float, label: str = "") -> dict[str, Any]:
    """Run one measured child process; its JSON (last stdout line) plus the wall time seen from here.

    A measured step runs in a child of its own so that its peak memory is its own: the child reports
    ``peak_rss_mb`` from ``peak_rss_mb()`` (VmHWM of /proc/self/status) in its JSON, and anything
    it imported or allocated is gone when the next step starts. A failure raises with the child's
    stderr tail.
    """
    started = time.perf_counter()
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout_s)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{label or command[-1]} failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["child_wall_s"] = round(wall, 3)
    return result


# ------------------------------------------------------------------------------------------ CPU share
def process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system, with waited-for children) a process has used: /proc/<pid>/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 (state) is fields[0]
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_idle_s() -> float | None:
    """Idle CPU seconds of the whole machine, all cores summed (/proc/stat: idle + iowait)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


class CpuShare:
    """The CPU time a process (the sandbox) used over a measured span, as a share of that span's wall.

    A sandbox near 100% of one core would be the bottleneck of the figure beside which this is printed
    (issue 20): the share says whether a ratio measures the client or the sandbox. Beside it, the
    benchmark process's own share (the client: every thread) and the machine's idle share (of all
    cores): a client that needed more CPU than it got on a machine with no idle time was starved by
    the machine's other work, not slowed by its pacing.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.started = time.perf_counter()
        self.cpu_before = process_cpu_s(pid)
        self.own_before = time.process_time()
        self.idle_before = machine_idle_s()

    def stop(self) -> dict[str, float | None]:
        wall = time.perf_counter() - self.started
        after = process_cpu_s(self.pid)
        own = time.process_time() - self.own_before
        idle_after = machine_idle_s()
        idle = (None if idle_after is None or self.idle_before is None or wall <= 0
                else round((idle_after - self.idle_before) / (wall * (os.cpu_count() or 1)), 3))
        measured: dict[str, float | None] = {"wall_s": round(wall, 3), "client_share": round(own / wall, 3) if wall > 0
                                             else None, "machine_idle_share": idle}
        if after is None or self.cpu_before is None or wall <= 0:
            return {"cpu_s": None, "share": None, **measured}
        cpu = after - self.cpu_before
        return {"cpu_s": round(cpu, 2), "share": round(cpu / wall, 3), **measured}


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


def overlapped_minimum(pages: int, page_bucket: Bucket, item_calls: int, item_bucket: Bucket,
                       speed: float) -> float:
    """The least time ANY client can fetch ``pages`` list pages and ``item_calls`` per-record calls in.

    The physical limit of Orders v0 (issue 20): getOrders and getOrderItems are separate buckets, so
    nothing forces one to wait for the other, except that a record's item call needs its page. Page
    ``k`` (1-based) cannot be served before ``t_k = max(0, (k - burst) / rate)``; the item calls of
    the records on pages ``k..pages`` (``M_k``, spread evenly over the pages) all come after ``t_k``,
    and a bucket serves at most ``burst + rate * d`` calls in ``d`` seconds, so the pass takes at
    least ``max_k t_k + (M_k - burst_items) / rate_items``. With k = 1 that is the item bucket's own
    minimum, with k = pages the page bucket's; in between, the tail of items behind the last pages.
    Latency and server time are ignored, so no client beats it.
    """
    if pages <= 0:
        return bucket_minimum(item_calls, item_bucket, speed)
    page_rate, item_rate = page_bucket.rate * speed, item_bucket.rate * speed
    limit = 0.0
    for k in range(1, pages + 1):
        page_time = max(0.0, (k - page_bucket.burst) / page_rate)
        calls_after = item_calls * (pages - k + 1) / pages
        limit = max(limit, page_time + max(0.0, (calls_after - item_bucket.burst) / item_rate))
    return limit


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


def ratio_and_rss_figures(ratio_name: str, value: float | None, limit: float, ratio_detail: str,
                          rss_name: str, peak_mb: float, rss_limit_mb: float, rss_detail: str, *,
                          at_most: bool = False, rss_note: str = "") -> list[dict[str, Any]]:
    """The two summary rows of a paired benchmark: its ratio against the baseline, and its peak RSS.

    The paired benchmarks (items, ingest, merge, transcode) each run the path under test and a
    baseline in pairs and report the same two rows; built here so that the target text (``>= 0.5``,
    ``<= 1024 MB``), the direction of the ratio and a ratio of ``None`` (no baseline time) are
    judged one way in every one of them. ``at_most``: the ratio is a cost (time / baseline time),
    so it must stay at or under ``limit``; otherwise it is a speed and must reach it. ``rss_note``
    follows the RSS target (a target that holds only at another size says so there).
    """
    ok = value is not None and (value <= limit if at_most else value >= limit)
    return [figure(ratio_name, value, f"{'<=' if at_most else '>='} {limit:g}", ok, ratio_detail),
            figure(rss_name, peak_mb, f"<= {rss_limit_mb:g} MB{rss_note}", peak_mb <= rss_limit_mb, rss_detail)]
