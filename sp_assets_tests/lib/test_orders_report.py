"""Order items built from the all-orders flat file inside DuckDB (``order_items_from_report_sql``).

The reference is ``reference_rows`` below: the Python mapping the project used before the DuckDB path
(row dicts, then ``frame_from_records``). Every test builds the rows both ways from the same file
and asks for the same typed frame: documents the sandbox serves over real HTTP (US in cp1252, DE in
cp1252, JP in Shift_JIS, transcoded by the report lifecycle), and hand-written files for the cases
a day of synthetic orders may not hold (a SKU repeated in one order, a partial shipment, Pending rows
without prices, a purchase near midnight in Berlin and Tokyo, short, long and blank lines).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sp_assets.lib.marketplaces import MARKETPLACES, by_code
from sp_assets.lib.orders import (
    ORDER_ITEMS,
    SOURCE_REPORT,
    ReportFileSql,
    local_day,
    order_items_from_report_sql,
)
from sp_assets.lib.reports.ledger import ReportLedger
from sp_assets.lib.reports.lifecycle import run_report
from sp_assets.lib.reports.parsing import read_tsv
from sp_assets.lib.reports.request import ReportRequest, day_window
from sp_assets.lib.tablespec import frame_from_records
from sp_assets.lib.warehouse import Warehouse, WarehouseError
from sp_assets.lib.warehouse.delimited import file_relation
from sp_assets.sandbox.server import SandboxServer

from .spapi.support import client_for

ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
HEADER = ("amazon-order-id", "purchase-date", "last-updated-date", "order-status", "product-name", "sku", "asin",
          "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
          "item-promotion-discount", "ship-promotion-discount", "promotion-ids")
EVERYTHING = (date(2000, 1, 1), date(2100, 1, 1))


# ------------------------------------------------------------------------------------------ the reference
def reference_rows(report_rows: Iterable[dict[str, Any]], timezone: str) -> list[dict[str, Any]]:
    """The Python mapping the DuckDB path replaces, kept as the statement of its meaning."""
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(report_rows):
        order_id, purchased = row.get("amazon_order_id"), row.get("purchase_date")
        if not order_id or not purchased:
            raise ValueError(f"all-orders report row {index + 1} has no amazon-order-id or purchase-date")
        sku = row.get("sku") or ""
        count = seen.get((order_id, sku), 0) + 1
        seen[(order_id, sku)] = count
        status = row.get("order_status")
        shipped = None if status == "PartiallyShipped" else row.get("quantity") if row.get(
            "item_status") == "Shipped" else 0
        rows.append({
            "amazon_order_id": order_id, "order_item_id": f"sku:{sku}" if count == 1 else f"sku:{sku}#{count}",
            "partition_date": local_day(purchased, timezone), "purchase_date": purchased,
            "last_update_date": row.get("last_updated_date"),
            "order_status": "Canceled" if status == "Cancelled" else status, "asin": row.get("asin"),
            "seller_sku": row.get("sku"), "title": row.get("product_name"), "quantity_ordered": row.get("quantity"),
            "quantity_shipped": shipped, "item_price_amount": row.get("item_price"),
            "item_tax_amount": row.get("item_tax"), "shipping_price_amount": row.get("shipping_price"),
            "shipping_tax_amount": row.get("shipping_tax"),
            "shipping_discount_amount": row.get("ship_promotion_discount"),
            "promotion_discount_amount": row.get("item_promotion_discount"), "promotion_discount_tax_amount": None,
            "currency": row.get("currency"), "promotion_ids": row.get("promotion_ids"), "is_gift": None,
            "condition_id": None, "source_api": SOURCE_REPORT,
        })
    return rows


def reference_frame(paths: list[Path], timezone: str) -> pl.DataFrame:
    rows = [row for path in paths for row in reference_rows(read_tsv(path, quote=None), timezone)]
    return frame_from_records(ORDER_ITEMS, rows).sort("amazon_order_id", "order_item_id")


def duckdb_frame(wh: Warehouse, paths: list[Path], timezone: str, window: tuple[date, date] = EVERYTHING
                 ) -> pl.DataFrame:
    """The rows the asset's path writes: the SELECT inserted by ``replace_partition_from_sql``, read back."""
    files = []
    for path in paths:
        columns, relation = file_relation(path)
        files.append(ReportFileSql(path.name, tuple(columns), relation))
    wh.replace_partition_from_sql("us", ORDER_ITEMS, order_items_from_report_sql(files, timezone), *window,
                                  what="test items")
    return wh.query("select * from us.order_items order by amazon_order_id, order_item_id")


def tsv(tmp_path: Path, name: str, rows: list[dict[str, str]], header: tuple[str, ...] = HEADER,
        tail: str = "") -> Path:
    path = tmp_path / name
    lines = ["\t".join(header)] + ["\t".join(row.get(column, "") for column in header) for row in rows]
    path.write_text("\n".join(lines) + "\n" + tail, encoding="utf-8")
    return path


def item(order_id: str, sku: str, **values: str) -> dict[str, str]:
    return {"amazon-order-id": order_id, "purchase-date": "2026-03-01T07:30:00+00:00",
            "last-updated-date": "2026-03-02T00:00:00+00:00", "order-status": "Shipped", "product-name": f"{sku} thing",
            "sku": sku, "asin": f"B0{sku}", "item-status": "Shipped", "quantity": "2", "currency": "USD",
            "item-price": "20.00", "item-tax": "1.60", "shipping-price": "4.99", "shipping-tax": "0.40",
            "item-promotion-discount": "0.00", "ship-promotion-discount": "0.00", **values}


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=60, busy_timeout_s=10, source="sandbox")


# ------------------------------------------------------------------------------------------ sandbox documents
@pytest.mark.parametrize("code", ["us", "de", "jp"])
def test_sandbox_documents_give_the_rows_of_the_python_mapping(sandbox: SandboxServer, wh: Warehouse,
                                                               tmp_path: Path, code: str) -> None:
    marketplace = by_code(code)
    day = (datetime.now(UTC) - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    request = ReportRequest(ALL_ORDERS, [marketplace.marketplace_id], *day_window(day))
    with client_for(sandbox, marketplace.region) as client:
        outcome = run_report(client, ReportLedger(tmp_path / "reports.sqlite"), request, work_dir=tmp_path / "work")
    assert outcome.path is not None and outcome.rows > 20
    new = duckdb_frame(wh, [outcome.path], marketplace.timezone)
    assert new.equals(reference_frame([outcome.path], marketplace.timezone))
    assert len(new) == outcome.rows and new["order_status"].n_unique() > 1
    assert new["partition_date"].n_unique() == 2, "a UTC day spans two local days away from UTC"


# ------------------------------------------------------------------------------------------ hand-written files
def test_repeated_skus_partial_shipments_pending_and_cancelled_rows(wh: Warehouse, tmp_path: Path) -> None:
    pending = {name: "" for name in ("currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
                                     "item-promotion-discount", "ship-promotion-discount")}
    path = tsv(tmp_path, "day.tsv", [
        item("111-1", "A", **{"item-price": "10.00"}),
        item("111-2", "B", **{"order-status": "PartiallyShipped", "item-status": "Shipped"}),
        item("111-1", "A", **{"item-price": "30.00"}),  # the same SKU again, after another order's row
        item("111-3", "C", **{"order-status": "Pending", "item-status": "Unshipped", **pending,
                              "promotion-ids": "PROMO-1,PROMO-2"}),
        item("111-4", "D", **{"order-status": "Cancelled", "item-status": "Cancelled"}),
        item("111-1", "A", **{"item-price": "50.00"}),
        item("111-5", ""),
    ])
    new = duckdb_frame(wh, [path], "America/Los_Angeles")
    assert new.equals(reference_frame([path], "America/Los_Angeles"))
    by_id = {(r["amazon_order_id"], r["order_item_id"]): r for r in new.iter_rows(named=True)}
    assert [str(by_id[("111-1", i)]["item_price_amount"]) for i in ("sku:A", "sku:A#2", "sku:A#3")] == [
        "10.00", "30.00", "50.00"], "numbered in file order"
    assert by_id[("111-2", "sku:B")]["quantity_shipped"] is None, "a partial shipment does not say which units left"
    assert by_id[("111-1", "sku:A")]["quantity_shipped"] == 2
    pending_row = by_id[("111-3", "sku:C")]
    assert pending_row["item_price_amount"] is None and pending_row["currency"] is None
    assert (pending_row["quantity_shipped"], pending_row["promotion_ids"]) == (0, "PROMO-1,PROMO-2")
    assert by_id[("111-4", "sku:D")]["order_status"] == "Canceled", "the API's spelling"
    assert by_id[("111-5", "sku:")]["seller_sku"] is None
    assert by_id[("111-1", "sku:A")]["partition_date"] == date(2026, 2, 28), "the purchase's local day"
    assert set(new["source_api"]) == {"report"} and new["is_gift"].null_count() == len(new)


@pytest.mark.parametrize(("timezone", "purchased", "day"), [
    ("Europe/Berlin", "2026-03-01T22:59:59+00:00", date(2026, 3, 1)),
    ("Europe/Berlin", "2026-03-01T23:00:00+00:00", date(2026, 3, 2)),
    ("Europe/Berlin", "2026-07-01T21:30:00Z", date(2026, 7, 1)),  # summer time: UTC+2
    ("Europe/Berlin", "2026-07-01T22:00:00+00:00", date(2026, 7, 2)),
    ("Asia/Tokyo", "2026-03-01T14:59:59+00:00", date(2026, 3, 1)),
    ("Asia/Tokyo", "2026-03-01T15:00:00+00:00", date(2026, 3, 2)),
    ("Asia/Tokyo", "2026-03-02T08:00:00+09:00", date(2026, 3, 2)),
])
def test_partition_date_is_the_local_day_of_the_purchase(wh: Warehouse, tmp_path: Path, timezone: str,
                                                         purchased: str, day: date) -> None:
    path = tsv(tmp_path, "day.tsv", [item("250-1", "A", **{"purchase-date": purchased, "currency": "EUR"})])
    new = duckdb_frame(wh, [path], timezone)
    assert new.equals(reference_frame([path], timezone))
    assert new["partition_date"].to_list() == [day]


def test_every_marketplace_zone_gives_python_s_local_day_in_duckdb(wh: Warehouse, tmp_path: Path) -> None:
    """DuckDB's zone database (ICU) must know every marketplace's zone and agree with Python's zoneinfo."""
    moments = ("2026-01-15T00:30:00+00:00", "2026-01-15T12:00:00+00:00", "2026-07-15T23:30:00+00:00")
    path = tsv(tmp_path, "day.tsv", [item(f"111-{n}", "A", **{"purchase-date": m}) for n, m in enumerate(moments)])
    for zone in sorted({m.timezone for m in MARKETPLACES}):
        days = duckdb_frame(wh, [path], zone).sort("purchase_date")["partition_date"].to_list()
        assert days == [local_day(m, zone) for m in moments], zone


def test_missing_columns_short_long_and_blank_lines_read_as_python_reads_them(wh: Warehouse, tmp_path: Path) -> None:
    header = tuple(c for c in HEADER if c not in ("promotion-ids", "item-tax"))  # an older file's header
    rows = [item("111-1", "A"), item("111-2", "B")]
    path = tsv(tmp_path, "day.tsv", rows, header=header,
               tail="111-3\t2026-03-01T07:30:00+00:00\t2026-03-02T00:00:00+00:00\tShipped\n\n"
                    + "\t".join([*(item("111-4", "C")[c] for c in header), "extra", "fields"]) + "\n")
    new = duckdb_frame(wh, [path], "UTC")
    assert new.equals(reference_frame([path], "UTC"))
    assert new["amazon_order_id"].to_list() == ["111-1", "111-2", "111-3", "111-4"]
    assert new["item_tax_amount"].null_count() == 4 and new["quantity_ordered"].to_list()[2] is None


def test_repeats_far_apart_in_a_large_file_are_numbered_in_file_order(wh: Warehouse, tmp_path: Path) -> None:
    """DuckDB reads a large file in parallel (16 MB buffers): numbering still follows the lines."""
    filler = "\t".join(item("900-0", "F").get(c, "") for c in HEADER)
    lines = ["\t".join(HEADER)]
    positions = {1: "1.00", 150_000: "2.00", 299_999: "3.00"}
    for n in range(1, 300_001):
        if n in positions:
            lines.append("\t".join(item("111-1", "A", **{"item-price": positions[n]}).get(c, "") for c in HEADER))
        else:
            lines.append(filler.replace("900-0", f"900-{n}", 1))
    path = tmp_path / "large.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 2 * 16 * 2**20, "three read buffers at least"
    duckdb_frame(wh, [path], "UTC")
    numbered = wh.query("select order_item_id, item_price_amount from us.order_items where amazon_order_id = '111-1' "
                        "order by order_item_id").rows()
    assert [(i, str(p)) for i, p in numbered] == [("sku:A", "1.00"), ("sku:A#2", "2.00"), ("sku:A#3", "3.00")]


def test_several_files_number_their_own_rows(wh: Warehouse, tmp_path: Path) -> None:
    first = tsv(tmp_path, "1.tsv", [item("111-1", "A"), item("111-1", "A")])
    second = tsv(tmp_path, "2.tsv", [item("111-2", "A", **{"purchase-date": "2026-03-02T07:30:00+00:00"}),
                                     item("111-2", "A", **{"purchase-date": "2026-03-02T07:30:00+00:00"})])
    new = duckdb_frame(wh, [first, second], "UTC")
    assert new.equals(reference_frame([first, second], "UTC"))
    assert new.select("amazon_order_id", "order_item_id").rows() == [
        ("111-1", "sku:A"), ("111-1", "sku:A#2"), ("111-2", "sku:A"), ("111-2", "sku:A#2")]


def test_no_file_at_all_clears_the_days(wh: Warehouse, tmp_path: Path) -> None:
    """Every day CANCELLED (no data): the write has no rows and still replaces the days."""
    duckdb_frame(wh, [tsv(tmp_path, "day.tsv", [item("111-1", "A")])], "UTC")
    result = wh.replace_partition_from_sql("us", ORDER_ITEMS, order_items_from_report_sql([], "UTC"), *EVERYTHING)
    assert (result.inserted, result.deleted) == (0, 1)
    assert wh.row_count("us", "order_items") == 0


# ------------------------------------------------------------------------------------------ refused files
@pytest.mark.parametrize(("values", "message"), [
    ({"item-price": "12.345"}, "row 2: item_price 12.345 does not read as DECIMAL(18,2)"),
    ({"item-price": "1,234.50"}, "row 2: item_price 1,234.50 does not read as DECIMAL(18,2)"),
    ({"quantity": "1.5"}, "row 2: quantity 1.5 does not read as INTEGER"),
    ({"purchase-date": "2026-03-01T07:30:00"}, "row 2: purchase_date 2026-03-01T07:30:00 does not read as TIMESTAMPTZ"),
    ({"amazon-order-id": ""}, "row 2 has no amazon-order-id or purchase-date"),
    ({"last-updated-date": ""}, "a row has no last_update_date"),
])
def test_a_value_that_does_not_read_fails_the_write_naming_file_row_and_column(
        wh: Warehouse, tmp_path: Path, values: dict[str, str], message: str) -> None:
    good = tsv(tmp_path, "good.tsv", [item("111-1", "A")])
    duckdb_frame(wh, [good], "UTC")
    bad = tsv(tmp_path, "bad.tsv", [item("111-1", "A"), item("111-2", "B", **values)])
    with pytest.raises(WarehouseError, match="nothing written") as failure:
        duckdb_frame(wh, [bad], "UTC")
    assert message in str(failure.value) and "nothing was written" in str(failure.value)
    if "last_update" not in message:  # the table's own not-null rule, checked by the write
        assert "all-orders report bad.tsv" in str(failure.value)
    with pytest.raises(ValueError):
        reference_frame([bad], "UTC")  # the Python mapping refused it too
    assert wh.query("select amazon_order_id from us.order_items").rows() == [("111-1",)], "the old rows stay"


def test_a_purchase_outside_the_replaced_days_writes_nothing(wh: Warehouse, tmp_path: Path) -> None:
    path = tsv(tmp_path, "day.tsv", [item("111-1", "A"), item("111-2", "A", **{"purchase-date": "2026-03-05T12:00:00Z"})])
    with pytest.raises(WarehouseError, match="partition_date 2026-03-05 outside"):
        duckdb_frame(wh, [path], "UTC", (date(2026, 3, 1), date(2026, 3, 2)))
    assert not wh.table_exists("us", "order_items")
