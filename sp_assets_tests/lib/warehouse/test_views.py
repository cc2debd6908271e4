"""The ``amazon.<table>`` union views (``views``)."""

from __future__ import annotations

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
    rebuild_views,
)


def test_union_view_covers_every_marketplace_with_its_code(wh: Warehouse) -> None:
    for schema, count in (("us", 3), ("de", 2)):
        frame = orders_frame([order(f"{schema}-{i}") for i in range(count)])
        wh.replace_partition(schema, ORDERS, frame, DAY, NEXT_DAY)
    per_marketplace = wh.query("SELECT marketplace, count(*) AS n FROM amazon.orders GROUP BY 1 ORDER BY 1")
    assert per_marketplace.rows() == [("de", 2), ("us", 3)]

    jp_only = orders_frame([order("jp-0")]).with_columns(pl.lit(True).alias("is_jp_only"))
    wh.replace_partition("jp", ORDERS, jp_only, DAY, NEXT_DAY)  # a new marketplace joins the view
    view = wh.query("SELECT marketplace, amazon_order_id, is_jp_only FROM amazon.orders ORDER BY 2")
    assert view.get_column("marketplace").to_list() == ["de", "de", "jp", "us", "us", "us"]
    assert view.filter(pl.col("marketplace") == "jp").get_column("is_jp_only").to_list() == [True]
    assert view.filter(pl.col("marketplace") != "jp").get_column("is_jp_only").null_count() == 5
    assert rebuild_views(wh) == ["amazon.orders"]


def test_union_view_keeps_a_sources_own_marketplace_column(wh: Warehouse) -> None:
    spec = TableSpec("fees", (Column("sku", VARCHAR), Column("marketplace", VARCHAR)))
    wh.append("uk", spec, frame_from_records(spec, [{"sku": "x", "marketplace": "amazon.co.uk"}]))
    row = wh.query("SELECT marketplace, source_marketplace FROM amazon.fees").row(0)
    assert row == ("uk", "amazon.co.uk")
