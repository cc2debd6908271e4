"""One ``make dev`` shared by the end-to-end tests that can share it.

Each stack costs a webserver, a daemon and their code servers starting (20 s on a loaded 2-core machine)
and stopping; the daemon's fixed 30-second loops then dominate what the tests wait for. The tests that
only need *a* stack with a tampering proxy in front of the sandbox share ``daemon_stack``: the UI retry
test (``test_ui_retries.py``) and the PostgreSQL instance test (``test_postgres_instance.py``). It runs
on the production profile (``dagster.postgres.yaml`` on a PostgreSQL server the fixture starts) where
PostgreSQL's server is installed, so the retries are checked on that storage too; elsewhere on the
default profile, and the PostgreSQL test skips, saying why. Tests must leave the proxy without rules,
and count only the runs they launched (the marts' automation sensor launches runs of its own).

The UI backfill and demo tests keep their own stacks: they check that ``make dev`` starts its own
sandbox and compare DuckDB with it, or start on the demo's Dagster home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sp_assets_tests.reliability import support
from sp_assets_tests.reliability.proxy import TamperingProxy

from .stack import (
    PG_DB,
    PG_USER,
    DevStack,
    SharedStack,
    as_server_user,
    free_port,
    server_binaries,
    why_no_postgres,
)
from .test_ui_backfill import stack_env

SHARED_FIXTURE = "daemon_stack"


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, str] | None]:
    """A PostgreSQL server on 127.0.0.1 (a free port, its own data folder) with an empty database for
    Dagster; None where it cannot run (``why_no_postgres``). Stopped at the end, pass or fail."""
    binaries = server_binaries()
    if binaries is None or why_no_postgres():
        yield None  # the stack runs on the default profile; the PostgreSQL test skips, saying why
        return
    base = Path(tempfile.mkdtemp(prefix="sp_assets_pg_"))
    base.chmod(0o755)
    data, port = base / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    try:
        subprocess.run(as_server_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER,
                                       "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        subprocess.run(as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                                       "-o", f"-h 127.0.0.1 -p {port} -k {base} -F", "-w", "-t", "120", "start"]),
                       check=True, capture_output=True)
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


@pytest.fixture(scope="session")
def daemon_stack(tmp_path_factory: pytest.TempPathFactory, postgres: dict[str, str] | None
                 ) -> Iterator[SharedStack]:
    """``make dev`` (webserver, daemon) on the production profile where PostgreSQL runs, against a frozen
    sandbox behind a ``TamperingProxy``. At the end Ctrl-C must stop it cleanly, leaving no process."""
    tmp_path = tmp_path_factory.mktemp("daemon_stack")
    proxy = TamperingProxy().start()
    sandbox = support.frozen_sandbox(support.now_utc(), public_base_url=proxy.url)
    proxy.upstream = sandbox.base_url
    env = stack_env(tmp_path)
    env.update({"SP_API_ENDPOINT": proxy.url, "SP_ASSETS_SANDBOX": "1", "SP_SANDBOX_SPEED": "1000"})
    if postgres is not None:
        env.update({**postgres, "SP_ASSETS_INSTANCE_PROFILE": "dagster.postgres.yaml"})
    stack = DevStack(tmp_path, env)
    try:
        stack.start()
        yield SharedStack(stack, proxy, postgres, why_no_postgres())
        proxy.rules.clear()
        stack.interrupt()
        assert stack.wait_stopped(timeout=90) == 0, stack.log_tail()
        assert stack.leftovers() == [], stack.log_tail()
        if postgres is not None:
            assert not list(stack.home.rglob("runs.db")), "runs must live in PostgreSQL, not SQLite"
    finally:
        stack.kill_everything()
        proxy.stop()
        sandbox.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests sharing ``daemon_stack`` one after the other, so the stack does not idle (a daemon,
    a webserver, their code servers) while another test's stack runs."""
    sharing = [item for item in items if SHARED_FIXTURE in getattr(item, "fixturenames", ())]
    if len(sharing) < 2:
        return
    first = items.index(sharing[0])
    rest = [item for item in items if item not in sharing]
    items[:] = rest[:first] + sharing + rest[first:]
