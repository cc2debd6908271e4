"""The production profile end to end: ``dagster.postgres.yaml`` on a real PostgreSQL server.

The shared stack (``daemon_stack`` in ``conftest.py``) starts Debian's PostgreSQL itself (``initdb`` +
``pg_ctl`` on 127.0.0.1, a free port, its own data folder; as the ``postgres`` user when the tests run
as root, since PostgreSQL refuses root) and points ``make dev`` at it with
``SP_ASSETS_INSTANCE_PROFILE=dagster.postgres.yaml``. On it the UI backfill test's runs and
materializations are read from PostgreSQL itself (``assert_runs_in_postgres``) and the UI retry test
runs; this test checks that the stack is on PostgreSQL, and the fixture stops the stack with Ctrl-C
(exit 0, no process left) and then the server, pass or fail. Where the server is not installed the
test is skipped, saying so (``make test`` installs it when it can), and the shared stack runs on the
default profile.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sp_assets.defs.paths import PROJECT_ROOT
from sp_assets.local_postgres import PG_DB, PG_USER

from .stack import SharedStack

pytestmark = pytest.mark.slow

RUNS = "query Runs { runsOrError { ... on Runs { results { runId } } } }"


def test_the_postgres_profile_is_dagster_yaml_with_postgres_storage() -> None:
    """One fact, one place: the profile differs from dagster.yaml only by its storage."""
    profile = yaml.safe_load((PROJECT_ROOT / "dagster.postgres.yaml").read_text(encoding="utf-8"))
    default = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    storage = profile.pop("storage")
    assert profile == default
    assert storage["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"


def test_the_shared_stack_keeps_its_instance_in_postgres(daemon_stack: SharedStack) -> None:
    """The profile is the one in use: Dagster's schema is in the server's database, the UI lists the runs
    that are there (the backfill test's, on this stack), and the Dagster home holds no SQLite storage.
    The runs' token buckets and the warehouse's DuckLake catalog are in the same database (the report
    ledger would be too: the backfill asks for no report), and nothing of theirs in a file."""
    if daemon_stack.postgres is None:
        pytest.skip(daemon_stack.no_postgres)
    import psycopg2

    stack, postgres = daemon_stack.stack, daemon_stack.postgres
    with psycopg2.connect(host="127.0.0.1", port=int(postgres["DAGSTER_PG_PORT"]), user=PG_USER,
                          dbname=PG_DB) as db:
        cursor = db.cursor()
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        tables = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT run_id FROM runs")
        stored = {row[0] for row in cursor.fetchall()}
        buckets = 0
        if "sp_assets_quota_buckets" in tables:
            cursor.execute("SELECT count(*) FROM sp_assets_quota_buckets")
            buckets = cursor.fetchone()[0]
        lake_tables = 0
        if "ducklake_table" in tables:
            cursor.execute("SELECT count(*) FROM ducklake_table WHERE end_snapshot IS NULL")
            lake_tables = cursor.fetchone()[0]
    assert {"runs", "event_logs", "daemon_heartbeats"} <= tables, tables
    listed = {run["runId"] for run in stack.graphql(RUNS)["runsOrError"]["results"]}
    assert listed <= stored, listed - stored
    assert not list(stack.home.rglob("*.db")), "the instance must keep nothing in SQLite"
    assert not list(stack.home.parent.rglob("*.duckdb")), "the warehouse is the lake, not a DuckDB file"
    assert not list(stack.home.parent.rglob("*.reports.sqlite")), "a report ledger would be in PostgreSQL"
    if stored:  # the backfill's runs called Amazon (the sandbox) and wrote: their state is here
        assert buckets > 0, "the runs' quota buckets must be in PostgreSQL"
        assert lake_tables > 0, "the lake's catalog must be here"
        assert list(Path(stack.env["SP_ASSETS_DUCKLAKE_DATA_PATH"]).rglob("*.parquet")), "the lake's rows"
