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


def test_a_session_answers_as_the_warehouse_on_one_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """A step's checks read through ``session()``: the same answers, one open of the file, released after."""
    from sp_assets_tests.lib.warehouse.support import assert_other_process_can_open

    wh = Warehouse(tmp_path / "w.duckdb")
    with wh.session() as before_any_write:  # no file yet: reading creates none
        assert not before_any_write.table_exists("us", "orders")
    assert not wh.path.exists()
    wh.append("us", ORDERS, orders_frame([order("a"), order("b")]))
    opened: list[Path] = []
    real_open = Warehouse._open_duckdb

    def counting_open(self: Warehouse):  # noqa: ANN202 (the connection type of the real method)
        opened.append(self.path)
        return real_open(self)

    monkeypatch.setattr(Warehouse, "_open_duckdb", counting_open)
    with wh.session() as session:
        answers = (session.table_exists("us", "orders"), session.columns("us", "orders"),
                   session.row_count("us", "orders"), session.query("select count(*) as n from us.orders").item(),
                   session.loads("us", "orders").height)
    assert len(opened) == 1
    opened.clear()
    assert answers == (wh.table_exists("us", "orders"), wh.columns("us", "orders"), 2, 2, 1)
    assert len(opened) == 2  # outside a session each call opens the file
    assert_other_process_can_open(wh.path)
