"""Report tables: how each report type is windowed, keyed and typed, and the helpers its load needs.

Flat-file reports are loaded by DuckDB straight from the downloaded file
(``Warehouse.load_delimited_file``), so their columns are whatever the file's header says, each name
through ``naming.snake_case`` (``Starting Warehouse Balance`` and ``StartingWarehouseBalance`` both
become ``starting_warehouse_balance``). A column new to the table is added; a column a file lacks is
null for its rows. Every column is text except the few listed in ``ReportKind.column_types``, whose
format Amazon keeps stable in every marketplace (ISO timestamps, dot-decimal amounts, counts); a
value that does not convert fails the load naming the column, rather than storing a wrong number.
Settlement files are kept as text entirely: their dates and amounts are written in the
marketplace's locale (``02.01.2026``, ``1.234,56`` in Germany).

Every row carries two columns of ours: ``partition_date`` (the daily partition the row was loaded
for) and ``report_id`` (Amazon's id of the report it came from). Settlement rows also carry
``report_created_time`` and ``row_number`` (the line of the row in its document, 1 = first data row).

How the window of a daily partition is sent to Amazon depends on the report (``ReportKind.window``):

==============  ==========================================================================================
``event``       rows are events (orders, returns): the partition's local day, converted to UTC, with
                Amazon's inclusive end (``2026-03-01T08:00:00Z`` .. ``2026-03-02T07:59:59Z`` for US)
``calendar``    rows are per calendar date (the ledger summary, sales and traffic): the partition's date
                as a whole UTC day (``2026-03-01T00:00:00Z`` .. ``2026-03-01T23:59:59Z``). Amazon
                aggregates these by date; a local-day window in UTC would straddle two dates and give
                two partitions the same date's row.
``snapshot``    the current state (listings, FBA inventory): no window; only today's partition
``listed``      Amazon generates the report (settlements): listed with getReports, never created
==============  ==========================================================================================

This module is plain Python: no Dagster import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from sp_assets.lib.naming import NamingError, snake_case
from sp_assets.lib.tablespec import DATE, MONEY, VARCHAR, Column, TableSpec, frame_from_records

EVENT = "event"
CALENDAR = "calendar"
SNAPSHOT = "snapshot"
LISTED = "listed"
WINDOWS = (EVENT, CALENDAR, SNAPSHOT, LISTED)

ALL_ORDERS_BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
ALL_ORDERS_BY_LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
SALES_AND_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
SETTLEMENT_V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
SETTLEMENT_V1 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"

# Columns every loaded report row gets from us (never from the file).
PARTITION_COLUMN = "partition_date"
REPORT_ID_COLUMN = "report_id"
ROW_NUMBER_COLUMN = "row_number"
CREATED_COLUMN = "report_created_time"

TIMESTAMP = "TIMESTAMPTZ"
INT = "BIGINT"


@dataclass(frozen=True)
class ReportKind:
    """What the loader knows about one report type.

    ``key`` is the natural key of a row within the table (the asset check verifies it is unique);
    ``required`` are the key columns that must never be null. ``key_severity`` is ``warn`` where
    Amazon itself does not promise uniqueness (the order flat files, pain point 22), else ``error``.
    """

    report_type: str
    window: str
    key: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    key_severity: str = "error"
    column_types: Mapping[str, str] = field(default_factory=dict)
    fmt: str = "tsv"  # "tsv" or "json"

    def __post_init__(self) -> None:
        if self.window not in WINDOWS:
            raise ValueError(f"report kind {self.report_type}: window {self.window!r}; allowed: {', '.join(WINDOWS)}")
        if self.key_severity not in ("error", "warn"):
            raise ValueError(f"report kind {self.report_type}: key_severity must be 'error' or 'warn'")
        if not set(self.required) <= set(self.key):
            raise ValueError(f"report kind {self.report_type}: required columns must be key columns")

    @property
    def is_snapshot(self) -> bool:
        return self.window == SNAPSHOT


_ORDER_TYPES = {
    "purchase_date": TIMESTAMP, "last_updated_date": TIMESTAMP, "quantity": INT,
    **{name: MONEY for name in ("item_price", "item_tax", "shipping_price", "shipping_tax", "gift_wrap_price",
                                "gift_wrap_tax", "item_promotion_discount", "ship_promotion_discount")},
}
_LEDGER_TYPES = {name: INT for name in (
    "starting_warehouse_balance", "in_transit_between_warehouses", "receipts", "customer_shipments",
    "customer_returns", "vendor_returns", "warehouse_transfer_in_out", "found", "lost", "damaged", "disposed",
    "other_events", "ending_warehouse_balance", "unknown_events")}
_MYI_TYPES = {"your_price": MONEY, **{name: INT for name in (
    "mfn_fulfillable_quantity", "afn_warehouse_quantity", "afn_fulfillable_quantity", "afn_unsellable_quantity",
    "afn_reserved_quantity", "afn_total_quantity", "afn_inbound_working_quantity", "afn_inbound_shipped_quantity",
    "afn_inbound_receiving_quantity", "afn_researching_quantity", "afn_reserved_future_supply",
    "afn_future_supply_buyable")}}

_KNOWN: tuple[ReportKind, ...] = (
    ReportKind(ALL_ORDERS_BY_ORDER_DATE, EVENT, key=("amazon_order_id", "sku"), required=("amazon_order_id",),
               key_severity="warn", column_types=_ORDER_TYPES),
    ReportKind(ALL_ORDERS_BY_LAST_UPDATE, EVENT, key=("amazon_order_id", "sku"), required=("amazon_order_id",),
               key_severity="warn", column_types=_ORDER_TYPES),
    ReportKind("GET_MERCHANT_LISTINGS_ALL_DATA", SNAPSHOT, key=(PARTITION_COLUMN, "seller_sku"),
               required=(PARTITION_COLUMN, "seller_sku"),
               column_types={"price": MONEY, "quantity": INT, "pending_quantity": INT}),
    ReportKind("GET_MERCHANT_LISTINGS_DATA", SNAPSHOT, key=(PARTITION_COLUMN, "seller_sku"),
               required=(PARTITION_COLUMN, "seller_sku")),
    ReportKind("GET_FLAT_FILE_OPEN_LISTINGS_DATA", SNAPSHOT, key=(PARTITION_COLUMN, "sku"),
               required=(PARTITION_COLUMN, "sku")),
    ReportKind("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", SNAPSHOT, key=(PARTITION_COLUMN, "sku"),
               required=(PARTITION_COLUMN, "sku"), column_types=_MYI_TYPES),
    ReportKind("GET_FBA_MYI_ALL_INVENTORY_DATA", SNAPSHOT, key=(PARTITION_COLUMN, "sku"),
               required=(PARTITION_COLUMN, "sku"), column_types=_MYI_TYPES),
    ReportKind("GET_AFN_INVENTORY_DATA", SNAPSHOT,
               key=(PARTITION_COLUMN, "seller_sku", "warehouse_condition_code"),
               required=(PARTITION_COLUMN, "seller_sku"), column_types={"quantity_available": INT}),
    ReportKind("GET_LEDGER_SUMMARY_VIEW_DATA", CALENDAR,
               key=(PARTITION_COLUMN, "date", "fnsku", "msku", "disposition", "location"),
               required=(PARTITION_COLUMN, "date", "fnsku"), column_types=_LEDGER_TYPES),
    ReportKind("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", EVENT,
               key=("order_id", "sku", "license_plate_number", "return_date"), required=("order_id", "sku"),
               column_types={"return_date": TIMESTAMP, "quantity": INT}),
    ReportKind(SALES_AND_TRAFFIC, CALENDAR, fmt="json"),
    ReportKind(SETTLEMENT_V2, LISTED, key=("settlement_id", ROW_NUMBER_COLUMN),
               required=("settlement_id", ROW_NUMBER_COLUMN), column_types={ROW_NUMBER_COLUMN: INT}),
    ReportKind(SETTLEMENT_V1, LISTED, key=("settlement_id", ROW_NUMBER_COLUMN),
               required=("settlement_id", ROW_NUMBER_COLUMN), column_types={ROW_NUMBER_COLUMN: INT}),
)
KNOWN_KINDS: dict[str, ReportKind] = {kind.report_type: kind for kind in _KNOWN}

# Current-state reports without a known key: still snapshots (no window, today only).
_SNAPSHOT_TYPES = frozenset({
    "GET_MERCHANT_LISTINGS_INACTIVE_DATA", "GET_MERCHANT_LISTINGS_DATA_BACK_COMPAT", "GET_MERCHANT_LISTINGS_DATA_LITE",
    "GET_MERCHANT_LISTINGS_DATA_LITER", "GET_MERCHANT_CANCELLED_LISTINGS_DATA", "GET_MERCHANTS_LISTINGS_FYP_REPORT",
    "GET_AFN_INVENTORY_DATA_BY_COUNTRY", "GET_RESERVED_INVENTORY_DATA", "GET_FBA_INVENTORY_PLANNING_DATA",
    "GET_STRANDED_INVENTORY_UI_DATA", "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA", "GET_REFERRAL_FEE_PREVIEW_REPORT",
    "GET_FBA_FULFILLMENT_CURRENT_INVENTORY_DATA", "GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT",
    "GET_FBA_RECONCILIATION_REPORT_DATA", "GET_EXCESS_INVENTORY_DATA",
})
_SETTLEMENT_RE = re.compile(r"^GET_.*SETTLEMENT_REPORT_DATA")


def report_kind(report_type: str) -> ReportKind:
    """The kind of any report type: a known one, else a snapshot or settlement by name, else an event report.

    An unknown type is loaded like an event report (the partition's window is sent); it gets no key
    check because nothing is known about its rows.
    """
    known = KNOWN_KINDS.get(report_type)
    if known is not None:
        return known
    if report_type in _SNAPSHOT_TYPES:
        return ReportKind(report_type, SNAPSHOT)
    if _SETTLEMENT_RE.match(report_type):
        return ReportKind(report_type, LISTED, key=("settlement_id", ROW_NUMBER_COLUMN),
                          required=("settlement_id", ROW_NUMBER_COLUMN), column_types={ROW_NUMBER_COLUMN: INT})
    return ReportKind(report_type, EVENT)


# ------------------------------------------------------------------------------------------ flat files
def add_row_numbers(source: Path, target: Path, column: str = "row-number") -> int:
    """Copy a UTF-8 flat file, prefixing each line with its data-row number (the header gets ``column``).

    Streams line by line. Amazon's flat files hold no line breaks inside values, so the physical line
    is the row; returns the number of data rows.
    """
    rows = 0
    with source.open(encoding="utf-8", newline="") as inp, target.open("w", encoding="utf-8", newline="") as out:
        header = inp.readline()
        if not header.strip():
            return 0
        out.write(f"{column}\t{header}")
        for line in inp:
            if not line.strip("\r\n"):
                continue
            rows += 1
            out.write(f"{rows}\t{line}")
    return rows


def first_value(path: Path, column: str) -> str | None:
    """The value of header ``column`` (headers compared after ``snake_case``) in the first data row, or None."""
    with path.open(encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n").lstrip("\ufeff").split("\t")
        first = handle.readline().rstrip("\r\n").split("\t")
    for index, name in enumerate(header):
        try:
            normalized = snake_case(name)
        except NamingError:
            continue
        if normalized == column:
            value = first[index].strip() if index < len(first) else ""
            return value or None
    return None


# ------------------------------------------------------------------------------------------ sales and traffic
BY_DATE = "date"
BY_ASIN = "asin"
SALES_AND_TRAFFIC_BY = (BY_DATE, BY_ASIN)

_COMMON = (
    Column(PARTITION_COLUMN, DATE, nullable=False, description="the daily partition the row was loaded for"),
    Column(REPORT_ID_COLUMN, VARCHAR, description="Amazon's id of the report the row came from"),
    Column("marketplace_id", VARCHAR),
)
_BY_DATE_COLUMNS = (
    *_COMMON,
    Column("date", DATE, nullable=False, description="the day the metrics are for"),
    Column("ordered_product_sales_amount", MONEY),
    Column("ordered_product_sales_currency_code", VARCHAR),
    Column("ordered_product_sales_b2b_amount", MONEY),
    Column("shipped_product_sales_amount", MONEY),
    Column("claims_amount_amount", MONEY),
)
_BY_ASIN_COLUMNS = (
    *_COMMON,
    Column("parent_asin", VARCHAR, nullable=False),
    Column("child_asin", VARCHAR, description="null with asinGranularity PARENT"),
    Column("sku", VARCHAR, description="set only with asinGranularity SKU"),
    Column("ordered_product_sales_amount", MONEY),
    Column("ordered_product_sales_currency_code", VARCHAR),
    Column("ordered_product_sales_b2b_amount", MONEY),
)
# The natural keys the asset checks verify (the warehouse cannot: child_asin and sku may be null).
SALES_AND_TRAFFIC_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    BY_DATE: ((PARTITION_COLUMN, "date"), (PARTITION_COLUMN, "date")),
    BY_ASIN: ((PARTITION_COLUMN, "parent_asin", "child_asin", "sku"), (PARTITION_COLUMN, "parent_asin")),
}


def sales_and_traffic_table(table: str, by: str) -> str:
    """``sales_and_traffic`` + ``date`` -> ``sales_and_traffic_by_date``."""
    if by not in SALES_AND_TRAFFIC_BY:
        raise ValueError(f"by must be one of {', '.join(SALES_AND_TRAFFIC_BY)}, got {by!r}")
    return f"{table}_by_{by}"


def sales_and_traffic_spec(table: str, by: str) -> TableSpec:
    """The table of one side of the sales and traffic report (metrics Amazon adds are added as columns)."""
    return TableSpec(
        name=sales_and_traffic_table(table, by),
        columns=_BY_DATE_COLUMNS if by == BY_DATE else _BY_ASIN_COLUMNS,
        partition_column=PARTITION_COLUMN,
        description=f"GET_SALES_AND_TRAFFIC_REPORT by {by}, one report per daily partition; every metric of "
                    "the document is a column (salesByDate.unitsOrdered -> units_ordered).",
    )


def records_frame(spec: TableSpec, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The spec's columns, typed exactly, plus every other key of the records (schema drift), inferred.

    Amounts arrive as JSON numbers; the spec's money columns become exact DECIMALs (``frame_from_records``
    converts a float through its shortest repr, so 11.01 stays 11.01). Keys the spec does not know keep
    the type polars infers over all rows (an all-null key becomes text).
    """
    frame = frame_from_records(spec, rows)
    extras = list(dict.fromkeys(k for row in rows for k in row if not spec.has_column(k)))
    if not extras:
        return frame
    series = [pl.Series(name, [row.get(name) for row in rows], strict=False) for name in extras]
    return frame.with_columns(series)


def with_constants(rows: Iterable[Mapping[str, Any]], day: date, report_id: str) -> list[dict[str, Any]]:
    """Records with ``partition_date`` and ``report_id`` added (the document's own keys win nothing)."""
    return [{**row, PARTITION_COLUMN: day, REPORT_ID_COLUMN: report_id} for row in rows]
