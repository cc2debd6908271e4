"""Unusable warehouse paths fail early with an error that names the path and its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from sp_assets.lib.warehouse import (
    DUCKDB_PATH_ENV,
    Warehouse,
    WarehousePathError,
)
from sp_assets_tests.lib.warehouse.support import (
    ORDERS,
    order,
    orders_frame,
)


@pytest.mark.parametrize("kind", ["parent_is_a_file", "not_duckdb", "directory"])
def test_unusable_paths_give_a_clear_error(tmp_path: Path, kind: str) -> None:
    blocker = tmp_path / "plain.txt"
    blocker.write_text("not a database")
    path = {"parent_is_a_file": blocker / "w.duckdb", "not_duckdb": blocker, "directory": tmp_path}[kind]
    with pytest.raises(WarehousePathError) as info:
        Warehouse(path).append("us", ORDERS, orders_frame([order("a")]))
    assert str(path) in str(info.value)
    assert DUCKDB_PATH_ENV in str(info.value)


def test_paths_are_resolved_and_must_be_local_files(tmp_path: Path) -> None:
    wh = Warehouse(str(tmp_path / "x.duckdb"), lock_timeout_s=5)
    assert wh.path == tmp_path / "x.duckdb" and wh.lock_timeout_s == 5
    for path in (":memory:", "md:warehouse", "", "  "):
        with pytest.raises(WarehousePathError, match="local file|empty"):
            Warehouse(path)
