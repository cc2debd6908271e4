"""FBA inventory supply per marketplace: a daily snapshot kept as history, the current state, their checks.

=============================  ==============================================  ================================
asset                          the seed's report                               write
=============================  ==============================================  ================================
``inventory_supply``           Fulfillment Inventory - List Inventory Supply   replace today's
                               (getInventorySummaries, details=true, changed   ``snapshot_date`` rows
                               since the local day's start)                    (earlier days kept)
``inventory_supply_current``   (the same report, latest state per SKU)         merge by SKU, version
                                                                               ``last_updated_time``
=============================  ==============================================  ================================

Two assets rather than one multi-asset: the API is read once, by ``inventory_supply``; the current
table is derived from that snapshot in DuckDB, so each table has its own materialization, checks and
metadata, and re-deriving the current table never calls Amazon. The inventory API is point-in-time,
so both assets are unpartitioned snapshots (``SNAPSHOT``): each run reads today (the marketplace's
time zone), a past ``snapshot_date`` in the run config is refused; for history use the
``ledger_summary`` report asset.
"""

from collections.abc import Iterator

import dagster as dg

from sp_assets.defs.checks import (
    ChecksByTable,
    TableCheck,
    in_step,
    materialized_then_checked,
    primary_key,
    separate_steps,
    specs_of,
)
from sp_assets.defs.common import (
    SNAPSHOT,
    asset_key,
    asset_kwargs,
    describe,
    fail_fast,
    local_dates,
    sp_client,
    sql_table,
    timestamp,
    warehouse_of,
)
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.rest_support import (
    MERGE,
    REPLACE_PARTITION,
    fetch_staged,
    history_asset,
    snapshot_day,
    utc_now,
    write_frame,
)
from sp_assets.lib.inventory import INVENTORY_SUPPLY, INVENTORY_SUPPLY_CURRENT, fetch_inventory_supply_rows
from sp_assets.lib.warehouse import Warehouse

HISTORY_ASSET = "ledger_summary"

DESCRIPTIONS = {
    "inventory_supply": describe(
        "FBA inventory per SKU as Amazon reported it on each snapshot day: fulfillable, inbound, reserved and "
        "unfulfillable quantities.",
        "Fulfillment Inventory - List Inventory Supply",
        "getInventorySummaries (details=true), the SKUs that changed since the start of the partition's day. "
        "Point-in-time: each run snapshots today (history: the ledger_summary report). Write "
        "mode: **partition replace** by snapshot_date (one row per SKU per snapshot day, kept as history; "
        "re-running today replaces today)."),
    "inventory_supply_current": describe(
        "The latest FBA inventory of each SKU, one row per SKU, built from the daily inventory snapshots.",
        "Fulfillment Inventory - List Inventory Supply",
        "Derived from `inventory_supply` (today's snapshot); no API call. Write mode: **merge** by "
        "seller_sku, never regressing to an older lastUpdatedTime."),
}


def build_inventory_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """``inventory_supply`` and ``inventory_supply_current`` of one marketplace, each running its checks in
    its step (``checks_in_step=False``: without, for the old layout's separate check steps)."""
    checks = in_step(inventory_table_checks(entry), checks_in_step)
    supply_checks = checks.get(INVENTORY_SUPPLY.name, [])
    current_checks = checks.get(INVENTORY_SUPPLY_CURRENT.name, [])

    @dg.asset(check_specs=specs_of(supply_checks), **asset_kwargs(entry, "inventory_supply", "inventory", SNAPSHOT,
                                   DESCRIPTIONS["inventory_supply"], table=INVENTORY_SUPPLY))
    @fail_fast(entry)
    def inventory_supply(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        day = snapshot_day(context, entry, history_asset(entry, HISTORY_ASSET))
        start, end = utc_window(context)
        client = sp_client(context, entry)
        frame, _, api, stage = fetch_staged(context, entry, INVENTORY_SUPPLY, client, lambda: (
            fetch_inventory_supply_rows(client, entry.marketplace_id, start, day, utc_now()), {}))
        result = write_frame(context, entry, INVENTORY_SUPPLY, frame, mode=REPLACE_PARTITION, window=(start, end),
                             api=api, days=local_dates(entry, start, end), changed_since_utc=timestamp(start),
                             **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, supply_checks)

    @dg.asset(deps=[inventory_supply], check_specs=specs_of(current_checks), **asset_kwargs(entry, "inventory_supply_current", "inventory", SNAPSHOT,
                                                      DESCRIPTIONS["inventory_supply_current"], needs_api=False,
                                                      table=INVENTORY_SUPPLY_CURRENT))
    @fail_fast(entry)
    def inventory_supply_current(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        snapshot_day(context, entry, history_asset(entry, HISTORY_ASSET))
        start, end = utc_window(context)
        first, last = local_dates(entry, start, end)
        warehouse = warehouse_of(context)
        if not warehouse.table_exists(entry.code, INVENTORY_SUPPLY.name):
            raise dg.Failure(description=f"{entry.code}.{INVENTORY_SUPPLY.name} does not exist yet: materialize "
                                         f"{history_asset(entry, INVENTORY_SUPPLY.name)} first",
                             allow_retries=False)
        frame = warehouse.query(
            f"select {', '.join(INVENTORY_SUPPLY_CURRENT.column_names)} from {sql_table(entry, INVENTORY_SUPPLY.name)} "
            f"where snapshot_date >= ? and snapshot_date < ? order by snapshot_date, seller_sku", [first, last],
        )
        yield from materialized_then_checked(context, write_frame(
            context, entry, INVENTORY_SUPPLY_CURRENT, frame, mode=MERGE, window=(start, end), api={},
            source_table=f"{entry.code}.{INVENTORY_SUPPLY.name}"), current_checks)

    return [inventory_supply, inventory_supply_current]


# ------------------------------------------------------------------------------------------ checks
def current_not_older(entry: MarketplaceConfig) -> TableCheck:
    """No SKU of the current table is older than its newest snapshot row (the merge never regressed)."""
    current, snapshot = f"{entry.code}.{INVENTORY_SUPPLY_CURRENT.name}", f"{entry.code}.{INVENTORY_SUPPLY.name}"

    def evaluate(warehouse: Warehouse) -> dg.AssetCheckResult:
        if not (warehouse.table_exists(entry.code, INVENTORY_SUPPLY_CURRENT.name)
                and warehouse.table_exists(entry.code, INVENTORY_SUPPLY.name)):
            return dg.AssetCheckResult(passed=True, metadata={"note": "tables not created yet"})
        behind = warehouse.query(
            f"select count(*) as n from (select seller_sku, max(last_updated_time) as newest from "
            f"{sql_table(entry, INVENTORY_SUPPLY.name)} group by seller_sku) s "
            f"left join {sql_table(entry, INVENTORY_SUPPLY_CURRENT.name)} c using (seller_sku) "
            f"where c.seller_sku is null or c.last_updated_time < s.newest"
        ).item()
        return dg.AssetCheckResult(passed=behind == 0, metadata={"skus_behind_snapshot": int(behind)})

    return TableCheck(dg.AssetCheckSpec("inventory_supply_current_up_to_date",
                                        asset=asset_key(entry, INVENTORY_SUPPLY_CURRENT.name), blocking=False,
                                        description=f"every SKU of {current} is at least as new as its newest row "
                                                    f"in {snapshot}"),
                      evaluate)


def inventory_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The checks of each inventory table, by table name."""
    return {INVENTORY_SUPPLY.name: [primary_key(entry, INVENTORY_SUPPLY)],
            INVENTORY_SUPPLY_CURRENT.name: [primary_key(entry, INVENTORY_SUPPLY_CURRENT), current_not_older(entry)]}


def build_inventory_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their assets' steps (all of them with ``checks_in_step=False``)."""
    return separate_steps(inventory_table_checks(entry), checks_in_step)
