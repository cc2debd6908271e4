"""Data Kiosk datasets (Amazon's GraphQL analytics API) as daily-partitioned assets, and their checks.

* ``kiosk_economics``: analytics_economics_2024_03_15 ``economics`` by MSKU and DAY (sales, units,
  fees, net proceeds);
* ``kiosk_sales_traffic_by_date``: analytics_salesAndTraffic_2024_04_24 ``salesAndTrafficByDate`` by DAY;
* ``kiosk_sales_traffic_by_asin``: the same schema's ``salesAndTrafficByAsin`` by CHILD ASIN.

Each writes by partition replace on ``partition_date`` (the datasets are ``lib/data_kiosk.py`` DATASETS).

``marketplaces.<code>.data_kiosk`` lists the datasets (all three by default). One query per partition
day (the partition's date is the query's startDate and endDate); a day after today (UTC) has nothing
to ask and is written empty. The query ids go into the report ledger before polling, so a relaunched
run resumes its queries; the fetch is staged until the write succeeds (``fetch_staged``), so a step
retry after a failed write asks Amazon for nothing. Waiting follows the reports (``reports/runner.py``):
their own pool per account (``sp_api__<account>__datakiosk``), at most ``ATTEMPT_WAIT`` Amazon-seconds
per attempt, then a retry request that frees the slot and resumes the same queries. FATAL and
CANCELLED fail the run without retry, naming the query; nothing is written.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from sp_assets.defs.checks import (
    ChecksByTable,
    in_step,
    materialized_then_checked,
    primary_key,
    separate_steps,
    specs_of,
)
from sp_assets.defs.common import ROLLING, asset_kwargs, describe, fail_fast, sp_client
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.freshness import row_count_anomaly
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.reports import runner
from sp_assets.defs.rest_support import REPLACE_PARTITION, fetch_staged, write_frame
from sp_assets.lib import data_kiosk as dk
from sp_assets.lib.reports.lifecycle import PollPolicy
from sp_assets.lib.spapi.http import SPAPIClient

FAMILY = "datakiosk"

# The domain the UI files it under: Data Kiosk is Amazon's other report interface (a query is created,
# polled and its document downloaded, in the reports' ledger and way of waiting), so beside the reports.
DOMAIN = "reports"
DESCRIPTIONS = {
    "economics": describe(
        "Seller economics per SKU and day: ordered and refunded sales and units, fees and net proceeds.",
        None,
        "From Data Kiosk (createQuery on analytics_economics_2024_03_15 `economics`, aggregated by MSKU and DAY); "
        "fees as a total and every charge as JSON. Write mode: **partition replace** by partition_date."),
    "sales_traffic_by_date": describe(
        "Sales and traffic (sessions, page views, buy box share, conversion) per day.",
        None,
        "From Data Kiosk (createQuery on analytics_salesAndTraffic_2024_04_24 `salesAndTrafficByDate`, by DAY). "
        "Write mode: **partition replace** by partition_date."),
    "sales_traffic_by_asin": describe(
        "Sales and traffic (sessions, page views, buy box share, conversion) per child ASIN and day.",
        None,
        "From Data Kiosk (createQuery on analytics_salesAndTraffic_2024_04_24 `salesAndTrafficByAsin`, by "
        "CHILD, one query per day). Write mode: **partition replace** by partition_date."),
}


def _days(context: dg.AssetExecutionContext) -> list[date]:
    return [date.fromisoformat(key) for key in context.partition_keys]


def _requests(entry: MarketplaceConfig, dataset: dk.Dataset, days: list[date]) -> dict[date, dk.KioskRequest]:
    """One query per day that has begun in UTC (Data Kiosk dates are UTC days); later days have none."""
    today = datetime.now(UTC).date()
    return {day: dk.KioskRequest.build(dataset, entry.marketplace_id, day) for day in days if day <= today}


def fetch_days(context: dg.AssetExecutionContext, client: SPAPIClient, requests: dict[date, dk.KioskRequest],
               what: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every day's query, created or resumed, waited for and read: (rows, per-day side data).

    Amazon's outcomes become Dagster's: FATAL and CANCELLED fail without retry, a query still running
    asks for a retry after a pause (the ids stay in the ledger, so the retry resumes them).
    """
    ledger = runner.ledger()
    poll = PollPolicy(timeout=runner.ATTEMPT_WAIT)
    rows: list[dict[str, Any]] = []
    queries = []
    for day, request in requests.items():
        try:
            outcome = dk.run_query(client, ledger, request, poll=poll, work_dir=runner.download_dir())
        except (dk.DataKioskFatalError, dk.DataKioskCancelledError) as error:
            raise dg.Failure(description=f"{what}: {error}. Not retried: the same query would end the same way; "
                                         f"launching the partition again creates a new query.",
                             metadata={"query_id": error.query_id}, allow_retries=False) from None
        except dk.DataKioskTimeoutError as error:
            context.log.warning(f"{what}: {error}; the step gives its pool slot back and resumes the same query in "
                                f"{runner.RETRY_PAUSE / client.speed:.0f}s")
            raise dg.RetryRequested(max_retries=runner.MAX_WAIT_ATTEMPTS,
                                    seconds_to_wait=runner.RETRY_PAUSE / client.speed) from error
        try:
            day_rows = dk.rows(outcome, day)
        finally:
            outcome.cleanup()
        rows.extend(day_rows)
        queries.append({"day": day.isoformat(), "query_id": outcome.query_id, "resumed": outcome.resumed,
                        "rows": len(day_rows), "document_id": outcome.document_id,
                        "bytes_downloaded": outcome.bytes_downloaded, "timeline": outcome.timeline})
    return rows, {"queries": queries}


def build_data_kiosk_asset(entry: MarketplaceConfig, dataset: dk.Dataset, checks: ChecksByTable) -> dg.AssetsDefinition:
    """One dataset of one marketplace; its checks (in ``checks``) run in its step after the write."""
    spec = dataset.spec
    table_checks = checks.get(spec.name, [])
    what = f"{entry.code}/{spec.name}"

    @dg.asset(check_specs=specs_of(table_checks),
              **asset_kwargs(entry, spec.name, FAMILY, ROLLING, DESCRIPTIONS[dataset.key], table=spec,
                             domain=DOMAIN))
    @fail_fast(entry)
    def kiosk_asset(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        days = _days(context)
        start, end = utc_window(context)
        client = sp_client(context, entry)  # first: without credentials nothing is read or written
        requests = _requests(entry, dataset, days)
        frame, side, api, stage = fetch_staged(
            context, entry, spec, client, lambda: fetch_days(context, client, requests, what),
            queries={day.isoformat(): request.query for day, request in requests.items()})
        result = write_frame(
            context, entry, spec, frame, mode=REPLACE_PARTITION, window=(start, end), api=api,
            days=(days[0], days[-1] + timedelta(days=1)), dataset=dataset.key,
            query_ids=", ".join(q["query_id"] for q in side["queries"]) or "none",
            resumed=any(q["resumed"] for q in side["queries"]),
            queries=dg.MetadataValue.json(side["queries"]), **stage.metadata())
        ledger = runner.ledger()
        for query in side["queries"]:
            request = requests[date.fromisoformat(query["day"])]
            ledger.mark_consumed(client.credential_id, request.ledger_key, query["query_id"])
        stage.written()
        yield from materialized_then_checked(context, result, table_checks)

    return kiosk_asset


def data_kiosk_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The primary-key check of each configured dataset's table, by table name."""
    specs = [dk.DATASETS[key].spec for key in entry.data_kiosk]
    return {spec.name: [primary_key(entry, spec), row_count_anomaly(entry, spec.name)] for spec in specs}


def build_data_kiosk_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """The configured datasets (``marketplaces.<code>.data_kiosk``), their checks in their steps."""
    checks = in_step(data_kiosk_table_checks(entry), checks_in_step)
    return [build_data_kiosk_asset(entry, dk.DATASETS[key], checks) for key in entry.data_kiosk]


def build_data_kiosk_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their assets' steps (all of them with ``checks_in_step=False``)."""
    return separate_steps(data_kiosk_table_checks(entry), checks_in_step)
