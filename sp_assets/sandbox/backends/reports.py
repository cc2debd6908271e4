"""Reports 2021-06-30: report records, their lifecycle, their documents and their persistence (no HTTP).

A report moves IN_QUEUE -> IN_PROGRESS -> DONE | CANCELLED | FATAL. The status is computed from the
time elapsed since creation when someone asks (getReport, getReports): each report gets a queue and a
processing delay chosen from its id (30-90 s and 60-300 s at speed 1, scaled by ``speed``). The
document is written by a worker thread started at creation (the data is the seller's at the moment
of the request, so writing it later gives the same bytes); a report stays IN_PROGRESS until both
its delay has passed and its document exists, as a big report takes longer on Amazon too. A window
without data ends CANCELLED (Amazon's "no data"), and fault injection can end a report FATAL with a
small JSON error document.

With ``config.state_dir`` every report is a JSON file and every document a file under
``<state_dir>/reports``, loaded at start, so a restarted sandbox (or a restarted client) finds its
reports again. Settlement reports cannot be requested: the sandbox lists one per marketplace and
14-day period, derived from the seller, with stable ids.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sp_assets.lib.marketplaces import MARKETPLACES, by_id, in_region
from sp_assets.lib.reports import catalog
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.backends.presigned import PresignedUrls

if TYPE_CHECKING:
    from sp_assets.sandbox.state import SandboxState

log = logging.getLogger(__name__)

RETENTION = timedelta(days=90)
URL_LIFETIME_SECONDS = 300.0
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
TERMINAL = frozenset({"CANCELLED", "DONE", "FATAL"})
_SETTLEMENT_ID_BASE = 40_000_000_000
_REPORT_ID_BASE = 50_000_000_000


def seller_key(credential: str) -> str:
    """Reports belong to a seller (the refresh token); stored as a digest, never the token itself."""
    return hashlib.sha256(credential.encode("utf-8")).hexdigest()[:16]


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass
class DocumentRecord:
    """A stored document: where its bytes are and how the download declares them."""

    document_id: str
    file: str  # name under the documents directory
    content_type: str
    compression: str | None  # "GZIP" or None (error documents are plain JSON, as Amazon's often are)


@dataclass
class ReportRecord:
    report_id: str
    seller: str
    region: str
    report_type: str
    marketplace_ids: list[str]
    data_start: datetime
    data_end: datetime
    options: dict[str, str]
    created: datetime
    queue_seconds: float
    processing_seconds: float
    outcome: str | None = None  # DONE / CANCELLED / FATAL once the document work is over
    finished_at: datetime | None = None
    cancelled_at: datetime | None = None
    document: DocumentRecord | None = None
    rows: int | None = None
    error: str | None = None
    settlement: tuple[str, int, bool] | None = field(default=None)  # (marketplace, period, v2) when listed only

    # ------------------------------------------------------------------ lifecycle
    def status(self, now: datetime) -> str:
        if self.cancelled_at is not None:
            return "CANCELLED"
        elapsed = (now - self.created).total_seconds()
        if elapsed < self.queue_seconds:
            return "IN_QUEUE"
        if elapsed < self.queue_seconds + self.processing_seconds or self.outcome is None:
            return "IN_PROGRESS"
        return self.outcome

    def processing_start(self) -> datetime:
        return self.created + timedelta(seconds=self.queue_seconds)

    def processing_end(self) -> datetime:
        if self.cancelled_at is not None:
            return self.cancelled_at
        planned = self.created + timedelta(seconds=self.queue_seconds + self.processing_seconds)
        return max(planned, self.finished_at or planned)

    def render(self, now: datetime) -> dict[str, Any]:
        """The ``Report`` object of the API."""
        from sp_assets.sandbox.operations import iso

        status = self.status(now)
        body: dict[str, Any] = {
            "reportId": self.report_id,
            "reportType": self.report_type,
            "dataStartTime": iso(self.data_start),
            "dataEndTime": iso(self.data_end),
            "marketplaceIds": list(self.marketplace_ids),
            "createdTime": iso(self.created),
            "processingStatus": status,
        }
        if status != "IN_QUEUE" and self.cancelled_at is None:
            body["processingStartTime"] = iso(self.processing_start())
        if status in TERMINAL:
            body["processingEndTime"] = iso(self.processing_end())
        if status in ("DONE", "FATAL") and self.document is not None:
            body["reportDocumentId"] = self.document.document_id
        return body

    # ------------------------------------------------------------------ persistence
    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("data_start", "data_end", "created", "finished_at", "cancelled_at"):
            data[name] = _ts(getattr(self, name))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportRecord:
        data = dict(data)
        for name in ("data_start", "data_end", "created", "finished_at", "cancelled_at"):
            data[name] = _dt(data.get(name))
        if data.get("document"):
            data["document"] = DocumentRecord(**data["document"])
        if data.get("settlement"):
            data["settlement"] = tuple(data["settlement"])
        return cls(**data)


class ReportsBackend:
    """All reports of one sandbox; thread-safe."""

    def __init__(self, state: SandboxState) -> None:
        self.config = state.config
        self.seller = state.seller
        self.faults = state.faults
        self.stats = state.stats
        self._backends = state.backends  # the FBA Inventory backend, if the sandbox has one, feeds reports
        self._extra = dict(self.config.extra or {})
        if self.config.state_dir is not None:
            self.root = Path(self.config.state_dir) / "reports"
        else:
            self.root = Path(tempfile.mkdtemp(prefix="sp-sandbox-reports-"))
            weakref.finalize(self, shutil.rmtree, str(self.root), True)
        self.reports_dir = self.root / "reports"
        self.documents_dir = self.root / "documents"
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        self.documents_dir.mkdir(parents=True, exist_ok=True)
        self.urls = PresignedUrls("sp-sandbox-documents", self.config.seed)
        self._lock = threading.RLock()
        self._workers = threading.BoundedSemaphore(2)
        self._reports: dict[str, ReportRecord] = {}
        self._documents: dict[str, tuple[ReportRecord, DocumentRecord]] = {}
        self._windows_seen: set[tuple] = set()
        self._last_id = 0
        self._urls_issued: set[str] = set()
        self._load()

    # ------------------------------------------------------------------ clock & ids
    def now(self) -> datetime:
        return self.seller.now()

    def _new_report_id(self) -> str:
        """Digits like Amazon's (``50099019234``), never reused in this state directory."""
        clock_based = _REPORT_ID_BASE + int(time.time() * 100) % 40_000_000_000
        self._last_id = max(self._last_id + 1, clock_based)
        return str(self._last_id)

    @staticmethod
    def _new_document_id(region: str) -> str:
        return f"amzn1.spdoc.1.4.{region.lower()}.{uuid.uuid4()}.T{uuid.uuid4().hex[:12].upper()}.{int(time.time())}"

    def _delays(self, report_id: str) -> tuple[float, float]:
        digest = int.from_bytes(hashlib.sha256(report_id.encode()).digest()[:8], "big")
        queue = self._extra.get("report_queue_seconds")
        processing = self._extra.get("report_processing_seconds")
        return (float(queue) if queue is not None else self.config.scaled(30 + digest % 61),
                float(processing) if processing is not None else self.config.scaled(60 + (digest // 61) % 241))

    # ------------------------------------------------------------------ create
    def create(self, seller: str, region: str, report_type: str, marketplace_ids: list[str],
               data_start: datetime, data_end: datetime, options: dict[str, str]) -> ReportRecord:
        with self._lock:
            report_id = self._new_report_id()
            queue, processing = self._delays(report_id)
            record = ReportRecord(report_id=report_id, seller=seller, region=region, report_type=report_type,
                                  marketplace_ids=list(marketplace_ids), data_start=data_start, data_end=data_end,
                                  options=dict(options), created=self.now(), queue_seconds=queue,
                                  processing_seconds=processing)
            window = self._window_key(record)
            first_in_window = window not in self._windows_seen
            self._windows_seen.add(window)
            too_soon = self._too_soon(record)
            self._reports[report_id] = record
            spec = self.faults.spec
            fatal = (spec.fatal_first and first_in_window) or (spec.fatal_rate and self.faults.draw(spec.fatal_rate))
            if too_soon is not None:
                self._finish_fatal(record, too_soon)
            elif fatal:
                reason = ("first request for this window (fault injection fatal=first)" if spec.fatal_first
                          else "fault injection fatal rate")
                self._finish_fatal(record, f"Report processing failed because of an internal error; submit a new "
                                           f"report request. [sandbox: {reason}]")
            self._save(record)
        self.stats.add(f"createReport.{report_type}")
        self.stats.add(f"createReport.{report_type}.{_ts(data_start)}/{_ts(data_end)}")
        if record.outcome is None:
            self._start_generation(record)
        return record

    def _too_soon(self, record: ReportRecord) -> str | None:
        """Why Amazon refuses to generate this report now, or None: an FBA type it generates at most once
        per ``request_interval_minutes`` (catalog) per seller and marketplaces was generated within that
        period (scaled by ``speed``). Amazon ends such a request FATAL."""
        minutes = catalog.lookup(record.report_type).request_interval_minutes
        if not minutes:
            return None
        since = record.created - timedelta(seconds=self.config.scaled(minutes * 60))
        previous = [r.created for r in self._reports.values()
                    if r.seller == record.seller and r.report_type == record.report_type
                    and r.marketplace_ids == record.marketplace_ids and r.outcome != "FATAL"
                    and r.cancelled_at is None and since < r.created <= record.created]
        if not previous:
            return None
        return (f"Report {record.report_type} is generated at most once every {minutes} minutes for a seller and "
                f"marketplace; the previous one was requested at {_ts(max(previous))}. Request it again after that "
                f"period (getReports lists the report already generated).")

    @staticmethod
    def _window_key(record: ReportRecord) -> tuple:
        return (record.seller, record.report_type, tuple(record.marketplace_ids), _ts(record.data_start),
                _ts(record.data_end))

    def _finish_fatal(self, record: ReportRecord, details: str) -> None:
        document_id = self._new_document_id(record.region)
        name = f"{document_id}.json"
        (self.documents_dir / name).write_text(json.dumps({"errorDetails": details}), encoding="utf-8")
        record.document = DocumentRecord(document_id, name, "application/json", None)
        record.outcome, record.error, record.finished_at = "FATAL", details, self.now()
        self._documents[document_id] = (record, record.document)

    # ------------------------------------------------------------------ document generation
    def _start_generation(self, record: ReportRecord) -> None:
        threading.Thread(target=self._generate, args=(record,), name=f"report-{record.report_id}",
                         daemon=True).start()

    def _generate(self, record: ReportRecord) -> None:
        with self._workers:
            document_id = self._new_document_id(record.region)
            name = f"{document_id}.gz"
            spec = docs.DocumentSpec(record.report_type, tuple(record.marketplace_ids), record.data_start,
                                     record.data_end, dict(record.options), record.created,
                                     inventory=self._backends.get("inventory"))
            started = time.monotonic()
            try:
                result = docs.write_document(self.seller, spec, self.documents_dir / name)
            except Exception as error:  # a generator bug must surface as FATAL, not a stuck report
                log.exception("report %s: document generation failed", record.report_id)
                with self._lock:
                    self._finish_fatal(record, f"Report processing failed: {type(error).__name__}: {error}")
                    self._save(record)
                return
            with self._lock:
                if record.cancelled_at is not None:
                    (self.documents_dir / name).unlink(missing_ok=True)
                    return
                record.rows, record.finished_at = result.rows, self.now()
                if result.rows == 0:
                    record.outcome = "CANCELLED"
                else:
                    record.outcome = "DONE"
                    record.document = DocumentRecord(document_id, name, result.content_type, "GZIP")
                    self._documents[document_id] = (record, record.document)
                self._save(record)
            self.stats.add("reports.generated")
            log.debug("report %s: %s rows in %.2fs", record.report_id, result.rows, time.monotonic() - started)

    # ------------------------------------------------------------------ queries
    def get(self, seller: str, region: str, report_id: str) -> ReportRecord | None:
        now = self.now()
        with self._lock:
            record = self._reports.get(report_id)
        if record is not None:
            return record if record.seller == seller and record.created >= now - RETENTION else None
        settlement = self._settlement_by_id(report_id, region, now)
        return settlement

    def list(self, seller: str, region: str, report_types: list[str], statuses: list[str],
             marketplace_ids: list[str], since: datetime, until: datetime) -> builtins.list[ReportRecord]:
        now = self.now()
        since = max(since, now - RETENTION)
        with self._lock:
            candidates = [r for r in self._reports.values() if r.seller == seller]
        if docs.SETTLEMENT_V1 in report_types or docs.SETTLEMENT_V2 in report_types:
            candidates += self._settlements(region, since, until)
        out = [r for r in candidates
               if r.report_type in report_types and since <= r.created <= until
               and (not statuses or r.status(now) in statuses)
               and (not marketplace_ids or set(r.marketplace_ids) & set(marketplace_ids))]
        out.sort(key=lambda r: (r.created, r.report_id), reverse=True)
        return out

    def cancel(self, seller: str, region: str, report_id: str) -> str:
        """Cancel an IN_QUEUE report; returns the status it had (the caller refuses other states)."""
        now = self.now()
        with self._lock:
            record = self.get(seller, region, report_id)
            if record is None:
                raise KeyError(report_id)
            status = record.status(now)
            if status == "IN_QUEUE" and record.settlement is None:
                record.cancelled_at = now
                self._save(record)
            return status

    # ------------------------------------------------------------------ documents
    def document(self, seller: str, region: str, document_id: str) -> DocumentRecord | None:
        with self._lock:
            found = self._documents.get(document_id)
        # A settlement belongs to every caller of its region (no requesting seller): served again below,
        # so a second download of the same settlement document works as the first did.
        if found is not None and found[0].settlement is None:
            record, document = found
            if record.seller != seller or record.status(self.now()) not in ("DONE", "FATAL"):
                return None
            return document
        return self._settlement_document(region, document_id)

    def document_url(self, base_url: str, document: DocumentRecord, content_encoding: bool) -> str:
        ttl = float(self._extra.get("report_url_ttl_seconds", self.config.scaled_expiry(URL_LIFETIME_SECONDS)))
        expires = time.time() + ttl
        if self._extra.get("report_url_expired_first"):
            with self._lock:
                if document.document_id not in self._urls_issued:
                    self._urls_issued.add(document.document_id)
                    expires = time.time() - 1.0
        ce = "gzip" if content_encoding and document.compression == "GZIP" else ""
        query = self.urls.query(document.document_id, expires, ce) + (f"&ce={ce}" if ce else "")
        return f"{base_url}/_documents/{document.document_id}?{query}"

    def document_file(self, document_id: str) -> tuple[Path, DocumentRecord] | None:
        with self._lock:
            found = self._documents.get(document_id)
        if found is None:
            return None
        path = self.documents_dir / found[1].file
        return (path, found[1]) if path.exists() else None

    # ------------------------------------------------------------------ settlement reports
    def _settlement_indexes(self, since: datetime, until: datetime) -> range:
        first = int((since - docs.SETTLEMENT_DELAY - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD)
        last = int((until - docs.SETTLEMENT_DELAY - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD)
        return range(max(0, first - 1), last + 1)

    def _settlement_record(self, marketplace_id: str, index: int, v2: bool) -> ReportRecord:
        mp_index = MARKETPLACES.index(by_id(marketplace_id))
        report_id = str(_SETTLEMENT_ID_BASE + index * 1000 + mp_index * 2 + int(v2))
        start, end = docs.settlement_period(index)
        region = by_id(marketplace_id).region
        document_id = f"amzn1.spdoc.1.4.{region.lower()}.settlement.{report_id}"
        record = ReportRecord(
            report_id=report_id, seller="", region=region,
            report_type=docs.SETTLEMENT_V2 if v2 else docs.SETTLEMENT_V1, marketplace_ids=[marketplace_id],
            data_start=start, data_end=end, options={}, created=end + docs.SETTLEMENT_DELAY, queue_seconds=0.0,
            processing_seconds=0.0, outcome="DONE", finished_at=end + docs.SETTLEMENT_DELAY,
            settlement=(marketplace_id, index, v2),
        )
        record.document = DocumentRecord(document_id, f"{document_id}.gz",
                                         docs.content_type(catalog.lookup(record.report_type), by_id(marketplace_id)),
                                         "GZIP")
        return record

    def _settlements(self, region: str, since: datetime, until: datetime) -> builtins.list[ReportRecord]:
        out = []
        for index in self._settlement_indexes(since, until):
            for marketplace in in_region(region):
                for v2 in (False, True):
                    record = self._settlement_record(marketplace.marketplace_id, index, v2)
                    if since <= record.created <= min(until, self.now()):
                        out.append(record)
        return out

    def _settlement_by_id(self, report_id: str, region: str, now: datetime) -> ReportRecord | None:
        try:
            number = int(report_id) - _SETTLEMENT_ID_BASE
        except ValueError:
            return None
        if not 0 <= number < 10_000_000_000:
            return None
        index, rest = divmod(number, 1000)
        mp_index, v2 = divmod(rest, 2)
        if mp_index >= len(MARKETPLACES) or MARKETPLACES[mp_index].region != region:
            return None
        record = self._settlement_record(MARKETPLACES[mp_index].marketplace_id, index, bool(v2))
        return record if now - RETENTION <= record.created <= now else None

    def _settlement_document(self, region: str, document_id: str) -> DocumentRecord | None:
        prefix = f"amzn1.spdoc.1.4.{region.lower()}.settlement."
        if not document_id.startswith(prefix):
            return None
        record = self._settlement_by_id(document_id[len(prefix):], region, self.now())
        if record is None or record.document is None or record.settlement is None:
            return None
        path = self.documents_dir / record.document.file
        with self._lock:
            if not path.exists():
                marketplace_id, index, v2 = record.settlement
                docs.write_settlement_document(self.seller, marketplace_id, index, v2, path)
            self._documents[document_id] = (record, record.document)
        return record.document

    # ------------------------------------------------------------------ persistence
    def _save(self, record: ReportRecord) -> None:
        if record.settlement is not None:
            return
        path = self.reports_dir / f"{record.report_id}.json"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(record.to_json(), sort_keys=True), encoding="utf-8")
        os.replace(partial, path)

    def _load(self) -> None:
        pending = []
        for path in sorted(self.reports_dir.glob("*.json")):
            try:
                record = ReportRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, TypeError, KeyError) as error:
                log.warning("ignoring unreadable report state %s: %s", path, error)
                continue
            self._reports[record.report_id] = record
            self._windows_seen.add(self._window_key(record))
            self._last_id = max(self._last_id, int(record.report_id))
            if record.document is not None:
                self._documents[record.document.document_id] = (record, record.document)
            if record.outcome is None and record.cancelled_at is None:
                pending.append(record)
        for record in pending:  # interrupted by a restart: the data is as of creation, so write it again
            self._start_generation(record)

    def snapshot(self) -> builtins.list[dict[str, Any]]:
        """Every stored report, for tests and debugging."""
        with self._lock:
            return [r.to_json() for r in self._reports.values()]
