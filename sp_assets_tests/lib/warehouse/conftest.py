"""The ``wh`` fixture: a fresh warehouse file under tmp_path for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from sp_assets.lib.warehouse import Warehouse


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=60, busy_timeout_s=10)
