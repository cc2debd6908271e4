"""The report lifecycle: request (or resume) -> poll -> document -> download -> decode. Plain Python.

Amazon's reports take minutes to hours, and no peer reviewed keeps the ``reportId`` of a report in
flight: a crashed or retried run requests a new report and waits all over again (and spends one of
the 15 createReport tokens). Here the report id goes into a small durable **ledger** (SQLite, WAL)
before polling starts, keyed by (credential fingerprint, marketplaces, report type, window, options),
so a relaunched run for the same key resumes polling the same report.

``run_report`` never touches DuckDB: waiting for Amazon holds no database lock. It returns a
``ReportOutcome`` with a UTF-8 file (TSV) or the parsed JSON; the caller loads it, then calls
``ReportLedger.mark_consumed`` so that the next run for that key asks Amazon for fresh data instead
of resuming a report whose data it already has. CANCELLED is Amazon's "no data" and is an outcome,
not an error; FATAL raises ``ReportFatalError`` carrying the error document's text.
"""

from __future__ import annotations

import errno
import json
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.api import TERMINAL_STATUSES, create_report, get_report, get_report_document
from sp_assets.lib.reports.decoding import (
    DocumentError,
    open_maybe_gzip,
    python_codec,
    read_head,
    transcode_to_utf8,
)
from sp_assets.lib.reports.ledger import LedgerEntry, ReportLedger
from sp_assets.lib.reports.request import ReportRequest
from sp_assets.lib.reports.xml_documents import xml_to_flat_file
from sp_assets.lib.spapi.errors import AccessDeniedError, InvalidInputError, NotFoundError, SPAPIError
from sp_assets.lib.spapi.http import DownloadResult, SPAPIClient
from sp_assets.lib.spapi.redaction import get_logger

log = get_logger(__name__)
POLL_NOTICE_S = 1.0  # a poll whose next wait is this long (real seconds) gets its line in the run's log


class ReportError(SPAPIError):
    """Base class of the lifecycle's own errors."""


class ReportFatalError(ReportError):
    """Amazon aborted the report (FATAL). ``error_details`` holds the error document's text, if any.

    The ledger keeps the FATAL status, so the next run for the same key requests a new report.
    """

    def __init__(self, request: ReportRequest, report_id: str, error_details: str | None) -> None:
        self.request = request
        self.report_id = report_id
        self.error_details = error_details
        detail = error_details or "Amazon gave no error document"
        super().__init__(f"report {request.report_type} {report_id} for {request.describe()} ended FATAL: {detail}")


class ReportTimeoutError(ReportError):
    """The report did not finish within ``PollPolicy.timeout``; the ledger keeps its id to resume later."""

    def __init__(self, request: ReportRequest, report_id: str, status: str, waited: float) -> None:
        self.request = request
        self.report_id = report_id
        self.status = status
        super().__init__(f"report {request.report_type} {report_id} for {request.describe()} is still {status} "
                         f"after {waited:.0f}s; a later run resumes polling it (the id is in the ledger)")


class ReportPacedError(ReportTimeoutError):
    """Amazon generates this type at most once per period (catalog ``request_interval_minutes``) and the
    last request is too recent for this run to wait for: nothing was requested; a later run (the
    step's retry) requests it once the period has passed."""

    def __init__(self, request: ReportRequest, minutes: int, last: datetime, wait: float) -> None:
        self.request = request
        self.report_id = ""
        self.status = "NOT_REQUESTED"
        ReportError.__init__(self, (
            f"report {request.report_type} for {request.describe()}: Amazon generates it at most once every "
            f"{minutes} minutes and it was last requested at {last.isoformat()}; nothing was requested and nothing "
            f"was written, it can be requested in {wait:.0f}s"))


class ReportDownloadError(ReportError):
    """The document could not be downloaded (the presigned URL kept expiring, or the body is unreadable)."""


class ReportDocumentError(ReportDownloadError):
    """The document arrived but cannot be loaded as it is, and downloading it again gives the same bytes
    or the same full disk: a truncated gzip, a wrong charset, no space in the download folder. Nothing
    was written and no partial file is left; the report stays in the ledger (a relaunch reuses it)."""

    def __init__(self, message: str, report_id: str) -> None:
        super().__init__(message)
        self.report_id = report_id


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def unloadable_document_error(error: DocumentError | OSError, report_id: str,
                              folder: Path) -> ReportDocumentError | None:
    """The ``ReportDocumentError`` for a document that cannot be loaded, or None for other errors.

    A full disk names the folder (the download folder is ``SP_ASSETS_DATA_DIR``'s ``report_downloads``).
    """
    if isinstance(error, DocumentError):
        return ReportDocumentError(f"report {report_id}: {error}", report_id)
    if error.errno in _DISK_FULL:
        return ReportDocumentError(
            f"report {report_id}: no space left in the download folder {folder} ({error.strerror}); the partial "
            f"download was removed and nothing was written. Free space there, or point SP_ASSETS_DATA_DIR at a "
            f"folder with room for the document (a report can be gigabytes), then launch the partition again",
            report_id)
    return None


# ------------------------------------------------------------------------------------------ polling
@dataclass(frozen=True)
class PollPolicy:
    """How to wait for a report. Seconds are Amazon-time: divided by the client's ``speed``.

    getReport allows 2 calls a second with a burst of 15, so polling is cheap; the delay still grows
    (``initial_delay * multiplier**n`` up to ``max_delay``) because big reports take hours.
    ``timeout`` bounds one run's wait (the ledger keeps the id for the next run); ``retention`` is
    how old a ledger entry may be and still be resumed (Amazon keeps order report documents 30 days).
    """

    initial_delay: float = 5.0
    multiplier: float = 1.5
    max_delay: float = 120.0
    timeout: float = 6 * 3600.0
    max_url_refreshes: int = 3
    retention: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < 0 or self.multiplier < 1:
            raise ValueError("PollPolicy needs initial_delay >= 0, max_delay >= 0 and multiplier >= 1")
        if self.timeout <= 0:
            raise ValueError(f"PollPolicy.timeout must be positive, got {self.timeout}")
        if self.max_url_refreshes < 0:
            raise ValueError(f"PollPolicy.max_url_refreshes must be >= 0, got {self.max_url_refreshes}")

    def delay(self, poll_number: int, speed: float = 1.0) -> float:
        return min(self.max_delay, self.initial_delay * self.multiplier ** poll_number) / speed


@dataclass(frozen=True)
class StatusEvent:
    """A status change of a report, as passed to ``on_status`` (elapsed since this run started)."""

    request: ReportRequest
    report_id: str
    status: str
    elapsed: float
    resumed: bool


@dataclass
class ReportOutcome:
    """A finished report: DONE with a UTF-8 file (TSV) or parsed JSON, or CANCELLED (no data).

    ``path`` is a UTF-8 file in ``work_dir`` (the TSV as Amazon sent it, transcoded; or the JSON text);
    ``data`` is the parsed JSON for JSON reports; ``rows`` counts TSV data lines. Call ``cleanup`` when
    the data is stored, and ``ReportLedger.mark_consumed`` so the next run requests fresh data.
    """

    status: str
    request: ReportRequest
    report_id: str
    resumed: bool
    elapsed: float
    document_id: str | None = None
    path: Path | None = None
    data: Any = None
    rows: int | None = None
    charset: str | None = None
    bytes_downloaded: int = 0
    decode_replacements: int = 0
    url_refreshes: int = 0
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        return self.status == "DONE"

    def table(self, quote: str | None = '"', header_map: Mapping[str, str] | None = None) -> Any:
        """The flat file as a ``parsing.TsvTable`` (rows by header name, every column kept)."""
        from sp_assets.lib.reports.parsing import read_tsv

        if self.path is None or self.data is not None:
            raise ValueError(f"report {self.report_id} has no flat file (status {self.status})")
        return read_tsv(self.path, quote=quote, header_map=header_map)

    def cleanup(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


StatusCallback = Callable[[StatusEvent], None]


def download_document(client: SPAPIClient, document_id: str, target: Path, *, max_url_refreshes: int,
                      what: str) -> tuple[dict[str, Any], DownloadResult, int]:
    """Download a report document to ``target``: ``(document, download result, URL refreshes)``.

    The presigned URL expires after five minutes; a refused download (403) asks getReportDocument
    for a fresh URL, at most ``max_url_refreshes`` times. Every document download goes through here
    (requested reports and listed settlements alike).
    """
    refreshes = 0
    while True:
        document = get_report_document(client, document_id)
        try:
            return document, client.download_to(document["url"], target), refreshes
        except AccessDeniedError as error:
            if refreshes >= max_url_refreshes:
                raise ReportDownloadError(
                    f"{what}: the document URL was refused {refreshes + 1} times "
                    f"(expired presigned URL?): {error}") from None
            refreshes += 1
            log.info("%s: document URL refused (%s); asking for a fresh one (%d/%d)", what, error.status, refreshes,
                     max_url_refreshes)


def run_report(
    client: SPAPIClient,
    ledger: ReportLedger,
    request: ReportRequest,
    *,
    poll: PollPolicy | None = None,
    on_status: StatusCallback | None = None,
    work_dir: str | Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReportOutcome:
    """Get one report's data, resuming the report the ledger knows for this key when there is one.

    Raises ``ReportFatalError`` (FATAL), ``ReportTimeoutError`` (still running at the deadline),
    ``ReportDownloadError`` or the client's typed ``APIError``s.
    """
    run = _ReportRun(client, ledger, request, poll or PollPolicy(), on_status, work_dir, sleep)
    return run.execute()


class _ReportRun:
    """The state of one ``run_report`` call."""

    def __init__(self, client: SPAPIClient, ledger: ReportLedger, request: ReportRequest, poll: PollPolicy,
                 on_status: StatusCallback | None, work_dir: str | Path | None,
                 sleep: Callable[[float], None]) -> None:
        self.client = client
        self.ledger = ledger
        self.request = request
        self.poll = poll
        self.on_status = on_status
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self.sleep = sleep
        self.credential = client.credential_id
        self.speed = float(getattr(client, "speed", 1.0))
        self.started = time.monotonic()
        self.report_id = ""
        self.resumed = False
        self.status = ""

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    # ---------------------------------------------------------------- steps
    def execute(self) -> ReportOutcome:
        self.report_id, self.resumed = self._request_or_resume()
        report = self._wait_for_terminal()
        status = report["processingStatus"]
        if status == "CANCELLED":
            return ReportOutcome("CANCELLED", self.request, self.report_id, self.resumed, self.elapsed(),
                                 report=report)
        document_id = report.get("reportDocumentId")
        if status == "FATAL":
            details = self._error_document(document_id) if document_id else None
            self.ledger.update(self.credential, self.request, self.report_id, "FATAL", document_id, details)
            raise ReportFatalError(self.request, self.report_id, details)
        if not document_id:
            raise ReportDownloadError(f"report {self.report_id} is DONE but Amazon gave no reportDocumentId")
        return self._fetch_document(report, str(document_id))

    def _request_or_resume(self) -> tuple[str, bool]:
        for paced in (False, True):
            with self.ledger.lock(self.credential, self.request):
                entry = self.ledger.entry(self.credential, self.request)
                if entry is not None and self._resumable(entry):
                    log.info("report %s for %s: resuming %s (last seen %s, requested %s)", self.request.report_type,
                             self.request.describe(), entry.report_id, entry.status,
                             entry.requested_at.isoformat())
                    return entry.report_id, True
                if paced or self._wait_before_request() is None:
                    return self._create(), False
            self._pace()  # outside the lock: another run of this key may request meanwhile (then resume it)
        raise AssertionError("unreachable")

    def _wait_before_request(self) -> tuple[int, datetime, float] | None:
        """(minutes, last request, real seconds left) while a once-per-period type may not be requested yet."""
        minutes = catalog.lookup(self.request.report_type).request_interval_minutes
        if not minutes:
            return None
        last = self.ledger.last_requested(self.credential, self.request.report_type, self.request.marketplace_ids)
        if last is None:
            return None
        wait = minutes * 60 / self.speed - (datetime.now(UTC) - last).total_seconds()
        return (minutes, last, wait) if wait > 0 else None

    def _pace(self) -> None:
        """Wait until Amazon generates the type again, or raise ``ReportPacedError`` when that is later
        than this run's polling deadline (requesting now would end FATAL and restart nothing)."""
        pending = self._wait_before_request()
        if pending is None:
            return
        minutes, last, wait = pending
        if self.elapsed() + wait > self.poll.timeout / self.speed:
            raise ReportPacedError(self.request, minutes, last, wait)
        log.info("report %s for %s: Amazon generates it at most once every %s minutes; waiting %.1fs before "
                 "requesting it", self.request.report_type, self.request.describe(), minutes, wait)
        self.sleep(wait)

    def _resumable(self, entry: LedgerEntry) -> bool:
        if entry.consumed_at is not None or entry.status == "FATAL":
            return False
        return entry.requested_at >= datetime.now(UTC) - self.poll.retention

    def _create(self) -> str:
        r = self.request
        report_id = create_report(self.client, r.report_type, list(r.marketplace_ids), data_start_time=r.data_start,
                                  data_end_time=r.data_end, report_options=r.options_dict or None)
        self.ledger.record_requested(self.credential, r, report_id)
        log.info("report %s for %s: requested %s", r.report_type, r.describe(), report_id)
        return report_id

    def _recreate_unknown(self, stale_id: str) -> None:
        """Amazon no longer knows the resumed report (404, retention): request it again, once."""
        with self.ledger.lock(self.credential, self.request):
            entry = self.ledger.entry(self.credential, self.request)
            if entry is not None and entry.report_id != stale_id and self._resumable(entry):
                self.report_id = entry.report_id  # another process already requested a new one
            else:
                self.report_id = self._create()
        log.warning("report %s for %s: Amazon does not know report %s any more; now polling %s",
                    self.request.report_type, self.request.describe(), stale_id, self.report_id)
        self.resumed = False

    def _wait_for_terminal(self) -> dict[str, Any]:
        polls = 0
        deadline = self.started + self.poll.timeout / self.speed
        while True:
            try:
                report = get_report(self.client, self.report_id)
            except (NotFoundError, InvalidInputError):
                if not self.resumed:
                    raise
                self._recreate_unknown(self.report_id)
                polls = 0
                continue
            status = str(report.get("processingStatus", ""))
            changed = status != self.status
            if changed:
                self._status_changed(status, report)
            if status in TERMINAL_STATUSES:
                self._tell(f"{status} after {self.elapsed():.1f}s")
                return report
            if time.monotonic() >= deadline:
                raise ReportTimeoutError(self.request, self.report_id, status, self.elapsed())
            pause = min(self.poll.delay(polls, self.speed), max(0.0, deadline - time.monotonic()))
            if changed or polls == 0 or pause >= POLL_NOTICE_S:  # Amazon's pace: every poll; a fast sandbox: less
                self._tell(f"{status} after {self.elapsed():.1f}s; next check in {pause:.1f}s")
            self.sleep(pause)
            polls += 1

    def _tell(self, what: str) -> None:
        """A line for the run's log (the client's ``tell``, when it has one): the report and how it is doing."""
        tell = getattr(self.client, "tell", None)
        if tell is not None:
            tell(f"report {self.report_id} ({self.request.report_type}, {self.request.describe()}): {what}")

    def _status_changed(self, status: str, report: dict[str, Any]) -> None:
        self.status = status
        document_id = report.get("reportDocumentId")
        self.ledger.update(self.credential, self.request, self.report_id, status,
                           str(document_id) if document_id else None)
        log.info("report %s %s for %s: %s after %.1fs", self.request.report_type, self.report_id,
                 self.request.describe(), status, self.elapsed())
        if self.on_status is not None:
            self.on_status(StatusEvent(self.request, self.report_id, status, self.elapsed(), self.resumed))

    # ---------------------------------------------------------------- documents
    def _download(self, document_id: str, target: Path) -> tuple[dict[str, Any], DownloadResult, int]:
        return download_document(self.client, document_id, target, max_url_refreshes=self.poll.max_url_refreshes,
                                 what=f"report {self.report_id}")

    def _error_document(self, document_id: str) -> str | None:
        """The text of a FATAL report's error document (small JSON ``{"errorDetails": ...}``)."""
        with tempfile.TemporaryDirectory(prefix="sp-report-error-") as tmp:
            raw = Path(tmp) / "error.raw"
            try:
                _document, result, _ = self._download(document_id, raw)
            except SPAPIError as error:
                log.warning("report %s: could not read its error document: %s", self.report_id, error)
                return None
            with open_maybe_gzip(raw) as stream:
                text = stream.read(1 << 20).decode(python_codec(result.charset) or "utf-8", "replace")
        try:
            body = json.loads(text)
        except ValueError:
            return text.strip() or None
        if isinstance(body, dict) and "errorDetails" in body:
            return str(body["errorDetails"])
        return text.strip()

    def _refuse_non_document(self, raw: Path, content_type: str | None) -> None:
        """An empty body or an HTML page is a broken download, never a report: loading it would wipe the
        partition (Amazon says "no data" with CANCELLED, not with an empty DONE document) or store the
        page's lines as rows. The report stays in the ledger, so a relaunch downloads it again."""
        head = read_head(raw)
        if not head.strip():
            raise ReportDownloadError(f"report {self.report_id} is DONE but its document is empty; a relaunch "
                                      f"downloads it again (the report id stays in the ledger)")
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if "html" in (content_type or "").lower() or start.startswith((b"<!doctype html", b"<html")):
            page = head.decode("utf-8", "replace")
            raise ReportDownloadError(f"report {self.report_id}: the document URL answered an HTML page, not a "
                                      f"report ({content_type or 'no content-type'}): {page[:200]!r}")

    def _fetch_document(self, report: dict[str, Any], document_id: str) -> ReportOutcome:
        work = self.work_dir or Path(tempfile.mkdtemp(prefix="sp-report-"))
        work.mkdir(parents=True, exist_ok=True)
        stem = f"{self.request.report_type.lower()}-{self.report_id}"
        raw = work / f"{stem}.download"
        target = raw
        try:
            _document, result, refreshes = self._download(document_id, raw)
            self._refuse_non_document(raw, result.content_type)
            is_json = self.request.is_json or "json" in (result.content_type or "").lower()
            is_xml = self.request.is_xml and not is_json
            xml_rows = 0
            target = work / f"{stem}.{'json' if is_json else 'xml' if is_xml else 'tsv'}"
            transcoded = transcode_to_utf8(raw, target, declared=result.charset,
                                           fallback=self.request.fallback_charset)
            if is_xml:  # flattened on arrival: from here on it is a flat file like any other
                flat = work / f"{stem}.tsv"
                xml_rows = xml_to_flat_file(self.request.report_type, target, flat)
                target.unlink(missing_ok=True)
                target = flat
        except (DocumentError, OSError) as error:
            target.unlink(missing_ok=True)
            failure = unloadable_document_error(error, self.report_id, work)
            if failure is None:
                raise
            raise failure from None
        finally:
            raw.unlink(missing_ok=True)
        outcome = ReportOutcome(
            "DONE", self.request, self.report_id, self.resumed, self.elapsed(), document_id=document_id,
            path=target, charset=transcoded.charset, bytes_downloaded=result.bytes,
            decode_replacements=transcoded.replacements, url_refreshes=refreshes, report=report,
        )
        if is_json:
            with target.open(encoding="utf-8") as handle:
                text = handle.read()
            try:
                outcome.data = json.loads(text)
            except ValueError as error:
                outcome.cleanup()
                raise ReportDownloadError(f"report {self.report_id}: the document is not valid JSON ({error}); "
                                          f"it starts: {text[:200]!r}") from None
        else:
            outcome.rows = xml_rows if is_xml else max(0, transcoded.lines - 1)
        log.info("report %s %s: %s bytes downloaded, charset %s, %s", self.request.report_type, self.report_id,
                 result.bytes, transcoded.charset, "JSON" if is_json else f"{outcome.rows} rows")
        return outcome

