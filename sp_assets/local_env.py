"""The local environment ``make demo``, ``make dev`` and the end-to-end tests share.

A Dagster home inside the project (Dagster only reads ``dagster.yaml`` from ``$DAGSTER_HOME``, so it
is copied there), one SP-API sandbox process that every Dagster process talks to through
``SP_API_ENDPOINT`` (so all runs share one seller, one set of quotas and one report state), and the
plumbing to start the Dagster services as process groups and stop them without leaving orphans.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import requests

from sp_assets.defs.paths import PROJECT_ROOT, data_dir
from sp_assets.sandbox.server import SandboxProcess

REPORT_POOL_SLOTS = 4  # report steps of one account that may wait for Amazon at once
DEFAULT_DEMO_SPEED = "200"
DEFAULT_DEMO_ORDERS = "100"


INSTANCE_PROFILE_VAR = "SP_ASSETS_INSTANCE_PROFILE"


def instance_profile() -> Path:
    """The ``dagster.yaml`` to put in ``$DAGSTER_HOME``: the project's, or the file named by
    ``SP_ASSETS_INSTANCE_PROFILE`` (relative to the project: ``dagster.postgres.yaml`` keeps runs, events
    and schedules in PostgreSQL; README "Production")."""
    value = os.environ.get(INSTANCE_PROFILE_VAR, "").strip()
    if not value:
        return PROJECT_ROOT / "dagster.yaml"
    path = Path(value) if Path(value).is_absolute() else PROJECT_ROOT / value
    if not path.is_file():
        raise SystemExit(f"{INSTANCE_PROFILE_VAR}: {value!r} is not a file; allowed: a Dagster instance file "
                         f"such as dagster.postgres.yaml (or unset for dagster.yaml). Nothing was started.")
    return path


def prepare_dagster_home(home: Path | None = None) -> Path:
    """``$DAGSTER_HOME`` (default ``.dagster_home/`` in the project) with the project's dagster.yaml (or
    the ``SP_ASSETS_INSTANCE_PROFILE`` file).

    Dagster ignores a ``dagster.yaml`` outside ``$DAGSTER_HOME`` and, without ``$DAGSTER_HOME``, keeps
    runs in a temporary folder deleted on exit, so the demo's runs would never reach the UI.
    """
    path = Path(home or os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home").resolve()
    path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(instance_profile(), path / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(path)
    initialize_instance()
    return path


def initialize_instance() -> None:
    """Create the instance's SQLite databases (runs, event index, schedules) in this process.

    The webserver and the daemon each create them on first use; started side by side on a new home,
    one of them dies with "table alembic_version already exists". Creating them first avoids the race.
    """
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)
        instance.event_log_storage.get_asset_keys()
        if instance.schedule_storage is not None:
            instance.schedule_storage.all_instigator_state()
        set_report_pool_limits(instance)


def set_report_pool_limits(instance, slots: int = REPORT_POOL_SLOTS) -> None:
    """Let a few report steps of one account wait for Amazon side by side.

    Every pool defaults to one slot (dagster.yaml), right for the paged APIs whose quota is per
    account. A report step mostly waits for Amazon to build the document, and createReport has its
    own bucket, so one slot would make a 7-report day wait for each report in turn. dagster.yaml
    cannot name per-pool limits, so they are set on the instance, as
    ``dagster instance concurrency set sp_api__<account>__reports 4`` would.
    """
    from sp_assets.defs.common import pool_name
    from sp_assets.defs.config import load_config

    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    for entry in load_config().marketplaces:
        for family in ("reports", "datakiosk"):  # Data Kiosk queries wait for Amazon the same way
            storage.set_concurrency_slots(pool_name(entry, family), slots)


CREDENTIAL_PREFIXES = ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN")


def real_credentials_configured() -> bool:
    """Whether the user set SP-API credentials, in the environment or in the project's ``.env``
    (which Dagster's webserver and daemon load), and did not ask for the sandbox (``SP_ASSETS_SANDBOX=1``)."""
    from sp_assets.defs.resources import sandbox_requested

    try:
        if sandbox_requested():
            return False
    except ValueError as error:
        raise RuntimeError(str(error)) from None
    from dotenv import dotenv_values

    env_file = PROJECT_ROOT / ".env"
    names = {**(dotenv_values(env_file) if env_file.is_file() else {}), **os.environ}
    return any(name.startswith(CREDENTIAL_PREFIXES) and (value or "").strip() for name, value in names.items())


def start_shared_sandbox(speed: str | None = None, orders_per_day: str | None = None) -> SandboxProcess | None:
    """Ask for the sandbox (``SP_ASSETS_SANDBOX=1``, inherited by every Dagster process started after
    this), start a sandbox process and point every marketplace at it, unless one is configured already.

    Returns None when ``SP_API_ENDPOINT`` is set (a sandbox the user started).
    """
    from sp_assets.defs.resources import SANDBOX_VAR

    os.environ[SANDBOX_VAR] = "1"
    if os.environ.get("SP_API_ENDPOINT"):
        return None
    speed = speed or os.environ.get("SP_SANDBOX_SPEED") or DEFAULT_DEMO_SPEED
    orders = orders_per_day or os.environ.get("SP_SANDBOX_ORDERS_PER_DAY") or DEFAULT_DEMO_ORDERS
    state_dir = data_dir() / "sandbox_state"
    state_dir.mkdir(parents=True, exist_ok=True)
    args = ["--speed", speed, "--orders-per-day", orders, "--state-dir", str(state_dir)]
    if os.environ.get("SP_SANDBOX_SEED"):
        args += ["--seed", os.environ["SP_SANDBOX_SEED"]]
    process = SandboxProcess(args).start()
    os.environ["SP_API_ENDPOINT"] = process.base_url
    os.environ["SP_SANDBOX_SPEED"] = speed
    return process


def venv_bin(name: str) -> str:
    """A console script of this interpreter's environment (``.venv/bin/dagster-webserver``)."""
    return str(Path(sys.executable).parent / name)


def start_service(name: str, argv: Sequence[str]) -> subprocess.Popen:
    """Start ``argv`` as the leader of its own process group.

    Everything it starts (code servers, run workers) stays in that group, so one ``killpg`` reaches
    them all; and a Ctrl-C at the terminal does not reach it, so the caller decides how it stops
    (one SIGTERM) instead of each process getting SIGINT and then the caller's SIGTERM on top.
    """
    try:
        return subprocess.Popen(list(argv), cwd=PROJECT_ROOT, process_group=0)
    except FileNotFoundError:
        raise RuntimeError(f"{name}: {argv[0]} not found; run `make install` first") from None


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists (zombies of our own children count until reaped)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_services(processes: Sequence[subprocess.Popen], grace_seconds: float = 20.0,
                  hurry: threading.Event | None = None) -> None:
    """SIGTERM every process group, wait up to ``grace_seconds`` for all members, then SIGKILL the rest.

    Dagster's processes treat SIGTERM like Ctrl-C and shut down cleanly (the daemon joins its
    threads, the webserver stops its code server). Waiting for the whole group, not just its
    leader, matters: an orphaned code server would otherwise linger until its heartbeat times out.
    Setting ``hurry`` (a second Ctrl-C) ends the grace period at once.
    """
    for process in processes:
        signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and not (hurry is not None and hurry.is_set()):
        if not any(process.poll() is None or group_alive(process.pid) for process in processes):
            break
        time.sleep(0.1)
    for process in processes:
        if process.poll() is not None and not group_alive(process.pid):
            continue
        signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def server_info(url: str, timeout: float = 2.0) -> dict | None:
    """The webserver's ``/server_info`` answer, or None while it does not answer."""
    try:
        response = requests.get(url.rstrip("/") + "/server_info", timeout=timeout)
    except requests.RequestException:
        return None
    return response.json() if response.status_code == 200 else None


def wait_for_webserver(url: str, services: Sequence[tuple[str, subprocess.Popen]], timeout: float = 180.0,
                       stop: threading.Event | None = None) -> dict | None:
    """Poll ``/server_info`` until the webserver answers; None if ``stop`` is set first.

    Raises with the service's name when one of ``services`` exits before, and on timeout.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set():
            return None
        for name, process in services:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode} before the UI answered")
        info = server_info(url)
        if info is not None:
            return info
        if stop is not None:
            stop.wait(0.5)
        else:
            time.sleep(0.5)
    raise RuntimeError(f"the Dagster webserver did not answer on {url}/server_info within {timeout:.0f}s")
