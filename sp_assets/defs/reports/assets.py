"""The seed's **Create and Download Report**: one asset per configured report and marketplace.

``defaults.reports`` plus ``marketplaces.<code>.reports`` list the reports (the defaults are the
catalog's, ``lib/reports/catalog.py``, also listed in marketplaces.yaml); each entry becomes the asset ``[<code>, <table>]`` in group ``amazon_<code>`` and pool
``sp_api__<account>__reports``. GET_SALES_AND_TRAFFIC_REPORT becomes one multi-asset writing
``<table>_by_date`` and/or ``<table>_by_asin`` (the seed's "Pull report data by Date or ASIN") from a
single report, because Amazon limits that report type to one request per 15 minutes.

=================  =========================================================  =================================
window             window sent to Amazon (see ``lib/reports/catalog.py``)     write
=================  =========================================================  =================================
event (orders,     the partition's local day in UTC, end inclusive; one       per day: delete the day's rows,
returns)           report per day                                             load the file (one transaction)
calendar (ledger,  the partition's date as a whole UTC day                    the same
sales and traffic)
monthly (storage   monthly partitions; the calendar month as whole UTC days    per month: the same
fees)
snapshot           none; unpartitioned, each run takes today's snapshot       today's partition_date rows
(listings, FBA     (``require_today``; a past day in the run config is        replaced, earlier days' kept
inventory)         refused)
listed             settlements: see ``settlements.py``                        each report loaded once, by id
(settlements)
=================  =========================================================  =================================

**Waiting is cheap** (the choice, detailed in ``runner.py``): reports have their own pool per
account, so a report that takes hours never blocks the other API families; a step attempt polls at
most an hour (Amazon time) and then asks Dagster for a retry, which frees the pool slot during the
pause and resumes the same report id from the ledger; DuckDB is touched only after the document is on
disk, in one short transaction per day. With many report assets per account, raise the pool's limit
(e.g. ``dagster instance concurrency set sp_api__na__reports 4``); the client's token buckets still
keep createReport within Amazon's quota.

**CANCELLED** (Amazon's "no data") writes the day with zero rows, deleting what it held, and the
metadata says so (``cancelled_days``, ``note``). **FATAL** fails the run without retry, with the
error document's text. A large document streams to a file and DuckDB loads it from there
(``load_delimited_file``); it is never held in Python memory. Metadata per run: rows, window, report
ids, resumed or not, status timeline, API calls (``run_metadata``).
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from sp_assets.defs.checks import ChecksByTable, in_step, materialized_then_checked, results_in_step, specs_of
from sp_assets.defs.common import MONTHLY as MONTHLY_REFRESH
from sp_assets.defs.common import (
    PARTITION_REPLACE,
    ROLLING,
    SNAPSHOT,
    api_since,
    asset_key,
    asset_kwargs,
    asset_spec_kwargs,
    combined_write,
    describe,
    fail_fast,
    now_utc,
    per_partition,
    require_today,
    run_metadata,
    snapshot_metadata,
    sp_client,
    today_local,
    warehouse_of,
)
from sp_assets.defs.config import MarketplaceConfig, ReportConfig
from sp_assets.defs.partitions import monthly_partitions, utc_window
from sp_assets.defs.reports import runner
from sp_assets.defs.reports.checks import report_table_checks
from sp_assets.defs.reports.settlements import build_settlements_asset
from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.catalog import (
    BY_DATE,
    LISTED,
    MONTHLY,
    PARTITION_COLUMN,
    REPORT_ID_COLUMN,
    SALES_AND_TRAFFIC,
    ReportType,
)
from sp_assets.lib.reports.json_reports import (
    flatten_json_rows,
    is_json_table,
    json_report_spec,
    partition_period,
)
from sp_assets.lib.reports.parsing import flatten_sales_and_traffic
from sp_assets.lib.reports.tables import (
    records_frame,
    sales_and_traffic_spec,
    sales_and_traffic_table,
    with_constants,
)
from sp_assets.lib.warehouse import (
    Warehouse,
    WarehouseBusyError,
    WarehouseError,
    WarehouseLockTimeout,
    WriteResult,
)

FAMILY = "reports"
_WINDOW_TEXT = {
    "event": "the partition's local day (sent to Amazon in UTC)",
    "calendar": "the partition's calendar date",
    "monthly": "the partition's calendar month (monthly partitions)",
    "snapshot": "no window: a point-in-time snapshot of today (the asset is unpartitioned; partition_date is the "
                "snapshot's local day, earlier days are kept)",
}


REPLACED = "Create and Download Report"  # Domo's report every report asset replaces


def report_words(report_type: str) -> str:
    """Amazon's report type in plain words for a description's first line: ``GET_LEDGER_SUMMARY_VIEW_DATA``
    gives ``ledger summary view data``."""
    return report_type.removeprefix("GET_").replace("_", " ").lower()


def _description(config: ReportConfig, row: ReportType) -> str:
    window = _WINDOW_TEXT[row.window]
    period = "month" if row.window == MONTHLY else "day"
    per = "per run" if row.is_snapshot else f"per partition {period}"
    options = f" Options: `{config.options}`." if config.options else ""
    quote = "none (every byte literal)" if not config.quote_char else "double quote"
    holds = (f"The rows of Amazon's {report_words(config.report_type)} report, as Amazon writes them, one report "
             f"{per}.")
    reading = (f" CSV quote character: {quote}." if row.fmt == catalog.TSV
               else f" JSON: each element of {row.json_rows} is a row, flattened." if row.json_rows
               else " XML: streamed, each record flattened into a row." if row.fmt == catalog.XML else "")
    return describe(holds, REPLACED, (
        f"Report type `{config.report_type}` (createReport), window: {window}.{options}{reading} Write "
        f"mode: **partition replace** by partition_date; CANCELLED (no data) writes the {period} empty."))


def _history_asset(entry: MarketplaceConfig, config: ReportConfig, row: ReportType) -> str:
    """Where the history of a snapshot type is: the table of its catalog ``history_type``, if configured."""
    if row.history_type is not None:
        table = next((r.table for r in entry.reports if r.report_type == row.history_type), None)
        if table:
            return asset_key(entry, table).to_user_string()
    return f"the snapshots {asset_key(entry, config.table).to_user_string()} kept on the days they were taken"


def _now() -> datetime:
    return now_utc()


# ------------------------------------------------------------------------------------------ flat files
def _empty_file(directory: Path, day: date) -> Path:
    path = directory / f"empty-{day.isoformat()}-{datetime.now(UTC).timestamp():.6f}.tsv"
    path.write_text("", encoding="utf-8")
    return path


def load_flat_day(warehouse: Warehouse, entry: MarketplaceConfig, config: ReportConfig, row: ReportType,
                  result: runner.DayResult) -> WriteResult:
    """One partition's document into ``<code>.<table>``: its rows replace the partition's, in one transaction.

    A CANCELLED (or not yet requested) day loads an empty file: the day's rows are deleted and the
    load is recorded with zero rows.
    """
    day = result.day.day
    outcome = result.outcome
    report_id = outcome.report_id if outcome is not None else None
    empty = None
    path = outcome.path if outcome is not None and outcome.has_data and outcome.path is not None else None
    if path is None:
        empty = path = _empty_file(runner.download_dir(), day)
    text_format, column_formats = row.text_formats(entry.marketplace.code)
    try:
        return warehouse.load_delimited_file(
            entry.code, config.table, path, quote=config.quote_char or None,
            column_types={**row.column_types, REPORT_ID_COLUMN: "VARCHAR"},
            text_format=text_format, column_formats=column_formats, name_types=row.name_types,
            constants={PARTITION_COLUMN: day, REPORT_ID_COLUMN: report_id},
            replace_where={PARTITION_COLUMN: day}, partition_start=day, partition_end=runner.period_end(row, day),
            strict=True, note=f"{config.report_type} report {report_id or 'none'} ({result.status})",
        )
    except (WarehouseLockTimeout, WarehouseBusyError):
        raise  # another writer held the database: transient, the retry policy applies
    except WarehouseError as error:
        raise dg.Failure(description=_load_failure(entry, config, report_id, day, error), allow_retries=False) from None
    finally:
        if empty is not None:
            empty.unlink(missing_ok=True)


def _load_failure(entry: MarketplaceConfig, config: ReportConfig, report_id: str | None, day: date,
                  error: Exception) -> str:
    text = str(error)
    hint = ""
    if "quote" in text.lower():
        hint = (f" The document has a value starting with a double quote, which the quote character '\"' reads "
                f"as an unterminated quoted field. Amazon writes flat files unquoted: set quote_char: none for "
                f"this report in {entry.path}.reports.")
    elif "convert" in text.lower():
        hint = " A typed column (a timestamp, amount or count) held a value of another format."
    return (f"{entry.code}/{config.table}: loading report {report_id} of {day} failed; nothing was written for "
            f"the day and the report stays in the ledger (a relaunch loads it again without a new request).{hint} "
            f"{text}")


def _asset_kwargs(entry: MarketplaceConfig, config: ReportConfig, row: ReportType) -> dict[str, Any]:
    """Daily asset arguments; a monthly type gets monthly partitions (and is outside the daily schedule's jobs)."""
    refresh = SNAPSHOT if row.is_snapshot else MONTHLY_REFRESH if row.window == MONTHLY else ROLLING
    # A JSON report's columns are its flattening spec's; a flat file's and an XML's the catalog's header.
    table = json_report_spec(config.table, row) if is_json_table(row) else None
    kwargs = asset_kwargs(entry, config.table, FAMILY, refresh, _description(config, row), table=table,
                          schema=None if table is not None else runner.report_schema(row))
    if row.window == MONTHLY:
        kwargs["partitions_def"] = monthly_partitions(entry)
    return kwargs


def _require_history(context: dg.AssetExecutionContext, entry: MarketplaceConfig, row: catalog.ReportType) -> None:
    """A type Amazon keeps for ``history_days`` only: an older partition is refused before anything is asked."""
    if row.history_days is None:
        return
    oldest = today_local(entry) - timedelta(days=row.history_days)
    older = [k for k in context.partition_keys if date.fromisoformat(k) < oldest]
    if older:
        raise dg.Failure(
            description=(f"{context.asset_key.to_user_string()}: Amazon keeps {row.history_days} days of {row.name}, "
                         f"so partitions before {oldest.isoformat()} cannot be requested; refused {older[0]}"
                         f"{' and more' if len(older) > 1 else ''}. Nothing was requested or written."),
            allow_retries=False,
        )


def build_report_asset(entry: MarketplaceConfig, config: ReportConfig,
                       checks: ChecksByTable | None = None) -> dg.AssetsDefinition:
    """A flat-file report of one marketplace as a daily- (or monthly-) partitioned asset; its key check
    (in ``checks``, which ``build_report_assets`` passes; none without) runs in its step after the load."""
    row = catalog.lookup(config.report_type)
    what = f"{entry.code}/{config.table}"
    table_checks = (checks or {}).get(config.table, [])

    @dg.asset(check_specs=specs_of(table_checks), **_asset_kwargs(entry, config, row))
    @fail_fast(entry)
    def report_asset(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        # A snapshot type is unpartitioned: its one "partition" is today's snapshot (refused for any other day).
        keys = ([require_today(context, entry, history_asset=_history_asset(entry, config, row)).isoformat()]
                if row.is_snapshot else context.partition_keys)
        _require_history(context, entry, row)
        now = _now()
        client = sp_client(context, entry)
        before = client.stats.snapshot()
        days = runner.day_requests(entry, row, config.options, keys, now)
        results = runner.fetch_or_stop(context, client, days, poll=runner.poll_policy(entry, row, now), what=what)
        warehouse = warehouse_of(context)
        writes: list[dict[str, Any]] = []
        rows: dict[date, int] = {}
        by_day: dict[date, dict[str, Any]] = {}
        try:
            for result in results:
                write = load_flat_day(warehouse, entry, config, row, result)
                runner.mark_consumed(client, [result])
                rows[result.day.day] = write.rows
                by_day[result.day.day] = write.as_metadata()
                writes.append(by_day[result.day.day])
        finally:
            runner.cleanup(results)
        start, end = utc_window(context)
        metadata = run_metadata(
            rows=sum(rows.values()), start=start, end=end, api=api_since(client, before),
            table=f"{entry.code}.{config.table}", report_type=config.report_type, write_mode=PARTITION_REPLACE,
            **snapshot_metadata(context),
            write=dg.MetadataValue.json(combined_write(writes)), added_columns=", ".join(
                sorted({c for w in writes for c in w.get("added_columns", [])})) or "none",
            **runner.unparsed_metadata(w.get("unparsed", {}) for w in writes),
            **runner.report_metadata(results, rows),
        )
        # One load per day: every partition gets its own day's load (rows, write counts).
        metadata = per_partition(context, context.asset_key, metadata, rows=rows, writes=by_day,
                                 extra=runner.day_metadata(results))
        yield from materialized_then_checked(context, dg.MaterializeResult(metadata=metadata), table_checks)

    return report_asset


# ------------------------------------------------------------------------------------------ sales and traffic
def build_sales_and_traffic_asset(entry: MarketplaceConfig, config: ReportConfig,
                                  checks: ChecksByTable | None = None) -> dg.AssetsDefinition:
    """GET_SALES_AND_TRAFFIC_REPORT: one report per day, written to ``<table>_by_date`` / ``_by_asin``;
    each table's key check (in ``checks``, which ``build_report_assets`` passes; none without) runs in
    the step after both are written."""
    row = catalog.lookup(config.report_type)
    sides = config.by or row.by
    table_checks = [check for by in sides
                    for check in (checks or {}).get(sales_and_traffic_table(config.table, by), [])]
    base = asset_kwargs(entry, config.table, FAMILY, ROLLING, "")
    specs = [
        dg.AssetSpec(
            **asset_spec_kwargs(
                entry, sales_and_traffic_table(config.table, by), ROLLING,
                describe(
                    f"Sales and traffic metrics (sales, units, page views, sessions, buy box percentage) "
                    f"{'per day' if by == BY_DATE else 'per ASIN'}, every metric a column, one report per "
                    f"calendar date.",
                    REPLACED,
                    f"Report type `{SALES_AND_TRAFFIC}`, pulled by {'Date' if by == BY_DATE else 'ASIN'} (Domo's "
                    f"option). Options: `{config.options}`. Write mode: **partition replace**."),
                table=sales_and_traffic_spec(config.table, by), domain=FAMILY),
            partitions_def=base["partitions_def"],
        )
        for by in sides
    ]
    what = f"{entry.code}/{config.table}"

    @dg.multi_asset(name=f"{entry.code}__{config.table}", specs=specs, check_specs=specs_of(table_checks),
                    partitions_def=base["partitions_def"],
                    backfill_policy=base["backfill_policy"], pool=base["pool"], retry_policy=base["retry_policy"],
                    required_resource_keys=base["required_resource_keys"])
    @fail_fast(entry)
    def sales_and_traffic(context: dg.AssetExecutionContext):
        now = _now()
        client = sp_client(context, entry)
        before = client.stats.snapshot()
        days = runner.day_requests(entry, row, config.options, context.partition_keys, now)
        results = runner.fetch_or_stop(context, client, days, poll=runner.poll_policy(entry, row, now), what=what)
        try:
            records: dict[str, list[dict[str, Any]]] = {by: [] for by in sides}
            for result in results:
                if result.has_data and result.outcome is not None:
                    flat = flatten_sales_and_traffic(result.outcome.data)
                    for by in sides:
                        part = flat.by_date if by == BY_DATE else flat.by_asin
                        records[by].extend(with_constants(part, result.day.day, result.outcome.report_id))
            first, last = results[0].day.day, results[-1].day.day + timedelta(days=1)
            warehouse = warehouse_of(context)
            written = {}
            for by in sides:
                spec = sales_and_traffic_spec(config.table, by)
                frame = records_frame(spec, records[by])
                written[by] = (frame, warehouse.replace_partition(entry.code, spec, frame, first, last,
                                                                  note=f"{SALES_AND_TRAFFIC} by {by}"))
            runner.mark_consumed(client, results)
        finally:
            runner.cleanup(results)
        start, end = utc_window(context)
        api = api_since(client, before)
        for by in sides:
            frame, write = written[by]
            rows = {r.day.day: 0 for r in results}
            for day in frame.get_column(PARTITION_COLUMN).to_list() if frame.height else []:
                rows[day] += 1
            key = asset_key(entry, sales_and_traffic_table(config.table, by))
            metadata = run_metadata(rows=frame.height, start=start, end=end, api=api, frame=frame,
                                    table=f"{entry.code}.{sales_and_traffic_table(config.table, by)}",
                                    report_type=config.report_type, write_mode=PARTITION_REPLACE,
                                    write=dg.MetadataValue.json(write.as_metadata()),
                                    **runner.report_metadata(results, rows))
            yield dg.MaterializeResult(asset_key=key, metadata=per_partition(
                context, key, metadata, rows=rows, frame=frame, partition_column=PARTITION_COLUMN,
                extra=runner.day_metadata(results)))
        yield from results_in_step(context, table_checks)

    return sales_and_traffic


# ------------------------------------------------------------------------------------------ JSON, one table
def build_json_report_asset(entry: MarketplaceConfig, config: ReportConfig,
                            checks: ChecksByTable | None = None) -> dg.AssetsDefinition:
    """A JSON report loaded into one table (seller performance, Brand Analytics: ``json_reports``), one
    report per partition, partitioned like a flat file of its window; its key check runs in its step."""
    row = catalog.lookup(config.report_type)
    options = partition_period(row, config.options, f"{entry.path}.reports[{config.table}]")
    spec = json_report_spec(config.table, row)
    what = f"{entry.code}/{config.table}"
    table_checks = (checks or {}).get(config.table, [])

    @dg.asset(check_specs=specs_of(table_checks), **_asset_kwargs(entry, config, row))
    @fail_fast(entry)
    def json_report_asset(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        # A snapshot type is unpartitioned: its one "partition" is today's snapshot (refused for any other day).
        keys = ([require_today(context, entry, history_asset=_history_asset(entry, config, row)).isoformat()]
                if row.is_snapshot else context.partition_keys)
        now = _now()
        client = sp_client(context, entry)
        before = client.stats.snapshot()
        days = runner.day_requests(entry, row, options, keys, now)
        results = runner.fetch_or_stop(context, client, days, poll=runner.poll_policy(entry, row, now), what=what)
        try:
            records: list[dict[str, Any]] = []
            rows = {r.day.day: 0 for r in results}
            for result in results:
                if result.has_data and result.outcome is not None:
                    part = flatten_json_rows(row, result.outcome.data)
                    rows[result.day.day] = len(part)
                    records.extend(with_constants(part, result.day.day, result.outcome.report_id))
            frame = records_frame(spec, records)
            first, last = results[0].day.day, runner.period_end(row, results[-1].day.day)
            write = warehouse_of(context).replace_partition(entry.code, spec, frame, first, last,
                                                            note=f"{config.report_type} ({len(results)} reports)")
            runner.mark_consumed(client, results)
        finally:
            runner.cleanup(results)
        start, end = utc_window(context)
        metadata = run_metadata(
            rows=frame.height, start=start, end=end, api=api_since(client, before), frame=frame,
            table=f"{entry.code}.{config.table}", report_type=config.report_type, write_mode=PARTITION_REPLACE,
            **snapshot_metadata(context),
            write=dg.MetadataValue.json(write.as_metadata()), **runner.report_metadata(results, rows),
        )
        # One report per day: every partition of a multi-day run gets its own day's rows, preview and report.
        metadata = per_partition(context, context.asset_key, metadata, rows=rows, frame=frame,
                                 partition_column=PARTITION_COLUMN, extra=runner.day_metadata(results))
        yield from materialized_then_checked(context, dg.MaterializeResult(metadata=metadata), table_checks)

    return json_report_asset


def build_report_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """Every configured report of one marketplace, each running its key check in its step
    (``checks_in_step=False``: without, for the old layout's separate check steps)."""
    checks = in_step(report_table_checks(entry), checks_in_step)
    assets = []
    for config in entry.reports:
        row = catalog.lookup(config.report_type)
        if row.name == SALES_AND_TRAFFIC:
            assets.append(build_sales_and_traffic_asset(entry, config, checks))
        elif row.window == LISTED:
            assets.append(build_settlements_asset(entry, config, checks))
        elif is_json_table(row):
            assets.append(build_json_report_asset(entry, config, checks))
        elif not row.readable or row.fmt not in (catalog.TSV, catalog.XML):
            raise ValueError(f"{entry.path}.reports: {config.report_type} documents are "
                             f"{row.fmt.upper()}; the loader reads flat files, XML it flattens, and the JSON "
                             "reports the catalog splits (sales and traffic) or reads from one array (json_rows)")
        else:
            assets.append(build_report_asset(entry, config, checks))
    return assets

