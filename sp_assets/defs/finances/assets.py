"""Financial events and financial event groups per marketplace (Finances v0), and their checks.

==========================  ==================================================  ================================
asset                       the Amazon call                                     write
==========================  ==================================================  ================================
``financial_events``        listFinancialEvents, one local day at a time        partition replace by posted day
                            (PostedAfter/PostedBefore, ends clamped to now-2m)  (``posted_date``)
``financial_event_groups``  listFinancialEventGroups, groups opened in the      merge by group id, never turning
                            last 179 days (not partitioned)                     a Closed group Open again
``transactions``            listTransactions (Finances 2024-06-19) on the        partition replace by posted day
                            partition window, this marketplace                   (``posted_date``)
==========================  ==================================================  ================================

Events and transactions are ROLLING: Amazon says the last 48 hours may still be missing, so the daily schedule re-pulls
the last ``days_back`` days and each day's rows are replaced. The groups carry the refresh tag
``unpartitioned`` (run by the daily schedule's unpartitioned job); an Open group's total moves until
the period closes, so each run merges the current state.
"""

from collections.abc import Iterator
from datetime import timedelta

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
    ROLLING,
    UNPARTITIONED,
    asset_key,
    asset_kwargs,
    describe,
    fail_fast,
    local_dates,
    sp_client,
    sql_table,
)
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.freshness import row_count_anomaly
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.rest_support import MERGE, REPLACE_PARTITION, fetch_staged, utc_now, write_frame
from sp_assets.lib.finances import (
    FINANCIAL_EVENT_GROUPS,
    FINANCIAL_EVENTS,
    GROUPS_LOOKBACK,
    TRANSACTIONS,
    fetch_financial_event_rows,
    fetch_group_rows,
    fetch_transaction_rows,
)
from sp_assets.lib.warehouse import Warehouse

FAMILY = "finances"
DESCRIPTIONS = {
    "financial_events": describe(
        "What the seller kept: one row per money component of each financial event posted on the day.",
        None,
        "From listFinancialEvents (Finances v0): each charge, fee, promotion, tax withheld or adjustment of an "
        "event posted on the partition's local day, signed as Amazon sends it; events of lists this project "
        "does not flatten are kept raw (component_kind 'other'). Write mode: **partition replace** by posted "
        "day."),
    "financial_event_groups": describe(
        "The settlement periods opened in the last 179 days, Open or Closed, with their totals and transfers.",
        None,
        "From listFinancialEventGroups (Finances v0), in the marketplace's currency. Not partitioned. Write "
        "mode: **merge** by group id, never turning a Closed group Open again."),
    "transactions": describe(
        "The seller's transactions, one row per leaf breakdown (principal, tax, commission...) per posted day.",
        None,
        "The same money as the financial events, from listTransactions (Finances 2024-06-19, by "
        "marketplaceId), each transaction posted on the partition's local day. Write mode: **partition "
        "replace** by posted day."),
}


def build_finances_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """``financial_events``, ``financial_event_groups`` and ``transactions``, their checks run in their steps."""
    checks = in_step(finances_table_checks(entry), checks_in_step)
    event_checks, group_checks = checks.get(FINANCIAL_EVENTS.name, []), checks.get(FINANCIAL_EVENT_GROUPS.name, [])
    transaction_checks = checks.get(TRANSACTIONS.name, [])

    @dg.asset(check_specs=specs_of(event_checks), **asset_kwargs(entry, FINANCIAL_EVENTS.name, FAMILY, ROLLING,
                                                                  DESCRIPTIONS["financial_events"],
                                                                  table=FINANCIAL_EVENTS))
    @fail_fast(entry)
    def financial_events(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        start, end = utc_window(context)
        first, last = local_dates(entry, start, end)
        days = [first + timedelta(days=n) for n in range((last - first).days)]
        client = sp_client(context, entry)

        def fetch() -> tuple[list[dict], dict]:
            found = fetch_financial_event_rows(client, entry.marketplace, days, utc_now(), entry.timezone)
            return found.rows, found.metadata()

        frame, side, api, stage = fetch_staged(context, entry, FINANCIAL_EVENTS, client, fetch)
        result = write_frame(context, entry, FINANCIAL_EVENTS, frame, mode=REPLACE_PARTITION, window=(start, end),
                             api=api, days=(first, last), events=dg.MetadataValue.json(side["events"]),
                             unknown_events=side["unknown_events"],
                             unknown_event_lists=dg.MetadataValue.json(side["unknown_event_lists"]),
                             other_marketplace_events=side["other_marketplace_events"],
                             unattributed_events=side["unattributed_events"], **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, event_checks)

    @dg.asset(check_specs=specs_of(group_checks),
              **asset_kwargs(entry, FINANCIAL_EVENT_GROUPS.name, FAMILY, UNPARTITIONED,
                             DESCRIPTIONS["financial_event_groups"], table=FINANCIAL_EVENT_GROUPS))
    @fail_fast(entry)
    def financial_event_groups(context: dg.AssetExecutionContext
                               ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        client = sp_client(context, entry)
        fetched_at = utc_now()
        frame, _, api, stage = fetch_staged(context, entry, FINANCIAL_EVENT_GROUPS, client, lambda: (
            fetch_group_rows(client, entry.marketplace, fetched_at), {}))
        result = write_frame(context, entry, FINANCIAL_EVENT_GROUPS, frame, mode=MERGE,
                             window=(fetched_at - GROUPS_LOOKBACK, fetched_at), api=api, **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, group_checks)

    @dg.asset(check_specs=specs_of(transaction_checks), **asset_kwargs(entry, TRANSACTIONS.name, FAMILY, ROLLING,
                                                                        DESCRIPTIONS["transactions"],
                                                                        table=TRANSACTIONS))
    @fail_fast(entry)
    def transactions(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        start, end = utc_window(context)
        client = sp_client(context, entry)
        frame, _, api, stage = fetch_staged(context, entry, TRANSACTIONS, client, lambda: (
            fetch_transaction_rows(client, entry.marketplace, start, end, utc_now(), entry.timezone), {}))
        result = write_frame(context, entry, TRANSACTIONS, frame, mode=REPLACE_PARTITION, window=(start, end),
                             api=api, days=local_dates(entry, start, end), **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, transaction_checks)

    return [financial_events, financial_event_groups, transactions]


# ------------------------------------------------------------------------------------------ checks
def financial_events_currency(entry: MarketplaceConfig) -> TableCheck:
    """Amazon answers for the whole region: an amount in another currency than the marketplace's means an
    event of another marketplace got in (a warning: it does not block what reads the table)."""
    currency = entry.marketplace.currency

    def evaluate(warehouse: Warehouse) -> dg.AssetCheckResult:
        if not warehouse.table_exists(entry.code, FINANCIAL_EVENTS.name):
            return dg.AssetCheckResult(passed=True, metadata={"note": "table not created yet"})
        others = warehouse.query(
            f"select count(*) from {sql_table(entry, FINANCIAL_EVENTS.name)} "
            f"where amount is not null and currency is distinct from ?", [currency]).item()
        return dg.AssetCheckResult(passed=others == 0, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"other_currency_rows": int(others), "currency": currency})

    return TableCheck(dg.AssetCheckSpec("financial_events_currency", asset=asset_key(entry, FINANCIAL_EVENTS.name),
                                        description=f"every amount of {entry.code}.{FINANCIAL_EVENTS.name} is in "
                                                    f"{currency}"),
                      evaluate)


def finances_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The checks of each finances table, by table name."""
    return {FINANCIAL_EVENTS.name: [primary_key(entry, FINANCIAL_EVENTS), financial_events_currency(entry),
                                    row_count_anomaly(entry, FINANCIAL_EVENTS.name)],
            FINANCIAL_EVENT_GROUPS.name: [primary_key(entry, FINANCIAL_EVENT_GROUPS)],
            TRANSACTIONS.name: [primary_key(entry, TRANSACTIONS), row_count_anomaly(entry, TRANSACTIONS.name)]}


def build_finances_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their assets' steps (all of them with ``checks_in_step=False``)."""
    return separate_steps(finances_table_checks(entry), checks_in_step)
