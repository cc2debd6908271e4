"""``Warehouse.replace_partition_from_sql``: a partition replaced by the rows of a SELECT run inside DuckDB.

The same contract as ``replace_partition`` of a frame (delete the window, insert, one ledger row, the
union view), with the checks a frame gets before the lock made row by row inside the INSERT.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sp_assets.lib.warehouse import VIEW_SCHEMA, Warehouse, WarehouseError
from sp_assets_tests.lib.warehouse.support import DAY, NEXT_DAY, ORDERS, order, orders_frame


def rows_sql(*rows: tuple[str | None, str, str]) -> str:
    """A SELECT of ORDERS rows: (order id or None, partition day, total) each, text cast by the write."""
    values = ", ".join(
        f"({'NULL' if order_id is None else repr(order_id)}, '{day}', '2024-01-02T10:00:00Z', 'Shipped', '{total}', 1)"
        for order_id, day, total in rows)
    return (f"SELECT * FROM (VALUES {values}) AS v(amazon_order_id, partition_date, last_update_date, order_status, "
            f"order_total, items)")


def test_a_select_replaces_the_window_typed_by_the_spec_with_its_ledger_row_and_view(wh: Warehouse) -> None:
    wh.replace_partition("us", ORDERS, orders_frame([order("old"), order("other", NEXT_DAY)]), DAY,
                         NEXT_DAY + timedelta(1))
    first = wh.replace_partition_from_sql("us", ORDERS, rows_sql(("a", str(DAY), "11.01"), ("b", str(DAY), "2.50")),
                                          DAY, NEXT_DAY, note="two rows")
    second = wh.replace_partition_from_sql("us", ORDERS, rows_sql(("a", str(DAY), "11.01"), ("b", str(DAY), "2.50")),
                                           DAY, NEXT_DAY)

    assert (first.inserted, first.deleted, first.operation) == (2, 1, "replace_partition")
    assert (second.inserted, second.deleted) == (2, 2), "running it again never duplicates"
    stored = wh.query("select amazon_order_id, partition_date, order_total, last_update_date from us.orders "
                      "order by amazon_order_id").rows()
    assert stored == [
        ("a", DAY, Decimal("11.01"), datetime(2024, 1, 2, 10, tzinfo=UTC)),
        ("b", DAY, Decimal("2.50"), datetime(2024, 1, 2, 10, tzinfo=UTC)),
        ("other", NEXT_DAY, Decimal("11.01"), datetime(2024, 1, 2, 10, tzinfo=UTC)),
    ], "the other day is untouched; values have the spec's types"
    assert wh.columns("us", "orders")["order_total"] == "DECIMAL(18,2)"
    ledger = wh.loads("us", "orders").row(1, named=True)
    assert (ledger["operation"], ledger["inserted"], ledger["note"], ledger["partition_start"]) == (
        "replace_partition", 2, "two rows", DAY.isoformat())
    assert wh.row_count(VIEW_SCHEMA, "orders") == 3


@pytest.mark.parametrize(("rows", "message"), [
    ((("a", str(DAY), "1.00"), ("late", str(NEXT_DAY), "1.00")),
     "test rows: a row has partition_date 2024-01-03 outside [2024-01-02, 2024-01-03)"),
    ((("a", str(DAY), "1.00"), (None, str(DAY), "1.00")), "test rows: a row has no amazon_order_id"),
])
def test_a_row_outside_the_window_or_without_a_key_writes_nothing(wh: Warehouse, rows: tuple, message: str) -> None:
    wh.replace_partition("us", ORDERS, orders_frame([order("kept")]), DAY, NEXT_DAY)
    with pytest.raises(WarehouseError, match=r"rolled back \(nothing written\)") as failure:
        wh.replace_partition_from_sql("us", ORDERS, rows_sql(*rows), DAY, NEXT_DAY, what="test rows")
    assert message in str(failure.value) and "nothing was written" in str(failure.value)
    assert wh.query("select amazon_order_id from us.orders").rows() == [("kept",)], "the old rows stay"
    assert len(wh.loads("us", "orders")) == 1, "no ledger row for the failed write"


def test_the_window_is_checked_before_the_lock(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="empty or reversed"):
        wh.replace_partition_from_sql("us", ORDERS, rows_sql(("a", str(DAY), "1")), NEXT_DAY, DAY)
    with pytest.raises(TypeError, match="pass a date"):
        wh.replace_partition_from_sql("us", ORDERS, rows_sql(("a", str(DAY), "1")), datetime(2024, 1, 2, tzinfo=UTC),
                                      datetime(2024, 1, 3, tzinfo=UTC))
    assert not wh.path.exists(), "nothing was created"
