"""How report rows become table rows: the helpers of the loads, and the sales and traffic tables.

What is known per report type (window, key, column types) is catalog data (``catalog.py``); this
module holds the rules that are the same for every type.

Flat-file reports are loaded by DuckDB straight from the downloaded file
(``Warehouse.load_delimited_file``), so their columns are whatever the file's header says, each name
through ``naming.snake_case`` (``Starting Warehouse Balance`` and ``StartingWarehouseBalance`` both
become ``starting_warehouse_balance``). A column new to the table is added; a column a file lacks is
null for its rows. The catalog row's ``column_types`` type the amounts, counts, dates and times,
parsed by the conventions the row declares (``ReportType.text_formats``: ISO and dot decimals for
most types, the marketplace's for settlements, ``02.01.2026`` and ``1.234,56`` in Germany); a value
that does not parse keeps its text in ``<column>__raw`` and is counted in the run's metadata
(``unparsed_values``), never stored as a wrong number or a silent null. Other columns are text.

Every row carries two columns of ours: ``partition_date`` (the partition the row was loaded for:
the day, or the first day of the month for monthly reports) and ``report_id`` (Amazon's id of the
report it came from). Settlement rows also carry ``report_created_time`` and ``row_number`` (the
line of the row in its document, 1 = first data row).

This module is plain Python: no Dagster import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from sp_assets.lib.naming import NamingError, snake_case
from sp_assets.lib.reports.catalog import BY_ASIN, BY_DATE, PARTITION_COLUMN, REPORT_ID_COLUMN
from sp_assets.lib.tablespec import DATE, MONEY, VARCHAR, Column, TableSpec, frame_from_records


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
SALES_AND_TRAFFIC_BY = (BY_DATE, BY_ASIN)

_COMMON = (
    Column(PARTITION_COLUMN, DATE, nullable=False, description="the daily partition the row was loaded for"),
    Column(REPORT_ID_COLUMN, VARCHAR, description="Amazon's id of the report the row came from"),
    Column("marketplace_id", VARCHAR),
)
# Every amount of the document (an ``{amount, currencyCode}`` object in Amazon's schema) is money;
# the other metrics are counts and ratios whose type the JSON number gives.
_BY_DATE_AMOUNTS = ("ordered_product_sales", "ordered_product_sales_b2b", "average_sales_per_order_item",
                    "average_sales_per_order_item_b2b", "average_selling_price", "average_selling_price_b2b",
                    "claims_amount", "shipped_product_sales")
_BY_DATE_COLUMNS = (
    *_COMMON,
    Column("date", DATE, nullable=False, description="the day the metrics are for"),
    Column("ordered_product_sales_currency_code", VARCHAR),
    *(Column(f"{amount}_amount", MONEY) for amount in _BY_DATE_AMOUNTS),
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
