"""The durable ledger of report ids: a relaunched run resumes the report it requested.

Keyed by (credential fingerprint, request key); see ``ReportLedger``. A SQLite file (WAL) on one
machine; a PostgreSQL URL (``SP_ASSETS_REPORT_LEDGER=postgresql://...``) when runs of one account may
land on several machines, so a relaunch on another machine still resumes instead of asking Amazon twice.
The statements are written once, in the SQL both engines read (``?`` placeholders become psycopg2's
``%s``). Plain Python.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from sp_assets.lib import postgres
from sp_assets.lib.reports.request import ReportRequest, iso_or_none

LEDGER_VAR = "SP_ASSETS_REPORT_LEDGER"
# The advisory locks of a PostgreSQL ledger live in one namespace per database: the first of the two
# keys (an arbitrary constant of this project) keeps them apart from anyone else's.
_PG_LOCK_SPACE = 0x5350_4C47


class LedgerError(ValueError):
    """The ledger named by ``SP_ASSETS_REPORT_LEDGER`` cannot be used (the message says why)."""


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


_SCHEMA = ("""
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
)""", """
CREATE TABLE IF NOT EXISTS report_attempts (
    key TEXT NOT NULL,
    report_id TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (key, report_id)
)""")


class _PostgresConnection:
    """A psycopg2 connection that reads the ledger's ``?`` statements (as ``sqlite3.Connection.execute``)."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cursor = self._db.cursor()
        cursor.execute(sql.replace("?", "%s"), tuple(params))
        return cursor


class ReportLedger:
    """Durable report ids per (credential, request): a SQLite file (stdlib, WAL) or a PostgreSQL database.

    Connections are opened per call, so one ledger object is safe across threads and several processes
    (several machines, on PostgreSQL) can share one ledger; each call is one transaction. The credential
    is stored as its fingerprint only. ``report_attempts`` keeps every report ever requested per key,
    for debugging and metadata.
    """

    def __init__(self, location: str | Path) -> None:
        text = str(location).strip()
        self.is_postgres = postgres.is_postgres_location(text, variable=LEDGER_VAR, what="the report ledger",
                                                         nothing_done="nothing was written", error=LedgerError)
        self.url = text if self.is_postgres else None
        self.path = Path(text)  # the SQLite file (unused on PostgreSQL)
        if self.is_postgres:
            with self._connect() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(?, 0)", (_PG_LOCK_SPACE,))  # one creator at a time
                for statement in _SCHEMA:
                    conn.execute(statement)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                conn.execute(statement)

    def __repr__(self) -> str:
        return f"ReportLedger({postgres.redact_url(self.url) if self.url else str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        """One transaction on a new connection: committed when the block ends, rolled back if it raises."""
        if self.url is not None:
            psycopg2 = postgres.psycopg2_module(LEDGER_VAR, LedgerError)
            db = postgres.connect(self.url, variable=LEDGER_VAR, application_name="sp_assets report ledger",
                                  error=LedgerError)
            try:
                with db:
                    yield _PostgresConnection(db)
            except psycopg2.Error as cause:  # the server went away, a table was dropped...: name the variable
                raise postgres.failure(LEDGER_VAR, self.url, "using the report ledger at", cause,
                                       LedgerError) from None
            finally:
                db.close()
            return
        with closing(sqlite3.connect(self.path, timeout=60.0)) as conn:
            conn.execute("PRAGMA busy_timeout=60000")
            with conn:  # one transaction per call
                yield conn

    @staticmethod
    def key_for(credential: str, request: ReportRequest) -> str:
        return hashlib.sha256(f"{credential}\n{request.key}".encode()).hexdigest()

    @contextmanager
    def lock(self, credential: str, request: ReportRequest, timeout: float = 600.0) -> Iterator[None]:
        """Serialize "look up or request" for one key across processes (two runs of one partition): a file
        lock beside the SQLite file, or a PostgreSQL advisory lock (every machine sees it), held by a
        connection of its own until the block ends. Raises ``TimeoutError`` after ``timeout`` seconds."""
        key = self.key_for(credential, request)
        if self.url is None:
            lock_dir = self.path.with_name(self.path.name + ".locks")
            lock_dir.mkdir(parents=True, exist_ok=True)
            with FileLock(str(lock_dir / f"{key[:32]}.lock"), timeout=timeout):
                yield
            return
        with postgres.advisory_lock(
                self.url, (_PG_LOCK_SPACE, _lock_number(key)), timeout, variable=LEDGER_VAR,
                application_name="sp_assets report ledger lock", error=LedgerError,
                timed_out=lambda: TimeoutError(f"the report ledger's lock for {request.report_type} was held "
                                               f"by another run for {timeout:g} s")):
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
                (key, credential, ",".join(request.marketplace_ids), request.report_type, iso_or_none(request.data_start),
                 iso_or_none(request.data_end), json.dumps(request.options_dict, sort_keys=True), report_id, now, now),
            )
            conn.execute("INSERT INTO report_attempts (key, report_id, requested_at, status, updated_at) "
                         "VALUES (?, ?, ?, 'IN_QUEUE', ?) ON CONFLICT (key, report_id) DO UPDATE SET "
                         "requested_at = excluded.requested_at, status = excluded.status, "
                         "updated_at = excluded.updated_at", (key, report_id, now, now))
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

    def last_requested(self, credential: str, report_type: str, marketplace_ids: Sequence[str]) -> datetime | None:
        """When a report of this type for these marketplaces (any window) was last requested and did not
        end FATAL: what Amazon's once-per-period FBA reports count from."""
        with self._connect() as conn:
            row = conn.execute("SELECT MAX(requested_at) FROM reports WHERE credential = ? AND report_type = ? "
                               "AND marketplace_ids = ? AND status != 'FATAL'",
                               (credential, report_type, ",".join(marketplace_ids))).fetchone()
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

    def attempts(self, credential: str, request: ReportRequest) -> list[tuple[str, str]]:
        """(report id, last status) of every report requested for the key, oldest first."""
        with self._connect() as conn:
            # Ties (one microsecond) in the order written: SQLite's rowid; PostgreSQL keeps no such order.
            tie = "report_id" if self.is_postgres else "rowid"
            rows = conn.execute(f"SELECT report_id, status FROM report_attempts WHERE key = ? ORDER BY requested_at, "
                                f"{tie}", (self.key_for(credential, request),)).fetchall()
        return [(r[0], r[1]) for r in rows]


def _lock_number(key: str) -> int:
    """A 32-bit advisory lock number for a ledger key (a sha256 hex digest)."""
    return int(key[:8], 16) - (1 << 31)


def _now_text() -> str:
    return datetime.now(UTC).isoformat()


def _entry(row: tuple) -> LedgerEntry:
    return LedgerEntry(key=row[0], report_id=row[1], status=row[2], document_id=row[3],
                       requested_at=datetime.fromisoformat(row[4]), updated_at=datetime.fromisoformat(row[5]),
                       consumed_at=datetime.fromisoformat(row[6]) if row[6] else None, error=row[7])
