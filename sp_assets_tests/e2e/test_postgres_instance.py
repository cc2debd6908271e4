"""The production profile end to end: ``dagster.postgres.yaml`` on a real PostgreSQL server.

The shared stack (``daemon_stack`` in ``conftest.py``) starts Debian's PostgreSQL itself (``initdb`` +
``pg_ctl`` on 127.0.0.1, a free port, its own data folder; as the ``postgres`` user when the tests run
as root, since PostgreSQL refuses root) and points ``make dev`` at it with
``SP_ASSETS_INSTANCE_PROFILE=dagster.postgres.yaml``. The test launches a partition backfill the way the
UI does, lets the daemon run it, then reads its runs and materializations from PostgreSQL itself: the
instance keeps nothing in SQLite. The UI retry test runs on the same stack, so run retries are checked
on this storage too; the fixture stops the stack with Ctrl-C (exit 0, no process left) and the server at
the end, pass or fail. Where the server is not installed the test is skipped, saying so (``make test``
installs it when it can).
"""

from __future__ import annotations

import pytest
import yaml

from sp_assets.defs.paths import PROJECT_ROOT

from .stack import PG_DB, PG_USER, SharedStack
from .test_ui_backfill import BACKFILL_TIMEOUT, launch_backfill, past_days, wait_for_backfill

pytestmark = pytest.mark.slow


def test_the_postgres_profile_is_dagster_yaml_with_postgres_storage() -> None:
    """One fact, one place: the profile differs from dagster.yaml only by its storage."""
    profile = yaml.safe_load((PROJECT_ROOT / "dagster.postgres.yaml").read_text(encoding="utf-8"))
    default = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    storage = profile.pop("storage")
    assert profile == default
    assert storage["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"


def test_a_backfill_runs_with_the_daemon_on_a_postgres_instance(daemon_stack: SharedStack) -> None:
    if daemon_stack.postgres is None:
        pytest.skip(daemon_stack.no_postgres)
    import psycopg2

    stack, postgres = daemon_stack.stack, daemon_stack.postgres
    assert not daemon_stack.proxy.rules, "the proxy must pass the sandbox's answers through"
    keys = [day.isoformat() for day in past_days()]
    backfill = wait_for_backfill(stack, launch_backfill(stack, keys), BACKFILL_TIMEOUT)
    assert backfill["status"] == "COMPLETED_SUCCESS", (backfill, stack.log_tail())
    run_ids = [run["runId"] for run in backfill["runs"]]
    with psycopg2.connect(host="127.0.0.1", port=int(postgres["DAGSTER_PG_PORT"]), user=PG_USER,
                          dbname=PG_DB) as db:
        cursor = db.cursor()
        cursor.execute("SELECT run_id, status FROM runs WHERE run_id = ANY(%s)", (run_ids,))
        stored = dict(cursor.fetchall())
        # This backfill's own materializations (other tests' runs on the stack write the same assets).
        cursor.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
                       "AND run_id = ANY(%s)", (run_ids,))
        materializations = cursor.fetchone()[0]
    assert run_ids and stored == dict.fromkeys(run_ids, "SUCCESS")
    assert materializations >= 2 * len(keys)  # orders and order_items, one per day
    assert not list(stack.home.rglob("runs.db")), "runs must live in PostgreSQL, not SQLite"
