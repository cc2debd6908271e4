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

import codecs
import gzip
import hashlib
import json
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from filelock import FileLock

from sp_assets.lib.marketplaces import UnknownMarketplaceError, by_id
from sp_assets.lib.spapi.errors import AccessDeniedError, InvalidInputError, NotFoundError, SPAPIError
from sp_assets.lib.spapi.http import SPAPIClient, iso_z
from sp_assets.lib.spapi.redaction import get_logger
from sp_assets.lib.spapi.reports import (
    TERMINAL_STATUSES,
    create_report,
    get_report,
    get_report_document,
)

log = get_logger(__name__)

# Report types whose document is JSON rather than a flat file.
JSON_REPORT_TYPES = frozenset({
    "GET_SALES_AND_TRAFFIC_REPORT", "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT", "GET_VENDOR_SALES_REPORT",
    "GET_VENDOR_TRAFFIC_REPORT", "GET_VENDOR_INVENTORY_REPORT", "GET_VENDOR_FORECASTING_REPORT",
    "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT", "GET_VENDOR_REAL_TIME_INVENTORY_REPORT",
    "GET_SELLER_COUPON_REPORT", "GET_PROMOTION_PERFORMANCE_REPORT",
})
_MAX_MARKETPLACES = 25


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


class ReportDownloadError(ReportError):
    """The document could not be downloaded (the presigned URL kept expiring, or the body is unreadable)."""


# ------------------------------------------------------------------------------------------ request
@dataclass(frozen=True)
class ReportRequest:
    """One report to request: type, marketplaces, data window and options (string -> string).

    ``data_end`` is inclusive, as Amazon's ``dataEndTime``: a UTC day is ``[D 00:00:00, D 23:59:59]``
    (see ``day_window``). ``key`` is stable across processes and is the ledger's key.
    """

    report_type: str
    marketplace_ids: tuple[str, ...]
    data_start: datetime | None = None
    data_end: datetime | None = None
    options: tuple[tuple[str, str], ...] = ()

    def __init__(self, report_type: str, marketplace_ids: str | Sequence[str], data_start: datetime | None = None,
                 data_end: datetime | None = None, options: Mapping[str, str] | None = None) -> None:
        ids = (marketplace_ids,) if isinstance(marketplace_ids, str) else tuple(marketplace_ids)
        object.__setattr__(self, "report_type", _valid_report_type(report_type))
        object.__setattr__(self, "marketplace_ids", _valid_marketplaces(ids))
        object.__setattr__(self, "data_start", _aware("data_start", data_start))
        object.__setattr__(self, "data_end", _aware("data_end", data_end))
        object.__setattr__(self, "options", _valid_options(options))
        if self.data_start and self.data_end and self.data_start > self.data_end:
            raise ValueError(f"data_start ({self.data_start.isoformat()}) must not be after data_end "
                             f"({self.data_end.isoformat()})")

    @property
    def options_dict(self) -> dict[str, str]:
        return dict(self.options)

    @property
    def key(self) -> str:
        """A stable text key: the same request gives the same key in every process."""
        return json.dumps([self.report_type, list(self.marketplace_ids), _iso(self.data_start), _iso(self.data_end),
                           [list(o) for o in self.options]], separators=(",", ":"))

    def describe(self) -> str:
        window = f" {_iso(self.data_start)}..{_iso(self.data_end)}" if self.data_start or self.data_end else ""
        options = f" {self.options_dict}" if self.options else ""
        return f"{','.join(self.marketplace_ids)}{window}{options}"

    @property
    def is_json(self) -> bool:
        return self.report_type in JSON_REPORT_TYPES

    @property
    def fallback_charset(self) -> str | None:
        """The charset Amazon uses for the first marketplace's flat files, for documents that omit it."""
        try:
            return by_id(self.marketplace_ids[0]).charset
        except UnknownMarketplaceError:
            return None


def day_window(day_start: datetime) -> tuple[datetime, datetime]:
    """``(start, end)`` of one whole day for ``ReportRequest``: the end is the last second (inclusive)."""
    start = _aware("day_start", day_start)
    assert start is not None
    return start, start + timedelta(days=1) - timedelta(seconds=1)


def _valid_report_type(value: str) -> str:
    if not isinstance(value, str) or not value or not value.replace("_", "").isalnum() or value.upper() != value:
        raise ValueError(f"report_type must be an Amazon report type such as GET_MERCHANT_LISTINGS_ALL_DATA, "
                         f"got {value!r}")
    return value


def _valid_marketplaces(ids: tuple[str, ...]) -> tuple[str, ...]:
    if not 1 <= len(ids) <= _MAX_MARKETPLACES or not all(isinstance(i, str) and i for i in ids):
        raise ValueError(f"marketplace_ids must hold 1 to {_MAX_MARKETPLACES} marketplace id strings, got {ids!r}")
    return ids


def _valid_options(options: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if options is None:
        return ()
    if not isinstance(options, Mapping):
        raise ValueError(f"options must be a mapping of strings to strings, got {type(options).__name__}")
    bad = [f"{k!r} ({type(v).__name__})" for k, v in options.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise ValueError(f"report options must map strings to strings (Amazon refuses other types); "
                         f"not strings: {', '.join(bad)}")
    return tuple(sorted(options.items()))


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso_z(value)


# ------------------------------------------------------------------------------------------ ledger
@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows about the latest report requested for one key."""

    key: str
    report_id: str
    status: str
    document_id: str | None
    requested_at: datetime
    updated_at: datetime
    consumed_at: datetime | None
    error: str | None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    key TEXT PRIMARY KEY,
    credential TEXT NOT NULL,
    marketplace_ids TEXT NOT NULL,
    report_type TEXT NOT NULL,
    data_start TEXT,
    data_end TEXT,
    options TEXT NOT NULL,
    report_id TEXT NOT NULL,
    status TEXT NOT NULL,
    document_id TEXT,
    requested_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    consumed_at TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS report_attempts (
    key TEXT NOT NULL,
    report_id TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (key, report_id)
);
"""


class ReportLedger:
    """Durable report ids per (credential, request), in a SQLite file (stdlib, WAL mode).

    Connections are opened per call, so one ledger object is safe across threads and several processes
    can share one file (SQLite serializes the writes). The credential is stored as its fingerprint only.
    ``report_attempts`` keeps every report ever requested per key, for debugging and metadata.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"ReportLedger({str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=60.0)) as conn:
            conn.execute("PRAGMA busy_timeout=60000")
            with conn:  # one transaction per call
                yield conn

    @staticmethod
    def key_for(credential: str, request: ReportRequest) -> str:
        return hashlib.sha256(f"{credential}\n{request.key}".encode()).hexdigest()

    @contextmanager
    def lock(self, credential: str, request: ReportRequest, timeout: float = 600.0) -> Iterator[None]:
        """Serialize "look up or request" for one key across processes (two runs of one partition)."""
        lock_dir = self.path.with_name(self.path.name + ".locks")
        lock_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock_dir / f"{self.key_for(credential, request)[:32]}.lock"), timeout=timeout):
            yield

    def entry(self, credential: str, request: ReportRequest) -> LedgerEntry | None:
        with self._connect() as conn:
            row = conn.execute("SELECT key, report_id, status, document_id, requested_at, updated_at, consumed_at, "
                               "error FROM reports WHERE key = ?", (self.key_for(credential, request),)).fetchone()
        return None if row is None else _entry(row)

    def record_requested(self, credential: str, request: ReportRequest, report_id: str) -> LedgerEntry:
        """Store a freshly requested report id for the key (replacing the previous one) before polling."""
        key, now = self.key_for(credential, request), _now_text()
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO reports (key, credential, marketplace_ids, report_type, data_start, data_end, options, "
                "report_id, status, document_id, requested_at, updated_at, consumed_at, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'IN_QUEUE', NULL, ?, ?, NULL, NULL) "
                "ON CONFLICT(key) DO UPDATE SET report_id = excluded.report_id, status = 'IN_QUEUE', "
                "document_id = NULL, requested_at = excluded.requested_at, updated_at = excluded.updated_at, "
                "consumed_at = NULL, error = NULL",
                (key, credential, ",".join(request.marketplace_ids), request.report_type, _iso(request.data_start),
                 _iso(request.data_end), json.dumps(request.options_dict, sort_keys=True), report_id, now, now),
            )
            conn.execute("INSERT OR REPLACE INTO report_attempts VALUES (?, ?, ?, 'IN_QUEUE', ?)",
                         (key, report_id, now, now))
        entry = self.entry(credential, request)
        assert entry is not None
        return entry

    def update(self, credential: str, request: ReportRequest, report_id: str, status: str,
               document_id: str | None = None, error: str | None = None) -> None:
        """Record a status seen for ``report_id`` (ignored if the key has since moved to another report)."""
        key, now = self.key_for(credential, request), _now_text()
        with self._connect() as conn:
            conn.execute("UPDATE reports SET status = ?, document_id = COALESCE(?, document_id), updated_at = ?, "
                         "error = COALESCE(?, error) WHERE key = ? AND report_id = ?",
                         (status, document_id, now, error, key, report_id))
            conn.execute("UPDATE report_attempts SET status = ?, updated_at = ? WHERE key = ? AND report_id = ?",
                         (status, now, key, report_id))

    def mark_consumed(self, credential: str, request: ReportRequest, report_id: str | None = None) -> None:
        """The caller has stored this report's data: the next run for the key requests a fresh report."""
        key = self.key_for(credential, request)
        with self._connect() as conn:
            if report_id is None:
                conn.execute("UPDATE reports SET consumed_at = ? WHERE key = ?", (_now_text(), key))
            else:
                conn.execute("UPDATE reports SET consumed_at = ? WHERE key = ? AND report_id = ?",
                             (_now_text(), key, report_id))

    def forget(self, credential: str, request: ReportRequest) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM reports WHERE key = ?", (self.key_for(credential, request),))

    def attempts(self, credential: str, request: ReportRequest) -> list[tuple[str, str]]:
        """(report id, last status) of every report requested for the key, oldest first."""
        with self._connect() as conn:
            rows = conn.execute("SELECT report_id, status FROM report_attempts WHERE key = ? ORDER BY requested_at, "
                                "rowid", (self.key_for(credential, request),)).fetchall()
        return [(r[0], r[1]) for r in rows]


def _now_text() -> str:
    return datetime.now(UTC).isoformat()


def _entry(row: tuple) -> LedgerEntry:
    return LedgerEntry(key=row[0], report_id=row[1], status=row[2], document_id=row[3],
                       requested_at=datetime.fromisoformat(row[4]), updated_at=datetime.fromisoformat(row[5]),
                       consumed_at=datetime.fromisoformat(row[6]) if row[6] else None, error=row[7])


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
        """The flat file as a ``report_parsing.TsvTable`` (rows by header name, every column kept)."""
        from sp_assets.lib.report_parsing import read_tsv

        if self.path is None or self.data is not None:
            raise ValueError(f"report {self.report_id} has no flat file (status {self.status})")
        return read_tsv(self.path, quote=quote, header_map=header_map)

    def cleanup(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


StatusCallback = Callable[[StatusEvent], None]


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
        with self.ledger.lock(self.credential, self.request):
            entry = self.ledger.entry(self.credential, self.request)
            if entry is not None and self._resumable(entry):
                log.info("report %s for %s: resuming %s (last seen %s, requested %s)", self.request.report_type,
                         self.request.describe(), entry.report_id, entry.status, entry.requested_at.isoformat())
                return entry.report_id, True
            return self._create(), False

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
            if status != self.status:
                self._status_changed(status, report)
            if status in TERMINAL_STATUSES:
                return report
            if time.monotonic() >= deadline:
                raise ReportTimeoutError(self.request, self.report_id, status, self.elapsed())
            self.sleep(min(self.poll.delay(polls, self.speed), max(0.0, deadline - time.monotonic())))
            polls += 1

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
    def _download(self, document_id: str, target: Path) -> tuple[dict[str, Any], Any, int]:
        """Download to ``target``; an expired presigned URL (403) is refreshed via getReportDocument."""
        refreshes = 0
        while True:
            document = get_report_document(self.client, document_id)
            try:
                return document, self.client.download_to(document["url"], target), refreshes
            except AccessDeniedError as error:
                if refreshes >= self.poll.max_url_refreshes:
                    raise ReportDownloadError(
                        f"report {self.report_id}: the document URL was refused {refreshes + 1} times "
                        f"(expired presigned URL?): {error}") from None
                refreshes += 1
                log.info("report %s: document URL refused (%s); asking for a fresh one (%d/%d)", self.report_id,
                         error.status, refreshes, self.poll.max_url_refreshes)

    def _error_document(self, document_id: str) -> str | None:
        """The text of a FATAL report's error document (small JSON ``{"errorDetails": ...}``)."""
        with tempfile.TemporaryDirectory(prefix="sp-report-error-") as tmp:
            raw = Path(tmp) / "error.raw"
            try:
                _document, result, _ = self._download(document_id, raw)
            except SPAPIError as error:
                log.warning("report %s: could not read its error document: %s", self.report_id, error)
                return None
            with _open_maybe_gzip(raw) as stream:
                text = stream.read(1 << 20).decode(_python_codec(result.charset) or "utf-8", "replace")
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
        with _open_maybe_gzip(raw) as stream:
            head = stream.read(512)
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
        try:
            _document, result, refreshes = self._download(document_id, raw)
            self._refuse_non_document(raw, result.content_type)
            is_json = self.request.is_json or "json" in (result.content_type or "").lower()
            target = work / f"{stem}.{'json' if is_json else 'tsv'}"
            transcoded = transcode_to_utf8(raw, target, declared=result.charset,
                                           fallback=self.request.fallback_charset)
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
            outcome.rows = max(0, transcoded.lines - 1)
        log.info("report %s %s: %s bytes downloaded, charset %s, %s", self.request.report_type, self.report_id,
                 result.bytes, transcoded.charset, "JSON" if is_json else f"{outcome.rows} rows")
        return outcome


# ------------------------------------------------------------------------------------------ decoding
# Java/IANA names Amazon puts in Content-Type -> the Python codec that decodes them. Shift_JIS is read
# as cp932 (Windows-31J), its superset, because Amazon's "Shift_JIS" files carry Windows-only characters.
_CHARSET_ALIASES = {
    "cp1252": "cp1252", "windows-1252": "cp1252", "x-windows-1252": "cp1252",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932",
    "ms932": "cp932", "cp932": "cp932", "utf-8": "utf-8-sig", "utf8": "utf-8-sig",
}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Transcoded:
    charset: str
    lines: int
    replacements: int


def _python_codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def _open_maybe_gzip(path: Path) -> BinaryIO:
    """A gzip document is gunzipped whatever ``compressionAlgorithm`` said (the magic bytes decide)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")  # type: ignore[return-value]


def transcode_to_utf8(source: Path, target: Path, *, declared: str | None, fallback: str | None) -> Transcoded:
    """Gunzip (if gzip) and re-encode ``source`` as UTF-8 into ``target``, streaming.

    The declared charset (``Content-Type``) wins. A byte invalid in it spoils one value, not the
    document: it becomes U+FFFD (counted in ``replacements``) and everything else is read as declared.
    Re-reading the whole document in another charset instead would silently turn every accented or
    Japanese character of every other row into mojibake. The one exception is a document declared
    UTF-8 that holds no UTF-8 multibyte sequence at all: that is another charset mislabelled, and it
    is read like an undeclared one. Without a declared charset, UTF-8 is tried first, then the
    marketplace's charset, then cp1252 (wire contract 2.9); if all fail, the first is used with
    replacement characters.
    """
    declared_codec = _python_codec(declared)
    if declared_codec is not None:
        try:
            return _transcode(source, target, declared_codec, "strict")
        except UnicodeDecodeError:
            pass
        if not declared_codec.startswith("utf-8") or _has_utf8_multibyte(source):
            log.warning("document declared %s holds bytes invalid in it: each becomes U+FFFD (decode_replacements)",
                        declared)
            return _transcode(source, target, declared_codec, "replace")
        log.info("document declared %s holds no UTF-8 text: reading it as the marketplace's charset", declared)
    candidates = [c for c in dict.fromkeys([
        "utf-8-sig" if declared_codec is None else None, _python_codec(fallback), "cp1252",
    ]) if c]
    for codec in candidates:
        try:
            return _transcode(source, target, codec, "strict")
        except UnicodeDecodeError:
            log.info("document is not valid %s; trying the next charset", codec)
    return _transcode(source, target, declared_codec or candidates[0], "replace")


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _has_utf8_multibyte(source: Path) -> bool:
    """True if the (gunzipped) document holds at least one well-formed UTF-8 multibyte sequence."""
    tail = b""
    with _open_maybe_gzip(source) as stream:
        while chunk := stream.read(_CHUNK):
            if _UTF8_MULTIBYTE.search(tail + chunk):
                return True
            tail = chunk[-3:]
    return False


def _transcode(source: Path, target: Path, codec: str, errors: str) -> Transcoded:
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    lines = replacements = 0
    last = ""
    first = True
    with _open_maybe_gzip(source) as stream, target.open("w", encoding="utf-8", newline="") as out:
        while True:
            chunk = stream.read(_CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            if text:
                if first and text.startswith("\ufeff"):
                    text = text[1:]
                first = False
                out.write(text)
                lines += text.count("\n")
                if errors == "replace":
                    replacements += text.count("\ufffd")
                last = text[-1:] or last
            if not chunk:
                break
    if last and last != "\n":
        lines += 1
    return Transcoded(codec, lines, replacements)

