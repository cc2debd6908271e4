"""The load ledger (``ledger``): a row per write, in the same transaction, with its source."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from sp_assets.lib.warehouse import LOAD_SOURCES, Warehouse
from sp_assets_tests.lib.warehouse.support import DAY, NEXT_DAY, ORDERS, order, orders_frame

BOTH_ENGINES = True  # every test taking ``wh`` runs on a DuckDB file and on DuckLake (conftest.py)

# The ledger as sp_assets created it before the ``source`` column existed.
OLD_LEDGER_DDL = """
CREATE SCHEMA "_sp_assets";
CREATE TABLE "_sp_assets"."loads" ("load_id" BIGINT, "schema_name" VARCHAR NOT NULL,
    "table_name" VARCHAR NOT NULL, "operation" VARCHAR NOT NULL, "partition_start" VARCHAR,
    "partition_end" VARCHAR, "rows" BIGINT NOT NULL, "inserted" BIGINT, "updated" BIGINT, "deleted" BIGINT,
    "skipped" BIGINT, "written_at" TIMESTAMPTZ NOT NULL, "note" VARCHAR);
INSERT INTO "_sp_assets"."loads" VALUES
    (1, 'us', 'orders', 'merge', NULL, NULL, 3, 3, 0, 0, 0, TIMESTAMPTZ '2024-01-01 00:00:00+00', 'old');
"""


def test_every_write_leaves_a_ledger_row_in_the_same_transaction(wh: Warehouse) -> None:
    wh.replace_partition("us", ORDERS, orders_frame([order("a")]), DAY, NEXT_DAY, note="first")
    wh.merge("us", ORDERS, orders_frame([order("a", updated="2024-01-09T00:00:00Z"), order("b")]))
    ledger = wh.loads("us", "orders")
    assert ledger.select("operation", "rows", "inserted", "updated", "deleted").rows() == [
        ("merge", 2, 1, 1, 0),
        ("replace_partition", 1, 1, 0, 0),
    ]
    assert ledger.get_column("written_at").dtype == pl.Datetime("us", "UTC")
    assert wh.loads("de").height == 0


def test_every_ledger_row_records_the_warehouses_source(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    assert Warehouse(path).loads().get_column("source").dtype == pl.String  # even before any write
    Warehouse(path).merge("us", ORDERS, orders_frame([order("a")]))
    sandbox = Warehouse(path, source="sandbox")
    sandbox.replace_partition("us", ORDERS, orders_frame([order("b")]), DAY, NEXT_DAY)
    tsv = tmp_path / "report.tsv"
    tsv.write_text("sku\nx\n", encoding="utf-8")
    sandbox.load_delimited_file("us", "report", tsv)
    ledger = Warehouse(path).loads()
    assert ledger.select("operation", "source").rows() == [
        ("load_delimited_file", "sandbox"),
        ("replace_partition", "sandbox"),
        ("merge", "amazon"),
    ]


def test_an_old_ledger_gets_the_source_column_on_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(OLD_LEDGER_DDL)
    wh = Warehouse(path, source="sandbox")
    before = wh.loads()
    assert before.select("note", "source").rows() == [("old", None)]  # read as unknown, not migrated
    assert "source" not in wh.columns("_sp_assets", "loads")

    wh.replace_partition("us", ORDERS, orders_frame([order("a")]), DAY, NEXT_DAY)
    assert wh.loads().select("load_id", "note", "source").rows() == [(2, None, "sandbox"), (1, "old", None)]
    assert wh.columns("_sp_assets", "loads")["source"] == "VARCHAR"
    comment = wh.query(
        "SELECT comment FROM duckdb_columns() WHERE schema_name = '_sp_assets' AND column_name = 'source'"
    ).item()
    assert "sandbox" in comment and "NULL (unknown)" in comment


def test_a_new_ledger_documents_its_source_column(wh: Warehouse) -> None:
    wh.merge("us", ORDERS, orders_frame([order("a")]))
    comment = wh.query(
        "SELECT comment FROM duckdb_columns() WHERE schema_name = '_sp_assets' AND column_name = 'source'"
    ).item()
    assert "NULL (unknown)" in comment


@pytest.mark.parametrize("source", ["production", "Amazon", "", None, 1])
def test_an_unknown_source_is_refused_naming_the_allowed_values(tmp_path: Path, source: object) -> None:
    with pytest.raises(ValueError, match=r"source must be one of 'amazon', 'sandbox'; got "):
        Warehouse(tmp_path / "w.duckdb", source=source)  # type: ignore[arg-type]
    assert LOAD_SOURCES == ("amazon", "sandbox")
    assert not (tmp_path / "w.duckdb").exists()
