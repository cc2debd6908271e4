"""Asset checks every table gets: its primary key is unique and never null.

Checks read DuckDB under the same file lock as writes, so they never meet a half-written table.
"""


import dagster as dg

from sp_assets.defs.common import asset_key, sql_table, warehouse_of
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.lib.tablespec import TableSpec


def primary_key_check(entry: MarketplaceConfig, spec: TableSpec, asset_name: str | None = None
                      ) -> dg.AssetChecksDefinition:
    """``<table>_primary_key``: no duplicate and no null key in ``<code>.<table>``."""
    key = asset_key(entry, asset_name or spec.name)
    pk = ", ".join(spec.primary_key)
    any_null = " or ".join(f"{c} is null" for c in spec.primary_key)

    @dg.asset_check(asset=key, name=f"{spec.name}_primary_key", blocking=True,
                    description=f"({pk}) is unique and never null in {entry.code}.{spec.name}.",
                    required_resource_keys={"warehouse"})
    def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        warehouse = warehouse_of(context)
        if not warehouse.table_exists(entry.code, spec.name):
            return dg.AssetCheckResult(passed=True, metadata={"rows": 0, "note": "table not created yet"})
        row = warehouse.query(
            f"select count(*) as n_rows, count(*) - count(distinct ({pk})) as duplicates, "
            f"count(*) filter (where {any_null}) as null_keys from {sql_table(entry, spec.name)}"
        ).row(0, named=True)
        return dg.AssetCheckResult(
            passed=row["duplicates"] == 0 and row["null_keys"] == 0,
            metadata={"rows": row["n_rows"], "duplicate_keys": row["duplicates"], "null_keys": row["null_keys"]},
        )

    return check
