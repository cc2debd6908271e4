"""Running Amazon reports for the daily partitions of a run: windows, waiting, errors, metadata.

Shared by the report assets and by ``order_items`` with ``order_items_source: report``. One report
is requested per partition day (the ledger key of a day never changes, so a relaunched run of that
day resumes the report it requested), and the days of a run wait side by side in threads: a
seven-day backfill run waits as long as its slowest report, not seven times as long.

Waiting holds nothing another run needs:

* no DuckDB lock: ``run_report`` downloads to a file beside the database and only then does the
  caller open one short write transaction per day;
* no pool slot for long: a step attempt polls for at most ``ATTEMPT_WAIT`` Amazon-seconds, then
  asks Dagster for a retry after ``RETRY_PAUSE`` (``dg.RetryRequested``). Dagster frees the step's
  pool slot while a retry waits (``ActiveExecution.handle_event`` on STEP_UP_FOR_RETRY), and the
  next attempt resumes the same report ids from the ledger: no second createReport. After
  ``MAX_WAIT_ATTEMPTS`` attempts the step fails naming the report; the next run resumes it;
* report assets use their own pool per account, ``sp_api__<account>__reports``, so a report that
  waits never blocks the orders, inventory or pricing assets of the same account. Its limit can be
  raised above the default 1 (``dagster instance concurrency set sp_api__na__reports 4``): the
  client's token buckets still pace createReport (burst 15) and getReport (2/s).
"""

import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.paths import report_download_dir, report_ledger_location
from sp_assets.lib.naming import snake_case
from sp_assets.lib.reports.catalog import (
    CALENDAR,
    MONTHLY,
    PARTITION_COLUMN,
    REPORT_ID_COLUMN,
    SNAPSHOT,
    ReportType,
)
from sp_assets.lib.reports.ledger import LedgerError, ReportLedger
from sp_assets.lib.reports.lifecycle import (
    PollPolicy,
    ReportDocumentError,
    ReportFatalError,
    ReportOutcome,
    ReportPacedError,
    ReportTimeoutError,
    StatusEvent,
    run_report,
)
from sp_assets.lib.reports.request import ReportRequest
from sp_assets.lib.spapi.errors import AccessDeniedError, InvalidInputError
from sp_assets.lib.spapi.http import SPAPIClient

ATTEMPT_WAIT = 3600.0  # Amazon-seconds one step attempt polls before handing its pool slot back
RETRY_PAUSE = 900.0  # Amazon-seconds between two attempts (the slot is free meanwhile)
MAX_WAIT_ATTEMPTS = 12  # ~15 h of waiting in one run; then the run fails and the next run resumes
PARALLEL_REPORTS = 4  # days of one run waited for at once
END_MARGIN = timedelta(minutes=2)  # Amazon refuses a dataEndTime after now


class _Cancelled(Exception):
    """Another day of the run failed: stop polling this one (its id stays in the ledger)."""


@dataclass(frozen=True)
class DayRequest:
    """The report of one partition (a day; a month for monthly types, ``day`` its first day): the
    window as sent (UTC, end inclusive) and the request.

    ``request`` is None when the day's window has not begun yet (today's partition just after
    midnight): there is nothing to ask Amazon, and the day is written as empty.
    """

    day: date
    start: datetime
    end: datetime
    request: ReportRequest | None


@dataclass
class DayResult:
    """What one day's report gave: the outcome (None when nothing was requested) and its timeline."""

    day: DayRequest
    outcome: ReportOutcome | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "NOT_REQUESTED" if self.outcome is None else self.outcome.status

    @property
    def has_data(self) -> bool:
        return self.outcome is not None and self.outcome.has_data


# ------------------------------------------------------------------------------------------ windows
def latest_end(now: datetime) -> datetime:
    """The latest inclusive dataEndTime to send: the last full hour at least two minutes ago.

    Whole hours keep the ledger key of a still-running day stable for an hour, so a relaunch within
    the hour resumes the report it requested rather than asking again.
    """
    return (now - END_MARGIN).astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(seconds=1)


def period_end(row: ReportType, day: date) -> date:
    """The first day after the partition that starts on ``day``: the next day, or the next month's first."""
    if row.window == MONTHLY:
        return (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return day + timedelta(days=1)


def day_window(entry: MarketplaceConfig, row: ReportType, day: date) -> tuple[datetime, datetime]:
    """``[start, end]`` (UTC, end inclusive, as Amazon's dataEndTime) of the partition starting on ``day``.

    Calendar and monthly reports aggregate by date, so their window is whole UTC days; the others'
    is the marketplace's local day converted to UTC.
    """
    zone = UTC if row.window in (CALENDAR, MONTHLY) else ZoneInfo(entry.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    following = datetime.combine(period_end(row, day), time(0), tzinfo=zone)
    return start, following.astimezone(UTC) - timedelta(seconds=1)


def day_requests(entry: MarketplaceConfig, row: ReportType, options: dict[str, str], partition_keys: Sequence[str],
                 now: datetime) -> list[DayRequest]:
    """One request per partition (a day, or a month for monthly reports). Snapshot reports send no
    window; the others send the partition's, its end clamped to ``latest_end(now)`` while it is running."""
    if not row.creatable:
        raise ValueError(f"{row.name} reports are listed, not requested")
    out = []
    for key in partition_keys:
        day = date.fromisoformat(key)
        start, end = day_window(entry, row, day)
        if row.window == SNAPSHOT:
            out.append(DayRequest(day, start, end, ReportRequest(row.name, entry.marketplace_id, options=options)))
            continue
        end = min(end, latest_end(now))
        request = (ReportRequest(row.name, entry.marketplace_id, start, end, options)
                   if end >= start else None)
        out.append(DayRequest(day, start, end, request))
    return out


# ------------------------------------------------------------------------------------------ waiting
def ledger() -> ReportLedger:
    """The report ledger beside the database (``SP_ASSETS_REPORT_LEDGER``: another file, or a PostgreSQL
    URL several machines share). One that cannot be used fails the step before any report is requested,
    with the sentence that names the variable."""
    try:
        return ReportLedger(report_ledger_location())
    except LedgerError as error:
        raise dg.Failure(description=str(error)) from None


def download_dir() -> Path:
    """Documents land in the data folder, not in /tmp (often a RAM disk): a report can be gigabytes
    (``paths.report_download_dir``: ``SP_ASSETS_DATA_DIR`` when set)."""
    path = report_download_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def snapshot_retention(entry: MarketplaceConfig, now: datetime) -> timedelta:
    """A snapshot report requested before today's local midnight holds yesterday's state: not resumed."""
    midnight = datetime.combine(now.astimezone(ZoneInfo(entry.timezone)).date(), time(0),
                                tzinfo=ZoneInfo(entry.timezone))
    return max(timedelta(0), now - midnight)


def fetch_days(client: SPAPIClient, days: Sequence[DayRequest], *, poll: PollPolicy,
               report_ledger: ReportLedger | None = None, work_dir: Path | None = None) -> list[DayResult]:
    """Request or resume every day's report and wait for all of them (side by side, in threads).

    Raises ``ReportFatalError`` for the first FATAL day and re-raises any other error, after
    stopping the other days' polling (their ids stay in the ledger, so nothing is lost).
    ``ReportTimeoutError`` is raised last, once every other day has finished, so a retry finds them
    all DONE and downloads them without a new request. Files of finished days are deleted on error.
    """
    results = [DayResult(day) for day in days]
    pending = [r for r in results if r.day.request is not None]
    if not pending:
        return results
    the_ledger = report_ledger or ledger()
    target = work_dir or download_dir()
    cancel = threading.Event()

    def sleep(seconds: float) -> None:
        if cancel.wait(seconds):
            raise _Cancelled()

    def run(result: DayResult) -> None:
        assert result.day.request is not None

        def on_status(event: StatusEvent) -> None:
            result.timeline.append({"status": event.status, "after_s": round(event.elapsed, 3),
                                    "report_id": event.report_id, "resumed": event.resumed})

        result.outcome = run_report(client, the_ledger, result.day.request, poll=poll, on_status=on_status,
                                    work_dir=target, sleep=sleep)

    with ThreadPoolExecutor(max_workers=min(PARALLEL_REPORTS, len(pending)),
                            thread_name_prefix="report-wait") as pool:
        futures: list[Future[None]] = [pool.submit(run, r) for r in pending]
        for future in as_completed(futures):
            if _is_hard(future.exception()):
                cancel.set()  # the run fails anyway: stop the other days' polling now
    errors = [error for f in futures if (error := f.exception()) is not None]
    hard = [e for e in errors if _is_hard(e)]
    timeouts = [e for e in errors if isinstance(e, ReportTimeoutError)]
    if hard or timeouts:
        cleanup(results)
        fatal = next((e for e in hard if isinstance(e, ReportFatalError)), None)
        raise fatal or (hard[0] if hard else timeouts[0])
    return results


def _is_hard(error: BaseException | None) -> bool:
    return error is not None and not isinstance(error, ReportTimeoutError | _Cancelled)


def cleanup(results: Sequence[DayResult]) -> None:
    for result in results:
        if result.outcome is not None:
            result.outcome.cleanup()


def mark_consumed(client: SPAPIClient, results: Sequence[DayResult], report_ledger: ReportLedger | None = None) -> None:
    """The data of these days is stored: their next run asks Amazon for fresh data."""
    the_ledger = report_ledger or ledger()
    for result in results:
        if result.outcome is not None and result.day.request is not None:
            the_ledger.mark_consumed(client.credential_id, result.day.request, result.outcome.report_id)


def poll_policy(entry: MarketplaceConfig, row: ReportType, now: datetime) -> PollPolicy:
    retention = snapshot_retention(entry, now) if row.window == SNAPSHOT else PollPolicy().retention
    return PollPolicy(timeout=ATTEMPT_WAIT, retention=retention)


def fetch_or_stop(context: dg.AssetExecutionContext, client: SPAPIClient, days: Sequence[DayRequest], *,
                  poll: PollPolicy, what: str) -> list[DayResult]:
    """``fetch_days`` with Amazon's outcomes turned into Dagster's: FATAL fails the run without retry
    (with the error document's text), a report still running asks for a retry after a pause."""
    try:
        return fetch_days(client, days, poll=poll)
    except ReportFatalError as error:
        raise fatal_failure(what, error) from None
    except (InvalidInputError, AccessDeniedError) as error:
        # A refused request (an option the type does not take, a role the app lacks) is deterministic.
        raise dg.Failure(description=f"{what}: Amazon refused the report request: {error}. Check the report's "
                                     f"type and options in marketplaces.<code>.reports, and the app's roles.",
                         allow_retries=False) from None
    except ReportDocumentError as error:
        raise document_failure(what, error) from None
    except ReportTimeoutError as error:
        attempt = context.retry_number + 1
        then = "requests it" if isinstance(error, ReportPacedError) else "resumes the same report"
        context.log.warning(f"{what}: {error} (attempt {attempt} of {MAX_WAIT_ATTEMPTS + 1}); the step gives its "
                            f"pool slot back and {then} in {RETRY_PAUSE / client.speed:.0f}s")
        raise dg.RetryRequested(max_retries=MAX_WAIT_ATTEMPTS, seconds_to_wait=RETRY_PAUSE / client.speed) from error


def document_failure(what: str, error: ReportDocumentError) -> dg.Failure:
    """A document that cannot be loaded (truncated gzip, wrong charset, full disk): the step retry would
    download the same bytes into the same folder, so the run fails at once, naming the asset and report."""
    return dg.Failure(
        description=(f"{what}: {error}. The report stays in the ledger: launching the partition again downloads "
                     f"the same report without a new request."),
        metadata={"report_id": error.report_id}, allow_retries=False,
    )


def fatal_failure(what: str, error: ReportFatalError) -> dg.Failure:
    details = error.error_details or "Amazon gave no error document"
    return dg.Failure(
        description=(
            f"{what}: Amazon ended report {error.report_id} ({error.request.report_type}, "
            f"{error.request.describe()}) FATAL: {details}. Nothing was written for the run's partitions. "
            f"FATAL is final for that report: launching the partition again requests a new one. Usual causes: "
            f"a window this report type does not allow, data not available yet for the window, or requesting "
            f"the same report too often."
        ),
        metadata={"report_id": error.report_id, "report_type": error.request.report_type,
                  "error_document": details},
        allow_retries=False,
    )


# ------------------------------------------------------------------------------------------ metadata
# The columns every loaded report row gets from us, not from the file.
_CONSTANT_COLUMNS = (
    (PARTITION_COLUMN, "DATE", "the partition: the day (a monthly report: the month's first day) the report covers"),
    (REPORT_ID_COLUMN, "VARCHAR", "Amazon's id of the report the row was loaded from"),
)


def report_schema(row: ReportType, extra: tuple[tuple[str, str, str], ...] = ()) -> dg.TableSchema | None:
    """The table's columns as the loader creates them, where the catalog knows the file's header: each
    header snake_cased, typed as the loader types it (the row's declared type, else ``NAME_TYPES`` by
    name, else text), then the columns the loader adds. None for a type whose header is not in the catalog
    (its columns are known only once a file is loaded)."""
    if not row.columns:
        return None
    columns: dict[str, dg.TableColumn] = {}
    for header in row.columns:
        name = snake_case(header)
        declared = row.column_types.get(name) or (row.name_types.type_of(name) if row.name_types else None)
        columns.setdefault(name, dg.TableColumn(name, declared or "VARCHAR", description=f"Amazon's `{header}`"))
    for name, sql_type, description in (*_CONSTANT_COLUMNS, *extra):
        columns[name] = dg.TableColumn(name, sql_type, description=description)
    return dg.TableSchema(columns=list(columns.values()))


def report_metadata(results: Sequence[DayResult], rows_by_day: dict[date, int]) -> dict[str, Any]:
    """Report ids, statuses, resumed or not, status timelines, bytes and URL refreshes, per day."""
    days = []
    for result in results:
        outcome = result.outcome
        entry: dict[str, Any] = {
            "day": result.day.day.isoformat(), "status": result.status, "rows": rows_by_day.get(result.day.day, 0),
            "data_start_time": result.day.start.isoformat() if result.day.request is not None else None,
            "data_end_time": result.day.end.isoformat() if result.day.request is not None else None,
        }
        if result.day.request is not None and result.day.request.data_start is None:
            entry["data_start_time"] = entry["data_end_time"] = None  # a snapshot: no window is sent
        if outcome is not None:
            entry.update({"report_id": outcome.report_id, "resumed": outcome.resumed,
                          "waited_s": round(outcome.elapsed, 3), "timeline": result.timeline,
                          "charset": outcome.charset, "bytes_downloaded": outcome.bytes_downloaded,
                          "url_refreshes": outcome.url_refreshes, "decode_replacements": outcome.decode_replacements})
        days.append(entry)
    requested = [r for r in results if r.outcome is not None]
    metadata: dict[str, Any] = {
        "report_ids": ", ".join(r.outcome.report_id for r in requested if r.outcome is not None) or "none",
        "report_status": ", ".join(sorted({r.status for r in results})) or "none",
        "resumed": any(r.outcome.resumed for r in requested if r.outcome is not None),
        "cancelled_days": ", ".join(r.day.day.isoformat() for r in results if r.status == "CANCELLED") or "none",
        "url_refreshes": sum(r.outcome.url_refreshes for r in requested if r.outcome is not None),
        "reports": dg.MetadataValue.json(days),
    }
    if len(results) == 1 and requested:
        only = requested[0]
        assert only.outcome is not None
        metadata["report_id"] = only.outcome.report_id
        metadata["status_timeline"] = dg.MetadataValue.json(only.timeline)
    if any(r.status == "CANCELLED" for r in results):
        metadata["note"] = ("Amazon answered CANCELLED for the day(s) in cancelled_days: no data for the window "
                            "(Amazon's 'no data'); those partitions were written with zero rows.")
    return metadata


def day_metadata(results: Sequence[DayResult]) -> dict[date, dict[str, Any]]:
    """Per partition day: its report's id and status (what ``per_partition`` puts on that partition)."""
    return {r.day.day: {"report_id": r.outcome.report_id if r.outcome is not None else "none",
                        "report_status": r.status} for r in results}


def unparsed_metadata(per_write: Iterable[Mapping[str, int]]) -> dict[str, Any]:
    """``unparsed_values``: values per typed column that did not parse (their text is in ``<column>__raw``)."""
    total: dict[str, int] = {}
    for counts in per_write:
        for column, count in counts.items():
            total[column] = total.get(column, 0) + count
    return {"unparsed_values": sum(total.values()),
            "unparsed_columns": dg.MetadataValue.json(dict(sorted(total.items())))}
