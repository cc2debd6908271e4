"""JSON reports loaded into one table each: the rows are the elements of the document's ``json_rows`` array.

Seller performance (``performanceMetrics``, one row per marketplace) and the Brand Analytics search terms,
market basket and repeat purchase reports (``dataByDepartmentAndSearchTerm``, ``dataByAsin``). Each
element is flattened the way the sales and traffic report is (``parsing._record``): nested objects
become snake_case columns (``lateShipmentRate.rate`` -> ``late_shipment_rate_rate``,
``repeatPurchaseRevenue.amount`` -> ``repeat_purchase_revenue_amount``), arrays stay JSON text. The
catalog row types the columns it knows (dates, counts, shares, money); the others keep the type of
their JSON values (schema drift adds columns). Plain Python: no Dagster import.

Brand Analytics periods: a partition asks for one ``reportPeriod`` (:func:`partition_period`): DAY for a
daily partition, MONTH for a monthly one, because Amazon accepts WEEK, MONTH and QUARTER only from the
period's first day to its last, which a daily partition's window is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sp_assets.lib.reports.catalog import (
    CALENDAR,
    JSON,
    MONTHLY,
    PARTITION_COLUMN,
    REPORT_ID_COLUMN,
    ReportType,
)
from sp_assets.lib.reports.parsing import ReportParseError, _record
from sp_assets.lib.tablespec import DATE, VARCHAR, Column, TableSpec

PERIOD_OPTION = "reportPeriod"
# The period one partition of each window asks for.
_PARTITION_PERIOD = {CALENDAR: "DAY", MONTHLY: "MONTH"}


def is_json_table(row: ReportType) -> bool:
    """A JSON type loaded into one table from its ``json_rows`` array."""
    return row.fmt == JSON and row.json_rows is not None


def partition_period(row: ReportType, options: Mapping[str, str], where: str) -> dict[str, str]:
    """The options to send: ``reportPeriod`` set to the partition's period when the type takes one;
    another period is refused naming Amazon's rule (``where`` names the configuration entry)."""
    if PERIOD_OPTION not in row.options:
        return dict(options)
    wanted = _PARTITION_PERIOD.get(row.window)
    given = options.get(PERIOD_OPTION, wanted)
    if wanted is None or given != wanted:
        raise ValueError(
            f"{where}.options.reportPeriod: {given!r} cannot be loaded by {row.window} partitions of {row.name}: "
            f"Amazon takes WEEK, MONTH and QUARTER only from the period's first day to its last (a Sunday to a "
            f"Saturday for WEEK), and each partition asks for its own {row.window} window; allowed: {wanted}")
    return {**options, PERIOD_OPTION: wanted}


def flatten_json_rows(row: ReportType, document: Any) -> list[dict[str, Any]]:
    """The document's rows as flat records, with ``marketplace_id`` (and, for seller performance, the
    marketplace's ``account_status``)."""
    if not is_json_table(row):
        raise ValueError(f"{row.name} is not a JSON report loaded from one array")
    if not isinstance(document, Mapping):
        raise ReportParseError(f"a {row.name} document is a JSON object, got {type(document).__name__}")
    entries = document.get(row.json_rows or "")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ReportParseError(f"{row.name}: {row.json_rows} must be an array, got {type(entries).__name__}")
    spec = document.get("reportSpecification") or {}
    marketplace_ids = spec.get("marketplaceIds") or [] if isinstance(spec, Mapping) else []
    context = {"marketplace_id": ",".join(marketplace_ids)} if marketplace_ids else {}
    statuses = {s.get("marketplaceId"): s.get("status") for s in document.get("accountStatuses") or []
                if isinstance(s, Mapping)}
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ReportParseError(f"{row.name}: an element of {row.json_rows} is not an object: {entry!r:.80}")
        record = {**context, **_record(entry, ())}
        if statuses:
            record["account_status"] = statuses.get(record.get("marketplace_id"))
        out.append(record)
    return out


def json_report_spec(table: str, row: ReportType) -> TableSpec:
    """The table of one JSON report: the partition, the report id, the marketplace, the typed columns."""
    known = {PARTITION_COLUMN, REPORT_ID_COLUMN, "marketplace_id"}
    return TableSpec(
        name=table,
        columns=(
            Column(PARTITION_COLUMN, DATE, nullable=False, description="the partition the row was loaded for"),
            Column(REPORT_ID_COLUMN, VARCHAR, description="Amazon's id of the report the row came from"),
            Column("marketplace_id", VARCHAR),
            *(Column(name, sql_type) for name, sql_type in row.column_types.items() if name not in known),
        ),
        partition_column=PARTITION_COLUMN,
        description=f"{row.name}: one row per element of the document's {row.json_rows}, flattened.",
    )
