"""The local environment ``make demo``, ``make dev`` and the end-to-end tests share.

A Dagster home inside the project (Dagster only reads ``dagster.yaml`` from ``$DAGSTER_HOME``, so it
is copied there), and one SP-API sandbox process that every Dagster process talks to through
``SP_API_ENDPOINT``, so all runs share one seller, one set of quotas and one report state.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sp_assets.defs.paths import PROJECT_ROOT, data_dir
from sp_assets.sandbox.server import SandboxProcess

DEFAULT_DEMO_SPEED = "200"
DEFAULT_DEMO_ORDERS = "100"


def prepare_dagster_home(home: Path | None = None) -> Path:
    """``$DAGSTER_HOME`` (default ``.dagster_home/`` in the project) with the project's dagster.yaml."""
    path = Path(home or os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home").resolve()
    path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", path / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(path)
    return path


def start_shared_sandbox(speed: str | None = None, orders_per_day: str | None = None) -> SandboxProcess | None:
    """Start a sandbox process and point every marketplace at it, unless one is configured already.

    Returns None when ``SP_API_ENDPOINT`` is set (a sandbox or a real endpoint the user chose).
    """
    if os.environ.get("SP_API_ENDPOINT"):
        return None
    speed = speed or os.environ.get("SP_SANDBOX_SPEED") or DEFAULT_DEMO_SPEED
    orders = orders_per_day or os.environ.get("SP_SANDBOX_ORDERS_PER_DAY") or DEFAULT_DEMO_ORDERS
    state_dir = data_dir() / "sandbox_state"
    state_dir.mkdir(parents=True, exist_ok=True)
    process = SandboxProcess(["--speed", speed, "--orders-per-day", orders, "--state-dir", str(state_dir)]).start()
    os.environ["SP_API_ENDPOINT"] = process.base_url
    os.environ["SP_SANDBOX_SPEED"] = speed
    os.environ["SP_ASSETS_SANDBOX"] = "1"
    return process
