"""The ``wh`` fixture: a fresh warehouse for each test, a DuckDB file under tmp_path by default.

A module that sets ``BOTH_ENGINES = True`` runs each of its tests that take ``wh`` on both engines: the file, and a DuckLake whose catalog is a new database on the session's
PostgreSQL server (skipped, saying why, where none runs). Those modules hold the SQL that DuckLake could
treat differently (merges, partition replacement, typing migrations, views, the ledger).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sp_assets.lib.warehouse import Warehouse

ENGINES = ("file", "ducklake")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "wh" in metafunc.fixturenames and getattr(metafunc.module, "BOTH_ENGINES", False):
        metafunc.parametrize("wh", ENGINES, indirect=True)


@pytest.fixture
def wh(tmp_path: Path, request: pytest.FixtureRequest) -> Warehouse:
    if getattr(request, "param", "file") == "ducklake":
        new_pg_database: Callable[[], str] = request.getfixturevalue("new_pg_database")
        return Warehouse(f"ducklake:{new_pg_database()}", lock_timeout_s=60, lake_data_path=str(tmp_path / "lake"))
    return Warehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=60, busy_timeout_s=10)
