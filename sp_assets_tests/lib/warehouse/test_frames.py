"""Frame writes (``frames``): idempotent partition replace, non-regressing merge, snapshots, types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from sp_assets.lib.tablespec import (
    BIGINT,
    MONEY,
    TIMESTAMPTZ,
    VARCHAR,
    Column,
    FrameValidationError,
    TableSpec,
    frame_from_records,
)
from sp_assets.lib.warehouse import (
    Warehouse,
    WarehouseError,
    frames,
)
from sp_assets_tests.lib.warehouse.support import (
    DAY,
    NEXT_DAY,
    ORDERS,
    day_rows,
    order,
    orders_frame,
)

BOTH_ENGINES = True  # every test taking ``wh`` runs on a DuckDB file and on DuckLake (conftest.py)

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


def test_a_merge_streamed_row_by_row_gives_the_result_of_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge streams the frame to DuckDB in batches (bounded memory); batch size must change nothing.

    The incoming frame updates, inserts, leaves stale and unchanged rows, repeats a key, adds a column
    (drift) and lacks a nullable one; with one row per batch, a slice or its filter mask out of step
    would write the wrong rows.
    """
    base = [order(f"k{n}", updated="2024-01-05T00:00:00Z", order_status="stored") for n in range(6)]
    incoming = [
        order("k0", updated="2024-01-06T00:00:00Z", order_status="newer", order_total="1.10"),
        order("k1", updated="2024-01-04T00:00:00Z", order_status="older"),
        order("k2", updated="2024-01-05T00:00:00Z", order_status="equal"),
        order("new1", updated="2024-01-06T00:00:00Z", order_status="new"),
        order("nullv", order_status="newer"),
        order("new2", updated="2024-01-01T00:00:00Z", order_status="older copy"),
        order("k3", updated="2024-01-07T00:00:00Z", order_status="newer", order_total="3.30"),
        order("new2", updated="2024-01-02T00:00:00Z", order_status="new"),
        order("k4", updated="", order_status="no version"),
    ]
    frame = orders_frame(incoming).drop("items").with_columns(
        pl.format("gift {}", pl.col("amazon_order_id")).alias("gift_message"))
    outcomes = {}
    for name, batch_bytes in (("one batch", 2**40), ("a row per batch", 1)):
        monkeypatch.setattr(frames, "MERGE_BATCH_BYTES", batch_bytes)
        wh = Warehouse(tmp_path / f"{name}.duckdb")
        wh.merge("us", ORDERS, orders_frame([*base, order("nullv", updated="", order_status="stored")]))
        result = wh.merge("us", ORDERS, frame)
        counts = (result.inserted, result.updated, result.unchanged, result.stale, result.duplicates)
        outcomes[name] = counts, result.added_columns, wh.query("SELECT * FROM us.orders ORDER BY amazon_order_id")

    (counts, added, rows), batched = outcomes["one batch"], outcomes["a row per batch"]
    assert counts == (2, 3, 1, 2, 1) and added == ("gift_message",)
    assert batched[:2] == (counts, added)
    assert batched[2].equals(rows)
    by_key = {row["amazon_order_id"]: row for row in rows.iter_rows(named=True)}
    assert {key: row["order_status"] for key, row in by_key.items()} == {
        "k0": "newer", "k1": "stored", "k2": "stored", "k3": "newer", "k4": "stored", "k5": "stored",
        "new1": "new", "new2": "new", "nullv": "newer"}
    assert (by_key["k0"]["order_total"], by_key["k3"]["order_total"]) == (Decimal("1.10"), Decimal("3.30"))
    assert (by_key["k3"]["gift_message"], by_key["k3"]["items"]) == ("gift k3", None)  # replaced whole
    assert (by_key["k1"]["gift_message"], by_key["k1"]["items"]) == (None, 1)  # stale: left alone


def test_merge_counts_a_staged_row_once_when_the_table_repeats_its_key(wh: Warehouse) -> None:
    stored = orders_frame([order(key, updated="2024-01-05T00:00:00Z") for key in ("a", "b", "s")])
    wh.append("us", ORDERS, stored)
    wh.append("us", ORDERS, stored.head(2))  # "a" and "b" twice: appends check no keys
    incoming = [order("a", updated="2024-01-06T00:00:00Z"), order("b", updated="2024-01-04T00:00:00Z"),
                order("c")]
    result = wh.merge("us", ORDERS, orders_frame(incoming))
    assert (result.inserted, result.updated, result.stale, result.unchanged) == (1, 1, 1, 0)
    assert wh.query("SELECT amazon_order_id, count(*) FROM us.orders GROUP BY 1 ORDER BY 1").rows() == [
        ("a", 1), ("b", 2), ("c", 1), ("s", 1)]  # a stale row leaves the stored copies alone


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


# --- several tables in one transaction (issue 18: a day's orders never without their items) --------

ITEMS = TableSpec(
    name="order_items",
    columns=(Column("amazon_order_id", VARCHAR), Column("order_item_id", VARCHAR),
             Column("partition_date", "DATE")),
    primary_key=("amazon_order_id", "order_item_id"),
    partition_column="partition_date",
)


def _items(order_ids: list[str]) -> pl.DataFrame:
    return frame_from_records(ITEMS, [{"amazon_order_id": o, "order_item_id": "1", "partition_date": DAY}
                                      for o in order_ids])


def test_replace_partitions_writes_every_table_in_one_transaction(wh: Warehouse) -> None:
    results = wh.replace_partitions("us", [(ORDERS, orders_frame([order("a"), order("b")]), DAY, NEXT_DAY),
                                           (ITEMS, _items(["a", "b"]), DAY, NEXT_DAY)])
    assert [(r.table, r.inserted, r.created_table) for r in results] == [("orders", 2, True), ("order_items", 2, True)]
    assert wh.row_count("us", "orders") == 2 and wh.row_count("us", "order_items") == 2
    assert sorted(wh.loads("us")["table_name"]) == ["order_items", "orders"]
    assert wh.row_count("amazon", "order_items") == 2  # the union view of a table created in the batch


def test_a_failure_while_writing_the_items_leaves_the_orders_as_they_were(wh: Warehouse, monkeypatch) -> None:
    import duckdb

    from sp_assets.lib.warehouse import frames

    wh.replace_partitions("us", [(ORDERS, orders_frame([order("a")]), DAY, NEXT_DAY),
                                 (ITEMS, _items(["a"]), DAY, NEXT_DAY)])
    insert = frames._insert_staged

    def fail_on_items(connection, target, columns):  # the process failing between the two tables
        if target.table == "order_items":
            raise duckdb.IOException("disk I/O error while inserting the items")
        return insert(connection, target, columns)

    monkeypatch.setattr(frames, "_insert_staged", fail_on_items)
    with pytest.raises(WarehouseError, match=r"writing us\.orders, us\.order_items together .* rolled back "
                                             r"\(nothing written to any of them\)"):
        wh.replace_partitions("us", [(ORDERS, orders_frame([order("b"), order("c")]), DAY, NEXT_DAY),
                                     (ITEMS, _items(["b", "c"]), DAY, NEXT_DAY)])
    assert day_rows(wh, "us", DAY).get_column("amazon_order_id").to_list() == ["a"]
    assert wh.row_count("us", "order_items") == 1 and wh.loads("us").height == 2


def test_merge_together_upserts_both_tables(wh: Warehouse) -> None:
    first, second = wh.merge_together("us", [(ORDERS, orders_frame([order("a")])), (ITEMS, _items(["a"]))])
    assert (first.inserted, second.inserted) == (1, 1)
    again = wh.merge_together("us", [(ORDERS, orders_frame([order("a")])), (ITEMS, _items(["a"]))])
    assert [r.rows for r in again] == [0, 1]  # orders unchanged (same version); items have no version
