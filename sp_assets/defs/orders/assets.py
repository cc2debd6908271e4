"""Orders, order items and their upserts, per marketplace, and their checks.

======================  ===========================================  ===================================
asset                   the seed's report                            write
======================  ===========================================  ===================================
``orders``              Order Details                                partition replace (by local day)
``order_items``         Order Items / List Order Items By Input      partition replace: the items of the
                        Dataset (the input dataset is ``orders``)    partition's orders
``orders_upsert``       Orders - List Orders - Upsert                merge by order id, never regressing
``order_items_upsert``  Orders - List Order Items Upsert             merge by (order id, item id)
======================  ===========================================  ===================================

Each pair (orders and its items) is one subsettable multi-asset, so the lineage still shows items
depending on orders, and under Orders v2026-01-01 one paged searchOrders pass fills both tables:
Amazon is never asked twice for a window. When a run writes both tables it writes them in ONE
warehouse transaction (``Warehouse.replace_partitions`` / ``merge_together``), so a reader never sees
a day's orders without their items, even if the run dies in between. Under v0 the items come from one getOrderItems call per
order (of this run's fetch, or of the ``orders`` table when only the items are materialized). Each run
reads the API first (pages, then records, then one polars frame per table) and then writes.

``order_items_source: report`` (per marketplace) is the bulk path for large backfills: ``order_items``
becomes its own asset, built from the partition day's GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL
report (one createReport per day instead of one getOrderItems call per order), resumed after a crash
like every report asset (``defs/reports/runner.py``). It still depends on ``orders`` but reads nothing
from it, and it runs in the reports pool (``sp_api__<account>__reports``), so waiting for Amazon never
holds the orders pool. The columns that differ from the API path are listed in
``lib/orders.py::order_items_from_report_sql``, the SELECT that builds them inside DuckDB from the
file. ``build_orders_assets`` then returns the orders multi-asset (orders only), the upserts, and the
items asset, in that order.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import polars as pl

from sp_assets.defs.checks import (
    ChecksByTable,
    TableCheck,
    in_step,
    materialized_then_checked,
    primary_key,
    results_in_step,
    separate_steps,
    specs_of,
)
from sp_assets.defs.common import (
    MERGE_BY_KEY,
    PARTITION_REPLACE,
    ROLLING,
    asset_key,
    asset_kwargs,
    asset_spec_kwargs,
    describe,
    fail_fast,
    local_dates,
    multi_asset_kwargs,
    per_partition,
    rows_by_partition,
    run_metadata,
    sp_client,
    sql_table,
    warehouse_of,
)
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.freshness import row_count_anomaly
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.reports import runner
from sp_assets.defs.rest_support import FetchStage
from sp_assets.lib.orders import (
    ORDER_ITEMS,
    ORDER_ITEMS_UPSERT,
    ORDERS,
    ORDERS_UPSERT,
    ReportFileSql,
    fetch_item_rows,
    fetch_order_rows,
    fetch_orders_with_items_2026,
    fetch_orders_with_items_v0,
    order_items_from_report_sql,
)
from sp_assets.lib.reports import catalog
from sp_assets.lib.tablespec import TableSpec, frame_from_records
from sp_assets.lib.warehouse import (
    Warehouse,
    WarehouseBusyError,
    WarehouseError,
    WarehouseLockTimeout,
    WriteResult,
)
from sp_assets.lib.warehouse.delimited import file_relation

DESCRIPTIONS = {
    "orders": describe(
        "One row per order created on the partition's day (or last updated on it), with its status and totals.",
        "Order Details",
        "From Orders v2026-01-01 searchOrders or v0 getOrders (`orders_api`); the day is the order's creation "
        "day, or its last update with `query_date_type: last_updated`. Write mode: **partition replace** "
        "(materializing a day twice never duplicates a row)."),
    "order_items": describe(
        "One row per item of the orders of the partition's day: SKU, quantity, prices, taxes and promotions.",
        "Order Items",
        "Also replaces **List Order Items By Input Dataset** (the input dataset is `orders`). Under v2026 the "
        "items come in the same searchOrders pages as the orders; under v0 from getOrderItems per order. "
        "Write mode: **partition replace**."),
    "order_items_report": describe(
        "One row per item of the orders purchased on the partition's day, from Amazon's all-orders report.",
        "Order Items",
        "From the GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL report (`order_items_source: report`; "
        "order_item_id is synthesized as `sku:<sku>`, see lib/orders.py). Write mode: **partition replace**."),
    "orders_upsert": describe(
        "The latest state of every order updated in the window, one row per order.",
        "Orders - List Orders - Upsert",
        "searchOrders (or v0 getOrders with `orders_api: v0`) by last update, up to now minus 15 minutes. "
        "Write mode: **merge** by order id; a row is never replaced by one with an older last_update_date."),
    "order_items_upsert": describe(
        "The latest state of every item of the orders updated in the window, one row per order item.",
        "Orders - List Order Items Upsert",
        "The same searchOrders pages (v0: getOrderItems per order). Write mode: **merge** by (order id, item "
        "id), never regressing."),
}

_TABLES = {spec.name: spec for spec in (ORDERS, ORDER_ITEMS, ORDERS_UPSERT, ORDER_ITEMS_UPSERT)}


def _spec(entry: MarketplaceConfig, name: str, deps: tuple[str, ...] = ()) -> dg.AssetSpec:
    return dg.AssetSpec(**asset_spec_kwargs(entry, name, ROLLING, DESCRIPTIONS[name], table=_TABLES[name],
                                            domain="orders"), skippable=True,
                        deps=[asset_key(entry, d) for d in deps])


def _orders_in(context: dg.AssetExecutionContext, entry: MarketplaceConfig, table: str, column: str,
               first: Any, last: Any) -> list[dict[str, Any]]:
    """The order rows an items-only run needs, read from the orders table in DuckDB."""
    warehouse = warehouse_of(context)
    if not warehouse.table_exists(entry.code, table):
        return []
    return warehouse.query(
        f"select amazon_order_id, partition_date, purchase_date, last_update_date, order_status "
        f"from {sql_table(entry, table)} where {column} >= ? and {column} < ? order by amazon_order_id",
        [first, last],
    ).to_dicts()


def build_orders_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """The two order multi-assets of one marketplace: (orders, order_items) and their upserts.

    Their checks run in their step, each table's right after its write (``checks_in_step=False``
    builds them without, for ``build_orders_checks(checks_in_step=False)``: the separate check steps
    of the old layout, kept for the orchestration benchmark's comparison).
    """
    op_kwargs = dict(can_subset=True, **multi_asset_kwargs(entry, "orders", ROLLING))
    checks = in_step(orders_table_checks(entry), checks_in_step)

    def check_specs(*tables: str) -> list[dg.AssetCheckSpec]:
        return specs_of(check for table in tables for check in checks.get(table, ()))

    def fetch(context: dg.AssetExecutionContext, start: datetime, end: datetime, by: str, want_items: bool,
              table: str, column: str, first: Any, last: Any) -> tuple[list | None, list | None]:
        """Order rows (None when not selected) and item rows (None when not selected)."""
        client = sp_client(context, entry)
        want_orders = asset_key(entry, table) in context.selected_asset_keys
        if entry.orders_api == "2026-01-01":
            both = fetch_orders_with_items_2026(
                client, entry.marketplace_id, entry.timezone, start, end, by=by, statuses=entry.order_statuses,
                include_pii=entry.include_pii)
            return (both[0] if want_orders else None), (both[1] if want_items else None)
        if want_orders and want_items:  # both: the item calls run while the order pages come in
            return fetch_orders_with_items_v0(
                client, entry.marketplace_id, entry.timezone, start, end, by=by, statuses=entry.order_statuses,
                include_pii=entry.include_pii)
        orders: list[dict[str, Any]] | None = None
        if want_orders:
            orders = fetch_order_rows(client, entry.marketplace_id, entry.timezone, start, end, by=by,
                                      statuses=entry.order_statuses, include_pii=entry.include_pii)
        items: list[dict[str, Any]] | None = None
        if want_items:
            source = orders if orders is not None else _orders_in(context, entry, table, column, first, last)
            items = fetch_item_rows(client, source)
        return orders, items

    def materialized(context: dg.AssetExecutionContext, name: str, spec: TableSpec, frame: pl.DataFrame,
                     result: WriteResult, start: datetime, end: datetime, api: dict, **extra: Any
                     ) -> dg.MaterializeResult:
        key = asset_key(entry, name)
        metadata = run_metadata(
            rows=frame.height, start=start, end=end, api=api, frame=frame, orders_api=entry.orders_api,
            write=dg.MetadataValue.json(result.as_metadata()), table=f"{entry.code}.{spec.name}",
            write_mode=PARTITION_REPLACE if spec.partition_column else MERGE_BY_KEY, **extra)
        # Each partition of a backfill chunk gets its own day's count, window, preview and write.
        return dg.MaterializeResult(asset_key=key, metadata=per_partition(
            context, key, metadata, rows=rows_by_partition(frame, spec.partition_column), frame=frame,
            partition_column=spec.partition_column))

    def write_one(context: dg.AssetExecutionContext, spec: TableSpec, name: str, frame: pl.DataFrame,
                  start: datetime, end: datetime, replace: tuple[date, date] | None, api: dict,
                  **extra: Any) -> dg.MaterializeResult:
        warehouse = warehouse_of(context)
        if replace is not None:
            result = warehouse.replace_partition(entry.code, spec, frame, replace[0], replace[1])
        else:
            result = warehouse.merge(entry.code, spec, frame)
        return materialized(context, name, spec, frame, result, start, end, api, **extra)

    def write_both(context: dg.AssetExecutionContext, names: tuple[str, str], specs: tuple[TableSpec, TableSpec],
                   frames: tuple[pl.DataFrame, pl.DataFrame], start: datetime, end: datetime,
                   replace: tuple[date, date] | None, api: dict, **extra: Any) -> list[dg.MaterializeResult]:
        """Orders and their items in ONE transaction: a reader never sees the orders without the items."""
        warehouse = warehouse_of(context)
        if replace is not None:
            results = warehouse.replace_partitions(
                entry.code, [(spec, frame, replace[0], replace[1]) for spec, frame in zip(specs, frames, strict=True)])
        else:
            results = warehouse.merge_together(entry.code, list(zip(specs, frames, strict=True)))
        return [materialized(context, name, spec, frame, result, start, end, table_api, **extra)
                for name, spec, frame, result, table_api in zip(names, specs, frames, results, (api, {}), strict=True)]

    def fetch_frames(context: dg.AssetExecutionContext, names: tuple[str, str], specs: tuple[TableSpec, TableSpec],
                     start: datetime, end: datetime, by: str, column: str, lo: Any, hi: Any
                     ) -> tuple[dict[str, pl.DataFrame], dict]:
        """The selected tables' frames by name, and the API calls that fetched them."""
        client = sp_client(context, entry)
        before = client.stats.snapshot()
        want_items = asset_key(entry, names[1]) in context.selected_asset_keys
        orders, items = fetch(context, start, end, by, want_items, names[0], column, lo, hi)
        frames = {name: frame_from_records(spec, rows)
                  for name, spec, rows in zip(names, specs, (orders, items), strict=True) if rows is not None}
        return frames, client.stats.since(before).as_dict()

    def run_pair(context: dg.AssetExecutionContext, names: tuple[str, str], specs: tuple[TableSpec, TableSpec],
                 by: str, replace: bool):
        start, end = utc_window(context)
        first, last = local_dates(entry, start, end)
        # The items of an upsert window are the items of the orders updated in it.
        column, lo, hi = ("partition_date", first, last) if replace else ("last_update_date", start, end)
        sp_client(context, entry)  # credentials are checked before anything, even when the stage is reused
        selected = [name for name in names if asset_key(entry, name) in context.selected_asset_keys]
        # A retry after a failed write (the DuckDB file locked) writes what the failed attempt fetched.
        stage = FetchStage(context, entry, selected, by=by, window=[start, end])
        frames, api = stage.fetched(lambda: fetch_frames(context, names, specs, start, end, by, column, lo, hi))
        reuse = stage.metadata()
        window = (first, last) if replace else None
        if len(frames) == 2:
            both = write_both(context, names, specs, (frames[names[0]], frames[names[1]]), start, end, window, api,
                              **reuse)
            stage.written()
            yield from both
            for name in names:  # both tables are written: their checks run after the one commit
                yield from results_in_step(context, checks.get(name, ()))
            return
        ((name, frame),) = frames.items()  # one table selected
        one = write_one(context, specs[names.index(name)], name, frame, start, end, window, api, **reuse)
        stage.written()
        yield one
        yield from results_in_step(context, checks.get(name, ()))

    from_report = entry.order_items_source == "report"
    pair_specs = [_spec(entry, "orders")] if from_report else [_spec(entry, "orders"),
                                                               _spec(entry, "order_items", deps=("orders",))]

    @dg.multi_asset(name=f"{entry.code}_orders", specs=pair_specs,
                    check_specs=check_specs("orders", *([] if from_report else ["order_items"])), **op_kwargs)
    @fail_fast(entry)
    def orders_and_items(context: dg.AssetExecutionContext):
        yield from run_pair(context, ("orders", "order_items"), (ORDERS, ORDER_ITEMS), entry.query_date_type, True)

    @dg.multi_asset(name=f"{entry.code}_orders_upsert",
                    specs=[_spec(entry, "orders_upsert"), _spec(entry, "order_items_upsert", deps=("orders_upsert",))],
                    check_specs=check_specs("orders_upsert", "order_items_upsert"), **op_kwargs)
    @fail_fast(entry)
    def upserts(context: dg.AssetExecutionContext):
        yield from run_pair(context, ("orders_upsert", "order_items_upsert"), (ORDERS_UPSERT, ORDER_ITEMS_UPSERT),
                            "last_updated", False)

    if from_report:
        return [orders_and_items, upserts, build_order_items_from_report(entry, checks.get("order_items", []))]
    return [orders_and_items, upserts]


def build_order_items_from_report(entry: MarketplaceConfig, checks: list[TableCheck]) -> dg.AssetsDefinition:
    """``order_items`` from the all-orders report of each partition day (``order_items_source: report``);
    its ``checks`` run in its step after the write.

    The flat file is read literally (no quote character): Amazon does not quote, and a product name
    may start with a double quote.
    """
    all_orders = catalog.lookup(catalog.ALL_ORDERS_BY_ORDER_DATE)

    @dg.asset(deps=[asset_key(entry, "orders")], check_specs=specs_of(checks), **asset_kwargs(entry, "order_items", "reports", ROLLING,
                                                                 DESCRIPTIONS["order_items_report"],
                                                                 table=ORDER_ITEMS, domain="orders"))
    @fail_fast(entry)
    def order_items(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        start, end = utc_window(context)
        first, last = local_dates(entry, start, end)
        client = sp_client(context, entry)
        before = client.stats.snapshot()
        now = datetime.now(UTC)
        days = runner.day_requests(entry, all_orders, {}, context.partition_keys, now)
        results = runner.fetch_or_stop(context, client, days, poll=runner.poll_policy(entry, all_orders, now),
                                       what=f"{entry.code}/order_items (report)")
        warehouse = warehouse_of(context)
        try:
            written, rows_per_day, sample = _write_report_items(warehouse, entry, all_orders, results, first, last)
            runner.mark_consumed(client, results)
        finally:
            runner.cleanup(results)
        metadata = run_metadata(rows=written.rows, start=start, end=end, api=client.stats.since(before).as_dict(),
                                frame=sample, orders_api=entry.orders_api, write_mode=PARTITION_REPLACE,
                                write=dg.MetadataValue.json(written.as_metadata()),
                                table=f"{entry.code}.{ORDER_ITEMS.name}")
        metadata.update(runner.report_metadata(results, rows_per_day))
        metadata["order_items_source"] = "report"
        # Each partition of a multi-day run: its own rows, preview, window and report (``per_partition``).
        metadata = per_partition(context, asset_key(entry, "order_items"), metadata, rows=rows_per_day,
                                 frame=sample, partition_column="partition_date",
                                 extra=runner.day_metadata(results))
        yield from materialized_then_checked(context, dg.MaterializeResult(metadata=metadata), checks)

    return order_items


def _write_report_items(warehouse: Warehouse, entry: MarketplaceConfig, report: catalog.ReportType,
                        results: list[runner.DayResult], first: date, last: date
                        ) -> tuple[WriteResult, dict[date, int], pl.DataFrame]:
    """The days' all-orders files into ``order_items`` (replacing ``[first, last)``) inside DuckDB, then
    the rows written per day and a few of them for the preview.

    DuckDB reads the files and builds the rows in one INSERT (``order_items_from_report_sql``): a
    500k-row report never becomes Python rows. A day without data (CANCELLED) contributes no file, and
    with no file at all the window is just cleared.
    """
    files = []
    for result in results:
        if result.has_data and result.outcome is not None and result.outcome.path is not None:
            columns, relation = file_relation(result.outcome.path, quote=None)
            files.append(ReportFileSql(f"{result.outcome.report_id} ({result.day.day})", tuple(columns), relation))
    what = f"{entry.code}/order_items from the all-orders report"
    select = order_items_from_report_sql(files, entry.timezone, report.text_formats(entry.marketplace.code)[0])
    try:
        written = warehouse.replace_partition_from_sql(entry.code, ORDER_ITEMS, select, first, last, what=what,
                                                       note=f"{report.name} ({len(files)} file(s))")
    except (WarehouseLockTimeout, WarehouseBusyError):
        raise  # another writer held the database: transient, the retry policy applies
    except WarehouseError as error:  # the document itself: a retry would read the same file again
        raise dg.Failure(description=(
            f"{what}: loading report(s) {', '.join(file.label for file in files)} failed; nothing was written for "
            f"{first}..{last - timedelta(days=1)} and the reports stay in the ledger (a relaunch loads them again "
            f"without a new request). {error}"), allow_retries=False) from None
    table = sql_table(entry, ORDER_ITEMS.name)
    counts = warehouse.query(f"select partition_date, count(*) as n from {table} where partition_date >= ? "
                             f"and partition_date < ? group by partition_date", [first, last])
    sample = warehouse.query(f"select * from {table} where partition_date >= ? and partition_date < ? "
                             f"qualify row_number() over (partition by partition_date) <= 5", [first, last])
    return written, dict(zip(counts["partition_date"].to_list(), counts["n"].to_list(), strict=True)), sample


# ------------------------------------------------------------------------------------------ checks
def items_reference_orders(entry: MarketplaceConfig, items_table: str, orders_table: str) -> TableCheck:
    """``<items>_reference_<orders>``: every item row belongs to an order of its orders table."""

    def evaluate(warehouse: Warehouse) -> dg.AssetCheckResult:
        if not warehouse.table_exists(entry.code, items_table):
            return dg.AssetCheckResult(passed=True, metadata={"orphans": 0, "note": "table not created yet"})
        if not warehouse.table_exists(entry.code, orders_table):
            return dg.AssetCheckResult(passed=False, metadata={"note": f"{orders_table} does not exist"})
        orphans = warehouse.query(
            f"select count(*) as n from {sql_table(entry, items_table)} i where not exists "
            f"(select 1 from {sql_table(entry, orders_table)} o where o.amazon_order_id = i.amazon_order_id)"
        ).item()
        return dg.AssetCheckResult(passed=orphans == 0, metadata={"orphan_items": int(orphans)})

    return TableCheck(dg.AssetCheckSpec(f"{items_table}_reference_{orders_table}", asset=asset_key(entry, items_table),
                                        blocking=True,
                                        description=f"every row of {entry.code}.{items_table} belongs to an order "
                                                    f"in {entry.code}.{orders_table}"),
                      evaluate)


def orders_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The checks of each order table, by table name."""
    return {
        "orders": [primary_key(entry, ORDERS), row_count_anomaly(entry, "orders")],
        "order_items": [primary_key(entry, ORDER_ITEMS), items_reference_orders(entry, "order_items", "orders"),
                        row_count_anomaly(entry, "order_items")],
        "orders_upsert": [primary_key(entry, ORDERS_UPSERT)],
        "order_items_upsert": [primary_key(entry, ORDER_ITEMS_UPSERT),
                               items_reference_orders(entry, "order_items_upsert", "orders_upsert")],
    }


def build_orders_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their assets' steps (all of them with ``checks_in_step=False``)."""
    return separate_steps(orders_table_checks(entry), checks_in_step)
