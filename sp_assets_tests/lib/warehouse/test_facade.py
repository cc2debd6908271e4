"""The ``Warehouse`` facade: reads that never create the file, schemas a write may not use."""

from __future__ import annotations

from pathlib import Path

import pytest

from sp_assets.lib.warehouse import (
    Warehouse,
    WarehouseError,
)
from sp_assets_tests.lib.warehouse.support import (
    ORDERS,
    order,
    orders_frame,
)


def test_reads_on_a_missing_database_do_not_create_it(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "nested" / "dir" / "w.duckdb")
    assert not wh.table_exists("us", "orders")
    assert wh.columns("us", "orders") == {}
    with pytest.raises(WarehouseError, match="does not exist"):
        wh.row_count("us", "orders")
    assert not wh.path.exists()
    wh.append("us", ORDERS, orders_frame([order("a")]))  # a write creates the directories
    assert wh.row_count("us", "orders") == 1
    with pytest.raises(WarehouseError, match="us.nope does not exist"):
        wh.row_count("us", "nope")


def test_reserved_or_invalid_schemas_are_refused(wh: Warehouse) -> None:
    for schema in ("amazon", "_sp_assets", "main"):
        with pytest.raises(ValueError, match="reserved"):
            wh.append(schema, ORDERS, orders_frame([order("a")]))
    with pytest.raises(ValueError, match="invalid schema name"):
        wh.append('us"; drop', ORDERS, orders_frame([order("a")]))
