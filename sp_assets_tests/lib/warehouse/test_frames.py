"""Frame writes (``frames``): idempotent partition replace, non-regressing merge, snapshots, types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

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
)
from sp_assets_tests.lib.warehouse.support import (
    DAY,
    NEXT_DAY,
    ORDERS,
    day_rows,
    order,
    orders_frame,
)

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
