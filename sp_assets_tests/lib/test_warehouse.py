"""The DuckDB warehouse: idempotent partition replace, non-regressing merge, drift, views, ledger, locks.

Every test uses its own file under tmp_path. Cross-process behaviour is tested with real processes
(``subprocess``), because DuckDB's file lock and the sp_assets file lock are both per process.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from sp_assets.lib.tablespec import (
    BIGINT,
    DATE,
    MONEY,
    TIMESTAMPTZ,
    VARCHAR,
    Column,
    FrameValidationError,
    TableSpec,
    frame_from_records,
)
from sp_assets.lib.warehouse import (
    DUCKDB_PATH_ENV,
    Warehouse,
    WarehouseBusyError,
    WarehouseError,
    WarehouseLockTimeout,
    WarehousePathError,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = date(2024, 1, 2)
NEXT_DAY = date(2024, 1, 3)

ORDERS = TableSpec(
    name="orders",
    columns=(
        Column("amazon_order_id", VARCHAR, nullable=False),
        Column("partition_date", DATE, nullable=False),
        Column("last_update_date", TIMESTAMPTZ),
        Column("order_status", VARCHAR),
        Column("order_total", MONEY),
        Column("items", BIGINT),
    ),
    primary_key=("amazon_order_id",),
    partition_column="partition_date",
    version_column="last_update_date",
    description="test orders",
)


def order(order_id: str, day: date = DAY, updated: str = "2024-01-02T10:00:00Z", **extra: object) -> dict:
    return {
        "amazon_order_id": order_id,
        "partition_date": day.isoformat(),
        "last_update_date": updated,
        "order_status": "Shipped",
        "order_total": "11.01",
        "items": 1,
        **extra,
    }


def orders_frame(rows: list[dict]) -> pl.DataFrame:
    return frame_from_records(ORDERS, rows)


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=60, busy_timeout_s=10)


def day_rows(wh: Warehouse, schema: str, day: date) -> pl.DataFrame:
    return wh.query(f"SELECT * FROM {schema}.orders WHERE partition_date = ? ORDER BY amazon_order_id", [day])


# --- replace_partition ----------------------------------------------------------------------------


def test_replacing_a_day_twice_never_duplicates(wh: Warehouse) -> None:
    wh.replace_partition(
        "us", ORDERS, orders_frame([order("a", NEXT_DAY)]), NEXT_DAY, NEXT_DAY + timedelta(1)
    )
    frame = orders_frame([order("b"), order("c")])
    first = wh.replace_partition("us", ORDERS, frame, DAY, NEXT_DAY)
    second = wh.replace_partition("us", ORDERS, frame, DAY, NEXT_DAY)

    assert (first.inserted, first.deleted, first.created_table) == (2, 0, False)
    assert (second.inserted, second.deleted) == (2, 2)
    assert wh.row_count("us", "orders") == 3
    assert day_rows(wh, "us", NEXT_DAY).get_column("amazon_order_id").to_list() == [
        "a"
    ]  # other day untouched


def test_replace_with_an_empty_frame_clears_the_day_and_is_recorded(wh: Warehouse) -> None:
    wh.replace_partition("us", ORDERS, orders_frame([order("a"), order("b")]), DAY, NEXT_DAY)
    result = wh.replace_partition(
        "us", ORDERS, orders_frame([]), DAY, NEXT_DAY, note="report CANCELLED: no data"
    )
    assert (result.rows, result.deleted) == (0, 2)
    assert wh.row_count("us", "orders") == 0
    latest = wh.loads("us", "orders").row(0, named=True)
    assert latest["rows"] == 0
    assert latest["partition_start"] == "2024-01-02"
    assert latest["note"] == "report CANCELLED: no data"


def test_replace_with_a_zero_column_frame_on_a_new_table_creates_it_empty(wh: Warehouse) -> None:
    result = wh.replace_partition("us", ORDERS, pl.DataFrame(), DAY, NEXT_DAY)
    assert result.created_table
    assert wh.row_count("us", "orders") == 0
    assert list(wh.columns("us", "orders")) == list(ORDERS.column_names)


def test_rows_outside_the_window_are_rejected_and_nothing_is_written(wh: Warehouse) -> None:
    wh.replace_partition("us", ORDERS, orders_frame([order("keep")]), DAY, NEXT_DAY)
    frame = orders_frame([order("a"), order("late", NEXT_DAY)])
    with pytest.raises(
        FrameValidationError, match=r"1 row\(s\) have partition_date outside \[2024-01-02, 2024-01-03\)"
    ):
        wh.replace_partition("us", ORDERS, frame, DAY, NEXT_DAY)
    assert day_rows(wh, "us", DAY).get_column("amazon_order_id").to_list() == ["keep"]
    assert wh.loads().height == 1


def test_timestamptz_partition_windows_compare_instants(wh: Warehouse) -> None:
    spec = TableSpec(
        "events",
        (Column("event_id", VARCHAR), Column("posted_at", TIMESTAMPTZ)),
        primary_key=("event_id",),
        partition_column="posted_at",
    )
    pacific = timezone(timedelta(hours=-8))
    start, end = datetime(2024, 1, 2, tzinfo=pacific), datetime(2024, 1, 3, tzinfo=pacific)
    inside = frame_from_records(spec, [{"event_id": "1", "posted_at": "2024-01-02T08:00:00Z"}])
    outside = frame_from_records(spec, [{"event_id": "2", "posted_at": "2024-01-02T07:59:59Z"}])
    assert wh.replace_partition("us", spec, inside, start, end).inserted == 1
    with pytest.raises(FrameValidationError, match="outside"):
        wh.replace_partition("us", spec, outside, start, end)
    with pytest.raises(ValueError, match="time-zone-aware"):
        wh.replace_partition("us", spec, inside, datetime(2024, 1, 2), datetime(2024, 1, 3))


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        (NEXT_DAY, DAY, "empty or reversed"),
        (datetime(2024, 1, 2, tzinfo=UTC), NEXT_DAY, "pass a date"),
        ("2024-01-02", NEXT_DAY, "pass a date"),
    ],
)
def test_bad_windows_are_rejected(wh: Warehouse, start: object, end: object, error: str) -> None:
    with pytest.raises((TypeError, ValueError), match=error):
        wh.replace_partition("us", ORDERS, orders_frame([]), start, end)  # type: ignore[arg-type]


def test_replace_keeps_the_newest_copy_of_a_repeated_key(wh: Warehouse) -> None:
    frame = orders_frame(
        [
            order("a", updated="2024-01-02T12:00:00Z", order_status="Shipped"),
            order("a", updated="2024-01-02T09:00:00Z", order_status="Pending"),
        ]
    )
    result = wh.replace_partition("us", ORDERS, frame, DAY, NEXT_DAY)
    assert (result.inserted, result.duplicates) == (1, 1)
    assert day_rows(wh, "us", DAY).get_column("order_status").to_list() == ["Shipped"]


# --- merge ----------------------------------------------------------------------------------------


def test_merge_never_regresses_to_an_older_version(wh: Warehouse) -> None:
    base = [
        order("older", updated="2024-01-05T00:00:00Z", order_status="Shipped"),
        order("newer", updated="2024-01-05T00:00:00Z", order_status="Pending"),
        order("equal", updated="2024-01-05T00:00:00Z", order_status="Pending"),
    ]
    assert wh.merge("us", ORDERS, orders_frame(base)).inserted == 3
    incoming = [
        order("older", updated="2024-01-03T00:00:00Z", order_status="Pending"),  # a backfill of an old day
        order("newer", updated="2024-01-06T00:00:00Z", order_status="Shipped"),
        order("equal", updated="2024-01-05T00:00:00Z", order_status="Canceled"),
        order("fresh", updated="2024-01-06T00:00:00Z"),
    ]
    result = wh.merge("us", ORDERS, orders_frame(incoming))

    assert (result.inserted, result.updated, result.unchanged, result.stale) == (1, 1, 1, 1)
    assert result.skipped == 2
    statuses = dict(wh.query("SELECT amazon_order_id, order_status FROM us.orders").iter_rows())
    assert statuses == {"older": "Shipped", "newer": "Shipped", "equal": "Pending", "fresh": "Shipped"}
    assert wh.row_count("us", "orders") == 4


def test_merge_null_versions(wh: Warehouse) -> None:
    wh.merge("us", ORDERS, orders_frame([order("stored_null", updated=""), order("stored_set")]))
    result = wh.merge(
        "us",
        ORDERS,
        orders_frame([order("stored_null", order_status="Shipped2"), order("stored_set", updated="")]),
    )
    assert (result.updated, result.stale) == (1, 1)  # a known version beats none; none never beats one


def test_merge_keeps_the_newest_duplicate_within_the_frame(wh: Warehouse) -> None:
    frame = orders_frame(
        [
            order("a", updated="2024-01-02T09:00:00Z", order_status="first"),
            order("a", updated="2024-01-02T12:00:00Z", order_status="newest"),
            order("a", updated="2024-01-02T10:00:00Z", order_status="middle"),
            order("b", updated="2024-01-02T10:00:00Z", order_status="tie-1"),
            order("b", updated="2024-01-02T10:00:00Z", order_status="tie-2"),
        ]
    )
    result = wh.merge("us", ORDERS, frame)
    assert (result.inserted, result.duplicates) == (2, 3)
    statuses = dict(wh.query("SELECT amazon_order_id, order_status FROM us.orders").iter_rows())
    assert statuses == {"a": "newest", "b": "tie-2"}  # equal versions: the later row wins


def test_merge_without_a_version_column_always_updates(wh: Warehouse) -> None:
    spec = TableSpec("listings", (Column("sku", VARCHAR), Column("price", MONEY)), primary_key=("sku",))
    wh.merge("us", spec, frame_from_records(spec, [{"sku": "x", "price": "1"}]))
    result = wh.merge("us", spec, frame_from_records(spec, [{"sku": "x", "price": "2"}]))
    assert (result.inserted, result.updated) == (0, 1)
    assert wh.query("SELECT price FROM us.listings").item() == Decimal("2.00")


def test_merging_nothing_creates_the_table_and_records_zero_rows(wh: Warehouse) -> None:
    for empty in (orders_frame([]), pl.DataFrame()):
        assert wh.merge("us", ORDERS, empty).rows == 0
    assert wh.table_exists("us", "orders") and wh.row_count("us", "orders") == 0
    assert wh.loads("us", "orders").get_column("rows").to_list() == [0, 0]


def test_merge_rejects_null_keys_and_specs_without_keys(wh: Warehouse) -> None:
    frame = pl.DataFrame(
        {"amazon_order_id": [None], "partition_date": [DAY]}, schema_overrides={"amazon_order_id": pl.String}
    )
    with pytest.raises(FrameValidationError, match="amazon_order_id"):
        wh.merge("us", ORDERS, frame)
    keyless = TableSpec("t", (Column("a", VARCHAR),))
    with pytest.raises(ValueError, match="no primary_key"):
        wh.merge("us", keyless, frame_from_records(keyless, [{"a": "1"}]))
    assert not wh.table_exists("us", "orders")


# --- drift, snapshot, append ----------------------------------------------------------------------


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


def test_replace_table_and_append(wh: Warehouse) -> None:
    spec = TableSpec(
        "participations",
        (Column("marketplace_id", VARCHAR), Column("seen", BIGINT)),
        primary_key=("marketplace_id",),
    )
    wh.replace_table("us", spec, frame_from_records(spec, [{"marketplace_id": "A"}, {"marketplace_id": "B"}]))
    result = wh.replace_table("us", spec, frame_from_records(spec, [{"marketplace_id": "C"}]))
    assert (result.deleted, result.inserted) == (2, 1)
    assert wh.query("SELECT marketplace_id FROM us.participations").to_series().to_list() == ["C"]

    log = TableSpec("events", (Column("kind", VARCHAR),))
    wh.append("us", log, frame_from_records(log, [{"kind": "x"}]))
    wh.append("us", log, frame_from_records(log, [{"kind": "x"}]))
    assert wh.row_count("us", "events") == 2


# --- views, ledger, types -------------------------------------------------------------------------


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
    assert wh.rebuild_views() == ["amazon.orders"]


def test_union_view_keeps_a_sources_own_marketplace_column(wh: Warehouse) -> None:
    spec = TableSpec("fees", (Column("sku", VARCHAR), Column("marketplace", VARCHAR)))
    wh.append("uk", spec, frame_from_records(spec, [{"sku": "x", "marketplace": "amazon.co.uk"}]))
    row = wh.query("SELECT marketplace, source_marketplace FROM amazon.fees").row(0)
    assert row == ("uk", "amazon.co.uk")


def test_reserved_or_invalid_schemas_are_refused(wh: Warehouse) -> None:
    for schema in ("amazon", "_sp_assets", "main"):
        with pytest.raises(ValueError, match="reserved"):
            wh.append(schema, ORDERS, orders_frame([order("a")]))
    with pytest.raises(ValueError, match="invalid schema name"):
        wh.append('us"; drop', ORDERS, orders_frame([order("a")]))


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


def test_decimal_sums_stay_exact_in_duckdb(wh: Warehouse) -> None:
    frame = orders_frame([order(str(i), order_total="0.1") for i in range(10_000)])
    wh.replace_partition("us", ORDERS, frame, DAY, NEXT_DAY)
    total = wh.query("SELECT sum(order_total) AS total FROM us.orders").item()
    assert total == Decimal("1000.00")
    assert wh.columns("us", "orders")["order_total"] == "DECIMAL(18,2)"


def test_timezone_aware_timestamps_round_trip(wh: Warehouse) -> None:
    updates = ["2024-01-02T10:00:00Z", "2024-01-02T10:00:00.250-08:00", "2024-01-02T23:30:00+09:00"]
    frame = orders_frame([order(str(i), updated=value) for i, value in enumerate(updates)])
    wh.replace_partition("us", ORDERS, frame, DAY, NEXT_DAY)
    stored = wh.query("SELECT last_update_date FROM us.orders ORDER BY amazon_order_id").to_series()
    assert stored.dtype == pl.Datetime("us", "UTC")
    assert stored.to_list() == [datetime.fromisoformat(value) for value in updates]
    assert wh.columns("us", "orders")["last_update_date"] == "TIMESTAMP WITH TIME ZONE"


# --- load_delimited_file --------------------------------------------------------------------------


def write_tsv(path: Path, header: list[str], rows: list[list[str]], newline: str = "\n") -> Path:
    lines = ["\t".join(header), *("\t".join(row) for row in rows)]
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


def test_load_tsv_with_constants_and_partition_replace(wh: Warehouse, tmp_path: Path) -> None:
    tsv = write_tsv(
        tmp_path / "report.tsv",
        ["\ufeffamazon-order-id", "Item Price", "product-name"],
        [["A1", "11.01", 'Widget 5" wide'], ["A2", "3.50", "Gadget"]],
        newline="\r\n",
    )
    load = {
        "constants": {"report_id": "R1", "partition_date": DAY},
        "replace_where": {"partition_date": DAY},
        "column_types": {"item_price": MONEY},
        "partition_start": DAY,
        "partition_end": NEXT_DAY,
    }
    first = wh.load_delimited_file("us", "flat_orders", tsv, **load)
    second = wh.load_delimited_file("us", "flat_orders", tsv, **load)

    assert (first.inserted, first.created_table) == (2, True)
    assert (second.inserted, second.deleted) == (2, 2)
    assert wh.columns("us", "flat_orders") == {
        "amazon_order_id": "VARCHAR",
        "item_price": "DECIMAL(18,2)",
        "product_name": "VARCHAR",
        "report_id": "VARCHAR",
        "partition_date": "DATE",
    }
    rows = wh.query("SELECT * FROM us.flat_orders ORDER BY 1").rows()
    assert rows == [
        ("A1", Decimal("11.01"), 'Widget 5" wide', "R1", DAY),
        ("A2", Decimal("3.50"), "Gadget", "R1", DAY),
    ]
    assert wh.loads("us", "flat_orders").get_column("partition_start").to_list() == ["2024-01-02"] * 2
    assert wh.query("SELECT count(*) FROM amazon.flat_orders WHERE marketplace = 'us'").item() == 2


def test_load_tsv_schema_drift_both_ways(wh: Warehouse, tmp_path: Path) -> None:
    first = write_tsv(tmp_path / "a.tsv", ["sku", "qty", "old-col"], [["s1", "1", "x"]])
    second = write_tsv(tmp_path / "b.tsv", ["sku", "qty", "new-col"], [["s2", "2", "y"], ["s3"]])
    wh.load_delimited_file("us", "inventory", first, constants={"snapshot": "1"})
    result = wh.load_delimited_file("us", "inventory", second, constants={"snapshot": "2"})
    assert result.added_columns == ("new_col",)
    rows = wh.query("SELECT sku, qty, old_col, new_col, snapshot FROM us.inventory ORDER BY sku").rows()
    assert rows == [("s1", "1", "x", None, "1"), ("s2", "2", None, "y", "2"), ("s3", None, None, None, "2")]


def test_load_tsv_headers_map_and_dedupe(wh: Warehouse, tmp_path: Path) -> None:
    tsv = write_tsv(tmp_path / "jp.tsv", ["注文番号", "sku", "SKU", ""], [["1", "a", "b", "c"]])
    wh.load_delimited_file("jp", "jp_report", tsv, header_map={"注文番号": "order_id"})
    assert list(wh.columns("jp", "jp_report")) == ["order_id", "sku", "sku_2", "column_4"]
    with pytest.raises(ValueError, match="cannot derive a column name from '注文番号'"):
        wh.load_delimited_file("jp", "jp_report", tsv)


def test_load_quoted_csv(wh: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('id,note\n1,"a, b"\n2,"say ""hi"""\n', encoding="utf-8")
    wh.load_delimited_file("us", "quoted", path, delimiter=",", quote='"')
    assert wh.query("SELECT note FROM us.quoted ORDER BY id").to_series().to_list() == ["a, b", 'say "hi"']


def test_load_empty_file_records_zero_rows(wh: Warehouse, tmp_path: Path) -> None:
    tsv = write_tsv(tmp_path / "a.tsv", ["sku"], [["s1"]])
    wh.load_delimited_file("us", "inv", tsv, constants={"day": DAY}, replace_where={"day": DAY})
    empty = tmp_path / "empty.tsv"
    empty.write_bytes(b"")
    result = wh.load_delimited_file(
        "us", "inv", empty, constants={"day": DAY}, replace_where={"day": DAY}, partition_start=DAY
    )
    assert (result.rows, result.deleted) == (0, 1)
    assert wh.row_count("us", "inv") == 0
    assert wh.loads("us", "inv").row(0, named=True)["rows"] == 0

    nothing = wh.load_delimited_file("us", "never_created", empty, partition_start=DAY)
    assert nothing.rows == 0 and not wh.table_exists("us", "never_created")
    assert wh.loads("us", "never_created").height == 1


def test_failed_load_rolls_back_everything(wh: Warehouse, tmp_path: Path) -> None:
    good = write_tsv(tmp_path / "good.tsv", ["sku", "price"], [["a", "1.00"]])
    bad = write_tsv(tmp_path / "bad.tsv", ["sku", "price", "extra"], [["b", "not-a-price", "x"]])
    options = {"column_types": {"price": MONEY}, "constants": {"day": DAY}, "replace_where": {"day": DAY}}
    wh.load_delimited_file("us", "prices", good, **options)
    with pytest.raises(WarehouseError, match="us.prices.*rolled back.*not-a-price"):
        wh.load_delimited_file("us", "prices", bad, **options)
    assert wh.query("SELECT sku FROM us.prices").to_series().to_list() == ["a"]
    assert "extra" not in wh.columns("us", "prices")
    assert wh.loads("us", "prices").height == 1
    assert_other_process_can_open(wh.path)  # the failed write closed its connection


def test_load_rejects_rows_with_extra_fields_unless_relaxed(wh: Warehouse, tmp_path: Path) -> None:
    tsv = write_tsv(tmp_path / "ragged.tsv", ["a", "b"], [["1", "2", "3"]])
    with pytest.raises(WarehouseError, match="Expected Number of Columns: 2 Found: 3"):
        wh.load_delimited_file("us", "ragged", tsv)
    assert wh.load_delimited_file("us", "ragged", tsv, strict=False).inserted == 1


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"delimiter": "ab"}, "delimiter must be one character"),
        ({"quote": "\t"}, "quote must be one character other than the delimiter"),
        ({"encoding": "cp1252"}, "Transcode"),
        ({"constants": {"sku": "x"}}, "also a column of the file"),
        ({"skip_lines": -1}, "skip_lines"),
    ],
)
def test_load_argument_errors(wh: Warehouse, tmp_path: Path, options: dict, error: str) -> None:
    tsv = write_tsv(tmp_path / "a.tsv", ["sku"], [["s1"]])
    with pytest.raises(ValueError, match=error):
        wh.load_delimited_file("us", "t", tsv, **options)


# --- reads, paths, locks --------------------------------------------------------------------------


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


@pytest.mark.parametrize("kind", ["parent_is_a_file", "not_duckdb", "directory"])
def test_unusable_paths_give_a_clear_error(tmp_path: Path, kind: str) -> None:
    blocker = tmp_path / "plain.txt"
    blocker.write_text("not a database")
    path = {"parent_is_a_file": blocker / "w.duckdb", "not_duckdb": blocker, "directory": tmp_path}[kind]
    with pytest.raises(WarehousePathError) as info:
        Warehouse(path).append("us", ORDERS, orders_frame([order("a")]))
    assert str(path) in str(info.value)
    assert DUCKDB_PATH_ENV in str(info.value)


def test_from_env(tmp_path: Path) -> None:
    with pytest.raises(WarehousePathError, match=f"{DUCKDB_PATH_ENV} is not set"):
        Warehouse.from_env({})
    wh = Warehouse.from_env({DUCKDB_PATH_ENV: str(tmp_path / "x.duckdb")}, lock_timeout_s=5)
    assert wh.path == tmp_path / "x.duckdb" and wh.lock_timeout_s == 5
    with pytest.raises(WarehousePathError, match="local file"):
        Warehouse(":memory:")


def test_lock_timeout_is_a_clear_error(wh: Warehouse) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with wh.connect():
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        impatient = Warehouse(wh.path, lock_timeout_s=0.2)
        with pytest.raises(
            WarehouseLockTimeout, match=r"waited 0.2 s for the warehouse lock .*warehouse.duckdb.lock"
        ):
            impatient.append("us", ORDERS, orders_frame([order("a")]))
    finally:
        release.set()
        holder.join(30)
    assert Warehouse(wh.path).append("us", ORDERS, orders_frame([order("a")])).inserted == 1


HOLD_DUCKDB = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
connection.close()
"""


def start_foreign_holder(path: Path) -> subprocess.Popen[str]:
    """A process that keeps DuckDB's own lock without using the sp_assets lock (like a DuckDB CLI)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_DUCKDB, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_foreign_duckdb_lock_is_retried_then_reported(wh: Warehouse) -> None:
    wh.append("us", ORDERS, orders_frame([order("a")]))
    holder = start_foreign_holder(wh.path)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError, match="stayed locked by another process for 0.5 s"):
            Warehouse(wh.path, busy_timeout_s=0.5).append("us", ORDERS, orders_frame([order("b")]))
        assert time.monotonic() - started >= 0.4  # it retried for about busy_timeout_s
    finally:
        holder.communicate("\n", timeout=30)


def test_a_foreign_duckdb_lock_released_in_time_is_waited_out(
    wh: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    wh.append("us", ORDERS, orders_frame([order("a")]))
    holder = start_foreign_holder(wh.path)
    outcome: dict[str, object] = {}

    def write() -> None:
        try:
            outcome["result"] = wh.append("us", ORDERS, orders_frame([order("b")]))
        except Exception as exc:  # reported through the assertion below
            outcome["error"] = exc

    with caplog.at_level(logging.INFO, logger="sp_assets.lib.warehouse"):
        writer = threading.Thread(target=write)
        writer.start()
        poll_until(lambda: any("Backing off" in r.getMessage() for r in caplog.records), "a retry")
        holder.communicate("\n", timeout=30)
        writer.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert wh.row_count("us", "orders") == 2


def poll_until(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def assert_other_process_can_open(path: Path) -> None:
    code = "import sys, duckdb; duckdb.connect(sys.argv[1]).close(); print('ok')"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


CONCURRENT_WRITER = """
import json, sys, time
from datetime import date, timedelta
from pathlib import Path
from sp_assets.lib.tablespec import DATE, MONEY, VARCHAR, Column, TableSpec, frame_from_records
from sp_assets.lib.warehouse import Warehouse

db, index, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
spec = TableSpec("orders", (Column("amazon_order_id", VARCHAR), Column("partition_date", DATE),
                 Column("order_total", MONEY)), primary_key=("amazon_order_id",), partition_column="partition_date")
day = date(2024, 1, 1) + timedelta(days=index)
rows = [{"amazon_order_id": f"{index}-{n}", "partition_date": day, "order_total": "0.10"} for n in range(500)]
frame = frame_from_records(spec, rows)
Path(f"{go}.ready{index}").touch()
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.005)
result = Warehouse(db, lock_timeout_s=120).replace_partition("us", spec, frame, day, day + timedelta(days=1))
print(json.dumps({"inserted": result.inserted, "lock_wait_s": result.lock_wait_s}))
"""


def test_eight_processes_write_partitions_of_one_file_at_once(tmp_path: Path) -> None:
    db, go = tmp_path / "shared.duckdb", tmp_path / "go"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, str(db), str(index), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for index in range(8)
    ]
    try:
        poll_until(
            lambda: all(Path(f"{go}.ready{i}").exists() or writers[i].poll() is not None for i in range(8)),
            "8 writers ready",
            timeout_s=120,
        )
        go.touch()  # all eight start writing at the same moment
        outputs = [writer.communicate(timeout=180) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
    for writer, (stdout, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
        assert "lock" not in stderr.lower(), stderr
        assert json.loads(stdout)["inserted"] == 500
    waits = sorted(json.loads(stdout)["lock_wait_s"] for stdout, _ in outputs)
    print(f"lock waits of the 8 writers (s): {[round(w, 2) for w in waits]}")

    wh = Warehouse(db)
    summary = wh.query(
        "SELECT count(*), count(DISTINCT partition_date), sum(order_total) FROM us.orders"
    ).row(0)
    assert summary == (4000, 8, Decimal("400.00"))
    assert wh.loads("us", "orders").height == 8
