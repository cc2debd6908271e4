"""The production profile end to end: ``dagster.postgres.yaml`` on a real PostgreSQL server.

The test starts Debian's PostgreSQL itself (``initdb`` + ``pg_ctl`` on 127.0.0.1, a free port, its own data
folder; as the ``postgres`` user when the tests run as root, since PostgreSQL refuses root), points
``make dev`` at it with ``SP_ASSETS_INSTANCE_PROFILE=dagster.postgres.yaml``, launches a partition backfill
the way the UI does and lets the daemon run it, then reads the runs from PostgreSQL itself: the instance
kept nothing in SQLite. The server is stopped at the end, pass or fail. Where the server is not
installed the test is skipped, saying so (``make test`` installs it when it can).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sp_assets.defs.paths import PROJECT_ROOT

from .stack import DevStack, free_port
from .test_ui_backfill import BACKFILL_TIMEOUT, launch_backfill, past_days, stack_env, wait_for_backfill

pytestmark = pytest.mark.slow

PG_USER, PG_DB = "sp_assets", "dagster"


def server_binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (on PATH, or Debian's /usr/lib/postgresql/<version>/bin)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as ``postgres`` then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture
def postgres() -> Iterator[dict[str, str]]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's server (initdb, pg_ctl) is not installed; `make test` installs Debian's "
                    "postgresql package when it runs as root")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: PostgreSQL cannot be started as root")
    base = Path(tempfile.mkdtemp(prefix="sp_assets_pg_"))
    base.chmod(0o755)
    data, port = base / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    subprocess.run(as_server_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER,
                                   "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
    subprocess.run(as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                                   "-o", f"-h 127.0.0.1 -p {port} -k {base} -F", "-w", "-t", "120", "start"]),
                   check=True, capture_output=True)
    try:
        import psycopg2

        admin = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres")
        admin.autocommit = True  # CREATE DATABASE cannot run in a transaction
        admin.cursor().execute(f"CREATE DATABASE {PG_DB}")
        admin.close()
        yield {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_USER": PG_USER,
               "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": PG_DB}
    finally:
        subprocess.run(as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_the_postgres_profile_is_dagster_yaml_with_postgres_storage() -> None:
    """One fact, one place: the profile differs from dagster.yaml only by its storage."""
    profile = yaml.safe_load((PROJECT_ROOT / "dagster.postgres.yaml").read_text(encoding="utf-8"))
    default = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    storage = profile.pop("storage")
    assert profile == default
    assert storage["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"


def test_a_backfill_runs_with_the_daemon_on_a_postgres_instance(tmp_path: Path, postgres: dict[str, str]) -> None:
    import psycopg2

    keys = [day.isoformat() for day in past_days()]
    env = {**stack_env(tmp_path), **postgres, "SP_ASSETS_INSTANCE_PROFILE": "dagster.postgres.yaml"}
    stack = DevStack(tmp_path, env)
    try:
        stack.start()
        backfill = wait_for_backfill(stack, launch_backfill(stack, keys), BACKFILL_TIMEOUT)
        assert backfill["status"] == "COMPLETED_SUCCESS", (backfill, stack.log_tail())
        run_ids = {run["runId"] for run in backfill["runs"]}
        stack.interrupt()
        assert stack.wait_stopped(timeout=90) == 0, stack.log_tail()
    finally:
        stack.kill_everything()
    with psycopg2.connect(host="127.0.0.1", port=int(postgres["DAGSTER_PG_PORT"]), user=PG_USER,
                          dbname=PG_DB) as db:
        cursor = db.cursor()
        cursor.execute("SELECT run_id, status FROM runs")
        stored = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
        materializations = cursor.fetchone()[0]
    assert run_ids and {stored.get(run_id) for run_id in run_ids} == {"SUCCESS"}
    assert materializations >= 2 * len(keys)  # orders and order_items, one per day
    assert not list((tmp_path / "dagster_home").rglob("runs.db")), "runs must live in PostgreSQL, not SQLite"
