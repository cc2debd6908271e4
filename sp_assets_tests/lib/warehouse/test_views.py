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

BOTH_ENGINES = True  # every test taking ``wh`` runs on a DuckDB file and on DuckLake (conftest.py)


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


def test_union_view_says_which_account_each_row_is_from(wh: Warehouse) -> None:
    """Names with an account (``acme_us``, several accounts configured) and without (``us``, one account:
    ``default``) read back as account and marketplace, so a query reads the same either way."""
    for schema in ("acme_us", "brand_us", "de"):
        wh.replace_partition(schema, ORDERS, orders_frame([order(f"{schema}-0")]), DAY, NEXT_DAY)
    rows = wh.query("SELECT account, marketplace, amazon_order_id FROM amazon.orders ORDER BY 3").rows()
    assert rows == [("acme", "us", "acme_us-0"), ("brand", "us", "brand_us-0"), ("default", "de", "de-0")]
    assert wh.query("SELECT * FROM amazon.orders").columns[:2] == ["account", "marketplace"]

    spec = TableSpec("ledger", (Column("sku", VARCHAR), Column("account", VARCHAR)))
    wh.append("acme_us", spec, frame_from_records(spec, [{"sku": "x", "account": "A1SELLER"}]))
    assert wh.query("SELECT account, source_account FROM amazon.ledger").row(0) == ("acme", "A1SELLER")


ORDERS_UPSERT = TableSpec("orders_upsert", ORDERS.columns, primary_key=("amazon_order_id",),
                          version_column="last_update_date")


def test_orders_current_takes_each_orders_newer_merged_row(wh: Warehouse) -> None:
    for schema in ("us", "de"):
        wh.replace_partition(schema, ORDERS, orders_frame([
            order(f"{schema}-new", order_status="Unshipped"),
            order(f"{schema}-old", order_status="Unshipped", updated="2024-01-02T12:00:00Z"),
            order(f"{schema}-alone", order_status="Pending"),
        ]), DAY, NEXT_DAY)
    assert wh.query("SELECT DISTINCT current_source FROM amazon.orders_current").item() == "orders"
    wh.merge("us", ORDERS_UPSERT, frame_from_records(ORDERS_UPSERT, [
        order("us-new", updated="2024-01-04T09:00:00Z"),  # shipped after the day's last re-pull
        order("us-old", updated="2024-01-02T11:00:00Z"),  # older than orders' row: orders' row stands
        order("us-other-day", day=NEXT_DAY, updated="2024-01-04T09:00:00Z"),  # no row in orders: not added
    ]))
    rows = wh.query("SELECT marketplace, amazon_order_id, order_status, last_update_date::VARCHAR, current_source "
                    "FROM amazon.orders_current ORDER BY 1, 2").rows()
    assert rows == [
        ("de", "de-alone", "Pending", "2024-01-02 10:00:00+00", "orders"),
        ("de", "de-new", "Unshipped", "2024-01-02 10:00:00+00", "orders"),
        ("de", "de-old", "Unshipped", "2024-01-02 12:00:00+00", "orders"),
        ("us", "us-alone", "Pending", "2024-01-02 10:00:00+00", "orders"),
        ("us", "us-new", "Shipped", "2024-01-04 09:00:00+00", "orders_upsert"),
        ("us", "us-old", "Unshipped", "2024-01-02 12:00:00+00", "orders"),
    ]
    assert list(wh.columns("us", "orders_current")) == [*wh.columns("us", "orders"), "current_source"]


def test_orders_current_appears_in_a_warehouse_written_before_it_existed(wh: Warehouse) -> None:
    wh.replace_partition("us", ORDERS, orders_frame([order("us-1", order_status="Unshipped")]), DAY, NEXT_DAY)
    wh.merge("us", ORDERS_UPSERT, frame_from_records(ORDERS_UPSERT, [order("us-1", updated="2024-01-05T00:00:00Z")]))
    with wh.connect() as connection:  # the warehouse as the previous version left it
        connection.execute("DROP VIEW amazon.orders_current")
        connection.execute("DROP VIEW us.orders_current")
    wh.merge("us", ORDERS_UPSERT, frame_from_records(ORDERS_UPSERT, [order("us-1", updated="2024-01-06T00:00:00Z")]))
    assert wh.query("SELECT order_status, current_source FROM amazon.orders_current").row(0) == (
        "Shipped", "orders_upsert")


def test_union_view_gains_its_account_column_at_the_next_write(wh: Warehouse) -> None:
    """A warehouse written before the ``account`` column had ``amazon.orders`` without it; the next
    write (no new table, no new column) rebuilds the view, so the marts and analysts can rely on it."""
    wh.replace_partition("us", ORDERS, orders_frame([order("us-1")]), DAY, NEXT_DAY)
    with wh.connect() as connection:  # the view as the previous version left it
        connection.execute("CREATE OR REPLACE VIEW amazon.orders AS SELECT 'us' AS marketplace, * FROM us.orders")
    assert "account" not in wh.query("SELECT * FROM amazon.orders").columns
    wh.replace_partition("us", ORDERS, orders_frame([order("us-2")]), DAY, NEXT_DAY)
    assert wh.query("SELECT account, marketplace, amazon_order_id FROM amazon.orders").rows() == [
        ("default", "us", "us-2")]
