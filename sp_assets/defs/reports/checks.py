"""Key checks on the report tables: each natural key is unique, and its required columns never null.

Loads of flat files go straight from the file into DuckDB, so the warehouse enforces no key there:
these checks are the guard. The order flat files have no key Amazon promises (one row per item, and
the same SKU can appear twice in an order), so their check on ``(amazon_order_id, sku)`` warns
rather than fails; the other keys fail with ERROR severity. Keys and severities are the catalog's
(``lib/reports/catalog.py``); a type whose row declares no key gets no check.

Each check runs in its report asset's step, after the load (``defs/checks.py``); this module stays
apart from ``assets.py`` because ``settlements.py``, which ``assets.py`` imports, needs it too.
"""

from collections.abc import Sequence

import dagster as dg

from sp_assets.defs.checks import ChecksByTable, TableCheck, separate_steps
from sp_assets.defs.common import asset_key
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.freshness import row_count_anomaly
from sp_assets.lib.naming import qualified_name, quote_identifier
from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.tables import SALES_AND_TRAFFIC_KEYS, sales_and_traffic_table
from sp_assets.lib.warehouse import Warehouse


def report_key(entry: MarketplaceConfig, table: str, key: Sequence[str], required: Sequence[str],
               severity: str = "error") -> TableCheck:
    """``<table>_key``: no two rows share ``key`` (nulls compare equal) and ``required`` is never null."""
    qualified = qualified_name(entry.code, table)
    columns = ", ".join(quote_identifier(c, "column") for c in key)
    nulls = " or ".join(f"{quote_identifier(c, 'column')} is null" for c in required) or "false"
    level = dg.AssetCheckSeverity.WARN if severity == "warn" else dg.AssetCheckSeverity.ERROR

    def evaluate(warehouse: Warehouse) -> dg.AssetCheckResult:
        if not warehouse.table_exists(entry.code, table):
            return dg.AssetCheckResult(passed=True, metadata={"rows": 0, "note": "table not created yet"})
        missing = [c for c in key if c not in warehouse.columns(entry.code, table)]
        if missing:
            rows = warehouse.row_count(entry.code, table)
            return dg.AssetCheckResult(passed=rows == 0, severity=level, metadata={
                "rows": rows, "missing_key_columns": ", ".join(missing),
                "note": "only empty (CANCELLED) days loaded so far" if rows == 0 else "the key columns are missing"})
        row = warehouse.query(
            f"select count(*) as n_rows, count(*) - count(distinct row({columns})) as duplicates, "
            f"count(*) filter (where {nulls}) as null_keys from {qualified}"
        ).row(0, named=True)
        return dg.AssetCheckResult(
            passed=row["duplicates"] == 0 and row["null_keys"] == 0, severity=level,
            metadata={"rows": row["n_rows"], "duplicate_keys": row["duplicates"], "null_keys": row["null_keys"]},
        )

    return TableCheck(dg.AssetCheckSpec(f"{table}_key", asset=asset_key(entry, table), blocking=severity != "warn",
                                        description=f"({', '.join(key)}) is unique in {qualified} and "
                                                    f"({', '.join(required)}) is never null ({level.value} when "
                                                    "not)."),
                      evaluate)


def report_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The key check of each configured report table, by table name (none for a type without a key)."""
    checks: ChecksByTable = {}
    for config in entry.reports:
        row = catalog.lookup(config.report_type)
        if row.name == catalog.SALES_AND_TRAFFIC:
            for by in config.by or row.by:
                key, required = SALES_AND_TRAFFIC_KEYS[by]
                table = sales_and_traffic_table(config.table, by)
                checks[table] = [report_key(entry, table, key, required), row_count_anomaly(entry, table)]
        elif row.key:
            checks[config.table] = [report_key(entry, config.table, row.key, row.required, row.key_severity)]
            if row.window in (catalog.EVENT, catalog.CALENDAR):  # daily history: compare the days
                checks[config.table].append(row_count_anomaly(entry, config.table))
    return checks


def build_report_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their report assets' steps (all of them with ``checks_in_step=False``)."""
    return separate_steps(report_table_checks(entry), checks_in_step)
