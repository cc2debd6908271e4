"""The marts as Dagster assets: ``["marts", <table>]`` in group ``marts``, downstream of the raw assets they read.

The marts span marketplaces, so they are built once per code location (not per marketplace, unlike
every other domain): ``build_marts`` is called by ``marketplace_factory.project_definitions`` with the
assets of every marketplace it builds, and a mart depends on exactly the raw assets that exist. Every
row carries its ``account`` (the ``amazon.*`` views' value), part of every mart's key. A location of
a group of accounts (``SP_ASSETS_ACCOUNTS``) builds its accounts' marts as ``["marts", <group>,
<table>]`` into the same tables, replacing and checking only its accounts' rows (``Scope``). The finances
assets (``[<code>, "financial_events"]``, ``[<code>, "financial_event_groups"]``) are read when they
are defined, so the lineage and the SQL pick them up as soon as that domain is merged; the storage
fee report only where a marketplace configures it.

**Partitions.** ``sku_daily_profit``, ``marketplace_daily`` and ``inventory_cover`` have a day grain:
they are partitioned by day (calendar keys from the earliest ``start_date`` to UTC tomorrow; the key is
the same date string as the marketplaces' local-day partitions, mapped one to one), so rebuilding a day is a
partition run, and a backfill of raw days rebuilds those days. ``returns`` (monthly grain, months
span partitions) and ``settlement_reconciliation`` (settlement periods) are rebuilt whole.

**Refresh: an automation condition, not the schedules.** Each marketplace's schedule runs its own
job at its own local hour, and a job cannot hold assets of two partitions definitions, so the marts
cannot join those jobs. Instead every mart rebuilds the partitions whose upstream partitions were
materialized since it was last handled (raw schedule, backfill, or a manual run), once no upstream
is in progress; the sensor ``marts_automation`` (running by default) evaluates it. ``fx_rates`` is
loaded when missing; after editing the CSV, materialize ``marts/fx_rates`` (then the marts whose
rates were missing).

Checks run in the asset's step, after the build: keys unique and not null, no negative units, a
rate for every day (``fx_rate``), roll-up equal to its SKU rows, settlement difference zero.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any

import dagster as dg

from sp_assets.defs.checks import TableCheck, materialized_then_checked, specs_of
from sp_assets.defs.common import (
    DOMAIN_TAG,
    LOCAL_KINDS,
    PARTITION_REPLACE,
    RETRY,
    TABLE_REPLACE,
    code_version,
    column_schema,
    describe,
    per_partition,
    preview,
    timestamp,
    warehouse_of,
)
from sp_assets.defs.config import ProjectConfig
from sp_assets.defs.resources import data_source
from sp_assets.lib.marts import FX_RATES, MARTS_SCHEMA, MODELS, MartError, Model, Source, build, load_fx_rates
from sp_assets.lib.reports import catalog
from sp_assets.lib.tablespec import TableSpec
from sp_assets.lib.warehouse import Warehouse
from sp_assets.lib.warehouse.sql import literal
from sp_assets.lib.warehouse.views import ACCOUNT_COLUMN, origin

GROUP = "marts"
DOMAIN = "marts"  # the UI's domain filter (``sp_assets/domain``): the modelled layer over every marketplace
# What each mart's table holds, as the first line of its description (plain text: the catalog list shows it).
HOLDS: dict[str, str] = {
    FX_RATES.name: "Exchange rates to the reporting currency, each holding from its date until the currency's next.",
    "sku_daily_profit": "Units, sales, fees, refunds and net proceeds per account, marketplace, SKU and local day, "
                        "in the marketplace's and the reporting currency.",
    "marketplace_daily": "Net proceeds per account, marketplace and day: the SKU daily profit summed over SKUs, in "
                         "both currencies.",
    "inventory_cover": "FBA stock per account, marketplace, SKU and snapshot day, with the demand of the last 7 and "
                       "30 days and days of cover.",
    "returns": "Units sold and returned per account, marketplace, SKU and month, with the return rate and top "
               "reasons.",
    "settlement_reconciliation": "Each settlement's report total against the sum of its financial events, and the "
                                 "difference.",
}
AUTOMATION_SENSOR = "marts_automation"
# Which raw table each input is: a fixed asset name, or the table a marketplace configures for a report type.
INPUT_TABLES: dict[str, str] = {
    "financial_events": "financial_events",
    "financial_event_groups": "financial_event_groups",
    "order_items": "order_items",
}
INPUT_REPORTS: dict[str, str] = {
    "fba_inventory": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
    "customer_returns": "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
    "settlements": catalog.SETTLEMENT_V2,
    "storage_fees": catalog.STORAGE_FEES,
    "ledger_summary": catalog.LEDGER_SUMMARY,
}


@dataclass(frozen=True)
class Scope:
    """Whose rows a code location's marts build. Every account (``group`` None, the location without
    ``SP_ASSETS_ACCOUNTS``): keys ``["marts", <table>]``, every row of each table. A group of accounts
    (``SP_ASSETS_ACCOUNTS=acme,brandco``): keys ``["marts", <group>, <table>]`` (``group``: the first
    account named, unique across locations since no account is in two groups), and only the rows of
    ``accounts`` (the views' ``account`` values), so every location writes the same ``marts.<table>``
    without replacing or checking another group's rows."""

    group: str | None = None
    accounts: tuple[str, ...] | None = None

    def key(self, name: str) -> dg.AssetKey:
        return dg.AssetKey([MARTS_SCHEMA, name] if self.group is None else [MARTS_SCHEMA, self.group, name])

    def relation(self, name: str) -> str:
        """The SQL relation of the scope's rows of ``marts.<name>`` (``fx_rates``, of no account: whole)."""
        table = f"{MARTS_SCHEMA}.{name}"
        if self.accounts is None or name == FX_RATES.name:
            return table
        listed = ", ".join(literal(account) for account in self.accounts)
        return f"(select * from {table} where {ACCOUNT_COLUMN} in ({listed}))"


EVERY_ACCOUNT = Scope()


def group_scope(config: ProjectConfig, accounts: Sequence[str]) -> Scope:
    """The scope of a location building ``accounts`` (``config``: already narrowed to them)."""
    return Scope(accounts[0], tuple(dict.fromkeys(origin(entry.code)[0] for entry in config.marketplaces)))


def mart_key(name: str, scope: Scope = EVERY_ACCOUNT) -> dg.AssetKey:
    return scope.key(name)


@cache
def _daily(start: str) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start, timezone="UTC", end_offset=2)


def mart_partitions(config: ProjectConfig) -> dg.DailyPartitionsDefinition:
    """One day a key, from the earliest marketplace's start; the keys are the raw partitions' keys.

    Keys run to UTC tomorrow (``end_offset=2``): a marketplace east of UTC (Japan, +9) is already on
    tomorrow's local day for part of the UTC day, and its today partition must have a mart day to map to.
    """
    return _daily(min(entry.start_date for entry in config.marketplaces).isoformat())


def input_sources(config: ProjectConfig, existing: set[dg.AssetKey]) -> dict[str, list[Source]]:
    """Per input, the marketplaces' tables whose asset is defined (so: loaded by this code location)."""
    found: dict[str, list[Source]] = {}
    for entry in config.marketplaces:
        report_tables = {report.report_type: report.table for report in entry.reports}
        for name in (*INPUT_TABLES, *INPUT_REPORTS):
            table = INPUT_TABLES.get(name) or report_tables.get(INPUT_REPORTS[name])
            if table is not None and dg.AssetKey([entry.code, table]) in existing:
                found.setdefault(name, []).append(Source(entry.code, table))
    return found


# ---------------------------------------------------------------------------------------------- checks
def _check(key: dg.AssetKey, model: str, name: str, description: str, sql: str, *, blocking: bool = True,
           explain: str = "") -> TableCheck:
    """A check that passes when ``sql`` (``select count(*) as bad, ... as sample``) finds no bad row."""

    def evaluate(warehouse: Warehouse) -> dg.AssetCheckResult:
        row = warehouse.query(sql).row(0, named=True)
        bad = int(row["bad"] or 0)
        metadata: dict[str, Any] = {"failing_rows": bad}
        if bad:
            metadata["sample"] = str(row.get("sample") or "")
            if explain:
                metadata["what_to_do"] = explain
        return dg.AssetCheckResult(passed=bad == 0, metadata=metadata)

    return TableCheck(dg.AssetCheckSpec(f"{model}_{name}", asset=key, blocking=blocking,
                                        description=description), evaluate)


def _key_check(scope: Scope, spec: TableSpec) -> TableCheck:
    key = ", ".join(spec.primary_key)
    nulls = " or ".join(f"{column} is null" for column in spec.primary_key)
    return _check(scope.key(spec.name), spec.name, "key", f"({key}) is unique and never null in marts.{spec.name}.",
                  f"select (count(*) - count(distinct ({key}))) + count(*) filter (where {nulls}) as bad, "
                  f"null as sample from {scope.relation(spec.name)}")


def _not_negative(scope: Scope, spec: TableSpec, columns: Sequence[str]) -> TableCheck:
    negative = " or ".join(f"{column} < 0" for column in columns)
    key = " || ' ' || ".join(f"coalesce({c}::varchar, '')" for c in spec.primary_key)
    return _check(scope.key(spec.name), spec.name, "no_negative_units",
                  f"{', '.join(columns)} never negative in marts.{spec.name}.",
                  f"select count(*) filter (where {negative}) as bad, "
                  f"string_agg({key}, '; ') filter (where {negative}) as sample from {scope.relation(spec.name)}")


def _fx_check(scope: Scope, spec: TableSpec) -> TableCheck:
    return _check(scope.key(spec.name), spec.name, "fx_rate",
                  "Every row has a rate to the reporting currency (a day before a currency's first rate in "
                  "marts.fx_rates fails, naming the currency and days; never a silent null or a rate of 1).",
                  f"select count(*) filter (where fx_rate is null) as bad, "
                  f"string_agg(distinct currency || ' ' || day::varchar, ', ' order by currency || ' ' || day::varchar)"
                  f" filter (where fx_rate is null) as sample from {scope.relation(spec.name)}",
                  explain="add a rate on or before these days to the fx_rates CSV (date,currency,rate), "
                          f"materialize {scope.key(FX_RATES.name).to_user_string()}, then these mart partitions "
                          "again")


def fx_checks(scope: Scope = EVERY_ACCOUNT) -> list[TableCheck]:
    return [_key_check(scope, FX_RATES)]


def mart_checks(scope: Scope = EVERY_ACCOUNT) -> dict[str, list[TableCheck]]:
    """Each mart's checks, over the scope's rows only (a group's location never fails on another's rows)."""
    spec = {name: model.spec for name, model in MODELS.items()}
    daily, profit = scope.relation("marketplace_daily"), scope.relation("sku_daily_profit")
    settlements = scope.relation("settlement_reconciliation")
    return {
        "sku_daily_profit": [_key_check(scope, spec["sku_daily_profit"]),
                             _not_negative(scope, spec["sku_daily_profit"], ["units"]),
                             _fx_check(scope, spec["sku_daily_profit"])],
        "marketplace_daily": [
            _key_check(scope, spec["marketplace_daily"]),
            _not_negative(scope, spec["marketplace_daily"], ["units"]),
            _fx_check(scope, spec["marketplace_daily"]),
            _check(scope.key("marketplace_daily"), "marketplace_daily", "matches_sku_rows",
                   "net_proceeds and net_proceeds_rc of each account, marketplace and day equal the sum of its "
                   "marts.sku_daily_profit rows.",
                   "select count(*) as bad, string_agg(account || ' ' || marketplace || ' ' || day::varchar, ', ') "
                   "as sample from (select account, marketplace, day, net_proceeds, net_proceeds_rc from "
                   f"{daily}) m full join (select account, marketplace, day, sum(net_proceeds) as s, "
                   f"sum(net_proceeds_rc) as s_rc from {profit} group by all) s using (account, marketplace, day) "
                   "where m.net_proceeds is distinct from s.s or m.net_proceeds_rc is distinct from s.s_rc")],
        "inventory_cover": [_key_check(scope, spec["inventory_cover"]),
                            _not_negative(scope, spec["inventory_cover"], ["available", "inbound", "reserved"])],
        "returns": [_key_check(scope, spec["returns"]),
                    _not_negative(scope, spec["returns"], ["units_sold", "units_returned"])],
        "settlement_reconciliation": [
            _key_check(scope, spec["settlement_reconciliation"]),
            _check(scope.key("settlement_reconciliation"), "settlement_reconciliation", "difference_zero",
                   "Every closed settlement whose report is loaded: the report's total equals the sum of its "
                   "financial events to the cent.",
                   "select count(*) filter (where difference <> 0) as bad, string_agg(account || ' ' || marketplace "
                   "|| ' ' || settlement_id || ': ' || difference::varchar, ', ') filter (where difference <> 0) "
                   f"as sample from {settlements} where processing_status = 'Closed'")],
    }


# ---------------------------------------------------------------------------------------------- assets
def _automation(ignored: Sequence[dg.AssetKey]) -> dg.AutomationCondition:
    """Rebuild the partitions whose upstream was materialized since last handled, once none is running.

    Unlike ``eager()`` it is not limited to the latest day, so a backfill of old raw days rebuilds them.
    """
    updated = dg.AutomationCondition.any_deps_updated()
    if ignored:
        updated = updated.ignore(dg.AssetSelection.assets(*ignored))
    return (updated.since_last_handled() & ~dg.AutomationCondition.any_deps_in_progress()
            & ~dg.AutomationCondition.in_progress()).with_label("upstream updated")


@dataclass(frozen=True)
class _Wiring:
    config: ProjectConfig
    scope: Scope
    sources: dict[str, list[Source]]
    partitions: dg.DailyPartitionsDefinition
    partitions_of: Mapping[dg.AssetKey, dg.PartitionsDefinition | None]


def _deps(model: Model, wiring: _Wiring) -> list[dg.AssetDep]:
    deps = []
    for name in model.inputs:
        for source in wiring.sources.get(name, ()):
            key = dg.AssetKey([source.marketplace, source.table])
            upstream = wiring.partitions_of.get(key)
            mapping: dg.PartitionMapping | None = None
            if model.day_column is not None and isinstance(upstream, dg.DailyPartitionsDefinition):
                mapping = dg.IdentityPartitionMapping()  # same date keys, the marketplace's local day
            elif model.day_column is not None and upstream is not None:
                mapping = dg.AllPartitionMapping()  # monthly storage fees: spread over every day
            deps.append(dg.AssetDep(key, partition_mapping=mapping))
    for name in model.marts:
        deps.append(dg.AssetDep(wiring.scope.key(name)))
    return deps


def _owners(config: ProjectConfig) -> list[str]:
    """A mart spans every marketplace, so every marketplace's owners own it (in configuration order)."""
    return list(dict.fromkeys(owner for entry in config.marketplaces for owner in entry.owners))


def _spec_kwargs(config: ProjectConfig, scope: Scope, spec: TableSpec, description: str) -> dict[str, Any]:
    """What a mart *is*, as ``common.asset_spec_kwargs`` says it for a marketplace's asset: group, kinds
    (DuckDB and Python, no ``amazon``: a mart reads DuckDB alone), owners, domain tag, table name, column
    schema and the code version derived from it. No refresh tag: the schedules must not select a mart
    (its automation condition refreshes it)."""
    schema = column_schema(spec)
    return dict(key=scope.key(spec.name), group_name=GROUP, kinds=set(LOCAL_KINDS), owners=_owners(config),
                tags={DOMAIN_TAG: DOMAIN}, description=description, code_version=code_version(schema),
                metadata={"dagster/column_schema": schema, "dagster/table_name": f"{MARTS_SCHEMA}.{spec.name}"})


def _description(model: Model, wiring: _Wiring) -> str:
    """What it holds, what it replaces (nothing: Domo has no modelled layer), grain and sources (the
    spec's), the asset it is derived from, its write mode."""
    wired = [source.table for name in model.inputs for source in wiring.sources.get(name, ())]
    first = (wired or list(model.marts) or list(model.inputs))[0]
    mode = (f"{PARTITION_REPLACE} (the partition's days, in one transaction)" if model.day_column
            else f"{TABLE_REPLACE} (every row, in one transaction)")
    if wiring.scope.accounts is not None:
        mode += f", of the rows of account {', '.join(wiring.scope.accounts)} only (this group's location)"
    return describe(HOLDS[model.name], None,
                    f"{model.spec.description} Derived from `{first}` and the other inputs in its lineage, by the "
                    f"SQL in sp_assets/lib/marts/models/{model.name}.sql. Write mode: **{mode}**.")


def _mart_asset(model: Model, wiring: _Wiring, checks: list[TableCheck]) -> dg.AssetsDefinition:
    daily = model.day_column is not None
    config, scope = wiring.config, wiring.scope

    spec_kwargs = _spec_kwargs(config, scope, model.spec, _description(model, wiring))
    spec_kwargs["metadata"]["grain"] = ", ".join(model.spec.primary_key)

    @dg.asset(
        **spec_kwargs,
        deps=_deps(model, wiring),
        partitions_def=wiring.partitions if daily else None,
        backfill_policy=dg.BackfillPolicy.single_run() if daily else None,
        check_specs=specs_of(checks),
        automation_condition=_automation([scope.key(FX_RATES.name)] if FX_RATES.name in model.marts else []),
        retry_policy=RETRY,
        required_resource_keys={"warehouse"},
    )
    def mart(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        start: date | None = None
        end: date | None = None
        if daily:
            window = context.partition_time_window
            start, end = window.start.date(), window.end.date()
        warehouse = warehouse_of(context)
        try:
            result = build(warehouse, model, wiring.sources, reporting_currency=config.reporting_currency,
                           start=start, end=end, accounts=scope.accounts)
        except MartError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
        table = scope.relation(model.name)
        metadata: dict[str, Any] = {
            "dagster/row_count": result.rows, "rows_replaced": result.deleted,
            "inputs": dg.MetadataValue.json(result.sources), "reporting_currency": config.reporting_currency,
            "source": data_source(), "write_mode": PARTITION_REPLACE if daily else TABLE_REPLACE,
        }
        if start is None or end is None or model.day_column is None:
            metadata["preview"] = preview(warehouse.query(f"select * from {table} limit 5"))
            yield from materialized_then_checked(context, dg.MaterializeResult(metadata=metadata), checks)
            return
        day = model.day_column
        where = f"where {day} >= '{start}' and {day} < '{end}'"  # {table}: the scope's rows (a subquery)
        # the first rows of each day (a preview per partition) and what each day holds after the build
        sample = warehouse.query(f"select * from {table} {where} qualify row_number() over (partition by {day}) <= 5 "
                                 f"order by {day}")
        rows = {found: int(count) for found, count in warehouse.query(
            f"select {day}, count(*) from {table} {where} group by 1").rows()}
        metadata.update(preview=preview(sample), days=f"[{start}, {end})",
                        window_start_utc=timestamp(datetime.combine(start, time(), UTC)),
                        window_end_utc=timestamp(datetime.combine(end, time(), UTC)))
        metadata = per_partition(context, context.asset_key, metadata, rows=rows, frame=sample,
                                 partition_column=day)
        yield from materialized_then_checked(context, dg.MaterializeResult(metadata=metadata), checks)

    return mart


def _fx_asset(config: ProjectConfig, scope: Scope) -> dg.AssetsDefinition:
    checks = fx_checks(scope)
    description = describe(HOLDS[FX_RATES.name], None,
                           f"{FX_RATES.description} Loaded from the user's fx_rates CSV "
                           f"({config.fx_rates or 'none configured: no rates'}), reporting currency "
                           f"{config.reporting_currency}. Write mode: **{TABLE_REPLACE}**.")

    @dg.asset(
        **_spec_kwargs(config, scope, FX_RATES, description),
        check_specs=specs_of(checks),
        # loaded while missing (a new warehouse), not again after a failed load (fix the CSV, then materialize)
        automation_condition=(dg.AutomationCondition.missing() & ~dg.AutomationCondition.in_progress()
                              & ~dg.AutomationCondition.execution_failed()).with_label("missing"),
        required_resource_keys={"warehouse"},
    )
    def fx_rates(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        warehouse = warehouse_of(context)
        try:
            rows = load_fx_rates(warehouse, config.fx_rates)
        except MartError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
        sample = warehouse.query(f"select * from {MARTS_SCHEMA}.{FX_RATES.name} limit 5")
        metadata: dict[str, Any] = {"dagster/row_count": rows, "file": str(config.fx_rates or ""),
                                    "reporting_currency": config.reporting_currency, "write_mode": TABLE_REPLACE,
                                    "preview": preview(sample)}
        materialized: dg.MaterializeResult = dg.MaterializeResult(metadata=metadata)
        yield from materialized_then_checked(context, materialized, checks)

    return fx_rates


def build_marts(config: ProjectConfig, raw_assets: Sequence[dg.AssetsDefinition],
                scope: Scope = EVERY_ACCOUNT) -> dg.Definitions:
    """The marts of every configured marketplace (of ``config``: a group's location passes its own, with
    its ``group_scope``), their checks and their automation sensor."""
    partitions_of: dict[dg.AssetKey, dg.PartitionsDefinition | None] = {
        key: asset.partitions_def for asset in raw_assets for key in asset.keys}
    wiring = _Wiring(config, scope, input_sources(config, set(partitions_of)), mart_partitions(config),
                     partitions_of)
    checks = mart_checks(scope)
    assets = [_fx_asset(config, scope), *(_mart_asset(model, wiring, checks[model.name]) for model in MODELS.values())]
    sensor = dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR, target=dg.AssetSelection.groups(GROUP), default_status=dg.DefaultSensorStatus.RUNNING,
        description="Rebuilds the marts' partitions after their raw partitions are materialized.")
    return dg.Definitions(assets=assets, sensors=[sensor])
