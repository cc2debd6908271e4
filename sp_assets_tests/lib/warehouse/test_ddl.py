"""Schema drift (``ddl``): a new column is added, a missing one is written as null."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from sp_assets.lib.tablespec import (
    VARCHAR,
    Column,
    TableSpec,
    frame_from_records,
)
from sp_assets.lib.warehouse import (
    Warehouse,
)
from sp_assets_tests.lib.warehouse.support import (
    DAY,
    NEXT_DAY,
    ORDERS,
    order,
    orders_frame,
)

BOTH_ENGINES = True  # every test taking ``wh`` runs on a DuckDB file and on DuckLake (conftest.py)


def test_schema_drift_adds_new_columns_and_nulls_missing_ones(wh: Warehouse) -> None:
    wh.replace_partition("us", ORDERS, orders_frame([order("a")]), DAY, NEXT_DAY)
    with_new = orders_frame([order("b", NEXT_DAY)]).with_columns(pl.lit("gift").alias("gift_message"))
    result = wh.replace_partition("us", ORDERS, with_new, NEXT_DAY, NEXT_DAY + timedelta(1))
    assert result.added_columns == ("gift_message",)
    without = orders_frame([order("c", date(2024, 1, 4))]).drop("order_status", "gift_message", strict=False)
    wh.replace_partition("us", ORDERS, without, date(2024, 1, 4), date(2024, 1, 5))

    rows = wh.query("SELECT amazon_order_id, order_status, gift_message FROM us.orders ORDER BY 1").rows()
    assert rows == [("a", "Shipped", None), ("b", "Shipped", "gift"), ("c", None, None)]
    assert "gift_message" in wh.columns("amazon", "orders")  # the union view was rebuilt


def test_spec_evolution_adds_the_new_spec_column(wh: Warehouse) -> None:
    wh.replace_partition("us", ORDERS, orders_frame([order("a")]), DAY, NEXT_DAY)
    evolved = TableSpec(
        "orders",
        (*ORDERS.columns, Column("buyer_country", VARCHAR)),
        primary_key=ORDERS.primary_key,
        partition_column="partition_date",
    )
    result = wh.replace_partition("us", evolved, frame_from_records(evolved, [order("b")]), DAY, NEXT_DAY)
    assert result.added_columns == ("buyer_country",)
    assert wh.columns("us", "orders")["buyer_country"] == "VARCHAR"
