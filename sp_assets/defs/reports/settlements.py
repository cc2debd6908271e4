"""Settlement reports: listed with getReports, never created; each document loaded once, by report id.

Amazon generates a settlement report once per settlement period (about every 14 days) and refuses
createReport for it. The asset lists GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 reports of the
marketplace created in the partition's window and loads each one whose report id is not in the table
yet; a report id already loaded is skipped without downloading it. Rows are never deleted by a later
run: re-running a partition is a no-op for the reports it already has (merge by report id).

**Partition = the local day the settlement report was created** (``createdTime`` in the
marketplace's time zone), not the settlement end date. The creation time is in the listing, so a run
knows which reports belong to its partition before downloading anything, every report belongs to
exactly one partition, and a run for day D finds the same reports every time (the end date is only
in the document, and Amazon posts the report hours after the period closes). ``settlement_end_date``
is still a column, as written in the document.

Amazon lists reports of the last 90 days only: a partition older than that lists nothing (kept with
a margin of a few minutes, airbyte#76265) and writes nothing, leaving what earlier runs loaded.
Each row gets ``row_number`` (its line in the document, 1 = the summary row), so
``(settlement_id, row_number)`` identifies a row.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from sp_assets.defs.checks import ChecksByTable, materialized_then_checked, specs_of
from sp_assets.defs.common import (
    APPEND_BY_REPORT_ID,
    ROLLING,
    api_since,
    asset_kwargs,
    combined_write,
    describe,
    fail_fast,
    per_partition,
    run_metadata,
    sp_client,
    warehouse_of,
)
from sp_assets.defs.config import MarketplaceConfig, ReportConfig
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.reports import runner
from sp_assets.lib.naming import qualified_name
from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.api import get_reports
from sp_assets.lib.reports.catalog import (
    CREATED_COLUMN,
    PARTITION_COLUMN,
    REPORT_ID_COLUMN,
    ROW_NUMBER_COLUMN,
)
from sp_assets.lib.reports.decoding import DocumentError, transcode_to_utf8
from sp_assets.lib.reports.lifecycle import (
    ReportDocumentError,
    ReportDownloadError,
    download_document,
    unloadable_document_error,
)
from sp_assets.lib.reports.tables import add_row_numbers, first_value
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.warehouse import Warehouse, WarehouseBusyError, WarehouseError, WarehouseLockTimeout

LISTING_RETENTION = timedelta(days=90) - timedelta(minutes=5)
MAX_URL_REFRESHES = 3


def _created(report: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(report["createdTime"]).replace("Z", "+00:00")).astimezone(UTC)


def list_settlements(client: SPAPIClient, entry: MarketplaceConfig, report_type: str, start: datetime,
                     end: datetime, now: datetime) -> list[dict[str, Any]]:
    """DONE settlement reports of the marketplace created in ``[start, end)``, oldest first."""
    since, until = max(start, now - LISTING_RETENTION), min(end, now)
    if since >= until:
        return []
    listed = get_reports(client, [report_type], marketplace_ids=[entry.marketplace_id], created_since=since,
                         created_until=until)
    found = [r for r in listed if r.get("processingStatus") == "DONE" and r.get("reportDocumentId")
             and start <= _created(r) < end]
    return sorted({r["reportId"]: r for r in found}.values(), key=lambda r: (_created(r), str(r["reportId"])))


def loaded_report_ids(warehouse: Warehouse, entry: MarketplaceConfig, table: str, ids: list[str]) -> set[str]:
    if not ids or not warehouse.table_exists(entry.code, table):
        return set()
    if REPORT_ID_COLUMN not in warehouse.columns(entry.code, table):
        return set()
    placeholders = ", ".join("?" for _ in ids)
    frame = warehouse.query(f"select distinct {REPORT_ID_COLUMN} from {qualified_name(entry.code, table)} "
                            f"where {REPORT_ID_COLUMN} in ({placeholders})", ids)
    return set(frame.get_column(REPORT_ID_COLUMN).to_list())


def download_settlement(client: SPAPIClient, entry: MarketplaceConfig, report: dict[str, Any],
                        work_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The document as a UTF-8 TSV with a ``row-number`` column; an expired URL is asked for again."""
    report_id, document_id = str(report["reportId"]), str(report["reportDocumentId"])
    raw, text, numbered = (work_dir / f"settlement-{report_id}.{suffix}" for suffix in ("download", "tsv", "rows.tsv"))
    try:
        _document, result, refreshes = download_document(client, document_id, raw, max_url_refreshes=MAX_URL_REFRESHES,
                                                         what=f"settlement report {report_id}")
        transcoded = transcode_to_utf8(raw, text, declared=result.charset, fallback=entry.marketplace.charset)
        rows = add_row_numbers(text, numbered)
        if rows == 0 or first_value(text, "settlement_id") is None:
            # A settlement document always has its summary row: an empty body or a page is a broken download.
            numbered.unlink(missing_ok=True)
            raise ReportDownloadError(f"settlement report {report_id}: the document has no settlement rows "
                                      f"({result.bytes} bytes, {result.content_type or 'no content-type'}); a "
                                      f"relaunch downloads it again")
    except (DocumentError, OSError) as error:
        numbered.unlink(missing_ok=True)
        failure = unloadable_document_error(error, report_id, work_dir)
        if failure is None:
            raise
        raise failure from None
    finally:
        raw.unlink(missing_ok=True)
        text.unlink(missing_ok=True)
    return numbered, {"report_id": report_id, "created": report["createdTime"], "rows": rows,
                      "charset": transcoded.charset, "bytes_downloaded": result.bytes, "url_refreshes": refreshes}


def build_settlements_asset(entry: MarketplaceConfig, config: ReportConfig,
                            checks: ChecksByTable | None = None) -> dg.AssetsDefinition:
    """The settlements asset; its key check (in ``checks``, which ``build_report_assets`` passes; none
    without) runs in its step after the loads."""
    row = catalog.lookup(config.report_type)
    table_checks = (checks or {}).get(config.table, [])
    description = describe(
        "Settlement reports: every fee, charge and payout line of each settlement period Amazon closed, loaded "
        "once per report.",
        "Create and Download Report",
        f"Report type `{config.report_type}`. Settlement reports are listed with getReports (Amazon refuses to "
        "create them); the partition is the local day the report was created. Write mode: **append by report "
        "id**: a report already loaded is skipped, rows are never deleted.")

    schema = runner.report_schema(row, extra=(
        (CREATED_COLUMN, "TIMESTAMPTZ", "when Amazon created the settlement report (its local day is the partition)"),
        (ROW_NUMBER_COLUMN, "BIGINT", "the row's line in the document (1 = the summary row)")))

    @dg.asset(check_specs=specs_of(table_checks), **asset_kwargs(entry, config.table, "reports", ROLLING, description,
                                                                 schema=schema, domain="finances"))
    @fail_fast(entry)
    def settlements(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        start, end = utc_window(context)
        client = sp_client(context, entry)
        before = client.stats.snapshot()
        warehouse = warehouse_of(context)
        listed = list_settlements(client, entry, config.report_type, start, end, datetime.now(UTC))
        skipped = loaded_report_ids(warehouse, entry, config.table, [str(r["reportId"]) for r in listed])
        loaded: list[dict[str, Any]] = []
        writes: list[dict[str, Any]] = []
        for report in listed:
            if str(report["reportId"]) in skipped:
                continue
            try:
                path, info = download_settlement(client, entry, report, runner.download_dir())
            except ReportDocumentError as error:
                raise runner.document_failure(f"{entry.code}/{config.table}", error) from None
            created = _created(report)
            text_format, column_formats = row.text_formats(entry.marketplace.code)
            try:
                write = warehouse.load_delimited_file(
                    entry.code, config.table, path, quote=config.quote_char or None, column_types=row.column_types,
                    text_format=text_format, column_formats=column_formats, name_types=row.name_types,
                    constants={PARTITION_COLUMN: created.astimezone(ZoneInfo(entry.timezone)).date(),
                               REPORT_ID_COLUMN: info["report_id"], CREATED_COLUMN: created},
                    replace_where={REPORT_ID_COLUMN: info["report_id"]}, strict=True,
                    note=f"{config.report_type} report {info['report_id']}",
                )
            except (WarehouseLockTimeout, WarehouseBusyError):
                raise  # transient: the retry policy applies
            except WarehouseError as error:
                raise dg.Failure(description=f"{entry.code}/{config.table}: loading settlement report "
                                             f"{info['report_id']} failed; nothing was written for it: {error}",
                                 allow_retries=False) from None
            finally:
                path.unlink(missing_ok=True)
            loaded.append({**info, "rows_written": write.rows, "added_columns": list(write.added_columns),
                           "unparsed": write.unparsed})
            writes.append(write.as_metadata())
        rows = sum(item["rows_written"] for item in loaded)
        by_day: dict[date, int] = {}
        for item in loaded:  # a settlement's partition is the local day Amazon created its report
            day = _created({"createdTime": item["created"]}).astimezone(ZoneInfo(entry.timezone)).date()
            by_day[day] = by_day.get(day, 0) + int(item["rows_written"])
        metadata = run_metadata(
            rows=rows, start=start, end=end, api=api_since(client, before), table=f"{entry.code}.{config.table}",
            report_type=config.report_type, write_mode=APPEND_BY_REPORT_ID,
            reports_listed=len(listed), reports_loaded=len(loaded), reports_skipped=len(skipped),
            report_ids=", ".join(str(r["reportId"]) for r in listed) or "none",
            skipped_report_ids=", ".join(sorted(skipped)) or "none",
            reports=dg.MetadataValue.json(loaded),
            write=dg.MetadataValue.json(combined_write(writes) if writes else {
                "table": f"{entry.code}.{config.table}", "operation": "none", "rows": 0}),
            **runner.unparsed_metadata(item["unparsed"] for item in loaded),
            note=("no settlement report was created in this window" if not listed else
                  "every report of the window was already loaded" if not loaded else ""),
        )
        # Rows loaded by this run per creation day (reports loaded earlier are not counted again).
        metadata = per_partition(context, context.asset_key, metadata, rows=by_day)
        yield from materialized_then_checked(context, dg.MaterializeResult(metadata=metadata), table_checks)

    return settlements
