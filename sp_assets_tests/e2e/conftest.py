"""One ``make dev`` shared by the end-to-end tests that can share it.

Each stack costs a webserver, a daemon and their code servers starting (20 s on a loaded 2-core machine)
and stopping, and each backfill the daemon's fixed 30-second loops. The tests that need *a* stack share
``daemon_stack``: the UI backfill test (``test_ui_backfill.py``), the PostgreSQL instance test
(``test_postgres_instance.py``) and the UI retry test (``test_ui_retries.py``), in that order (the
backfill test checks that the marts' automation rebuilt exactly its days: no other test may have written
a raw partition before). It runs on the production profile (``dagster.postgres.yaml`` on a PostgreSQL
server the fixture starts) where PostgreSQL's server is installed, so the backfill and the retries are
checked on that storage; elsewhere on the default profile, and the PostgreSQL test skips, saying why.
The sandbox runs in the test process behind a ``TamperingProxy`` (the retry test rewrites its answers);
tests must leave the proxy without rules and count only the runs they launched (the marts' automation
and freshness sensors launch runs of their own). At the end Ctrl-C must stop the stack cleanly and leave
no process.

The demo tests keep their own stacks: they start ``make dev`` on the demo's Dagster home, with the
sandbox ``make dev`` starts itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sp_assets.local_postgres import PG_DB, why_no_postgres
from sp_assets_tests.reliability import support
from sp_assets_tests.reliability.proxy import TamperingProxy

from .stack import DevStack, SharedStack
from .test_ui_backfill import ORDERS_PER_DAY, SEED, stack_env

SHARED_FIXTURE = "daemon_stack"
# The order the tests sharing it run in (by module); see the module's docstring.
SHARED_ORDER = ("test_ui_backfill.py", "test_postgres_instance.py", "test_ui_retries.py")


@pytest.fixture(scope="session")
def daemon_stack(tmp_path_factory: pytest.TempPathFactory, postgres: dict[str, str] | None
                 ) -> Iterator[SharedStack]:
    """``make dev`` (webserver, daemon) on the production profile where PostgreSQL runs, against a frozen
    sandbox behind a ``TamperingProxy``. At the end Ctrl-C must stop it cleanly, leaving no process."""
    tmp_path = tmp_path_factory.mktemp("daemon_stack")
    proxy = TamperingProxy().start()
    # The seller the backfill test compares DuckDB with (its seed and orders per day).
    sandbox = support.frozen_sandbox(support.now_utc(), seed=SEED, orders_per_day=ORDERS_PER_DAY,
                                     public_base_url=proxy.url)
    proxy.upstream = sandbox.base_url
    env = stack_env(tmp_path)
    env.update({"SP_API_ENDPOINT": proxy.url, "SP_ASSETS_SANDBOX": "1", "SP_SANDBOX_SPEED": "1000"})
    if postgres is not None:
        # Production as README "Production" describes it for several machines: the instance, the quota
        # buckets and the warehouse (a DuckLake whose catalog is there) all in the instance's own database,
        # and the report ledger there too, by default beside the lake's catalog.
        shared = f"postgresql://{postgres['DAGSTER_PG_USER']}@127.0.0.1:{postgres['DAGSTER_PG_PORT']}/{PG_DB}"
        env.update({**postgres, "SP_ASSETS_INSTANCE_PROFILE": "dagster.postgres.yaml",
                    "SP_ASSETS_QUOTA_STORE": shared, "SP_ASSETS_DUCKDB": f"ducklake:{shared}",
                    "SP_ASSETS_DUCKLAKE_DATA_PATH": str(tmp_path / "lake")})
        env.pop("SP_ASSETS_REPORT_LEDGER", None)
    stack = DevStack(tmp_path, env)
    try:
        info = stack.start()
        yield SharedStack(stack, proxy, info, postgres, why_no_postgres())
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
    """Run the tests sharing ``daemon_stack`` one after the other, in ``SHARED_ORDER``, where the first
    of them was: the stack does not idle (a daemon, a webserver, their code servers) while another
    test's stack runs, and the backfill test comes first."""
    sharing = [item for item in items if SHARED_FIXTURE in getattr(item, "fixturenames", ())]
    if not sharing:
        return
    first = items.index(sharing[0])
    rest = [item for item in items if item not in sharing]

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SHARED_ORDER.index(name) if name in SHARED_ORDER else len(SHARED_ORDER)

    items[:] = rest[:first] + sorted(sharing, key=rank) + rest[first:]  # sorted() is stable within a module
