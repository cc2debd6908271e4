"""Token buckets kept in a SQLite file, so every process of one seller account draws from one quota.

The in-process buckets of ``quota.py`` are exact inside one process, but Dagster runs each run in its
own process (and a busy deployment runs several at once, or a second instance on another machine): each
process would start with a full bucket and, together, exceed Amazon's rate into 429s. With
``SP_ASSETS_QUOTA_STORE`` (or ``SPAPIClient(quota_store=...)``) pointing at a file, the bucket state of
each (endpoint, credential fingerprint, operation, speed) lives in one row there, and every reservation
is one short ``BEGIN IMMEDIATE`` transaction: read the row, refill by the time passed, take a token
(possibly going negative, which queues the caller exactly as ``TokenBucket.reserve`` does), write back.

Time is the wall clock (``time.time``): the only clock processes on one machine share. Several machines
share a PostgreSQL store instead (``SP_ASSETS_QUOTA_STORE=postgresql://...``, ``quota_store_pg.py``),
whose refill arithmetic runs on the database's clock, so machines whose clocks disagree still agree on
the bucket. Both stores share the arithmetic below (``new_row_tokens``, ``settle``). Nothing secret is
stored: the key holds the credential's fingerprint, never a token.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from sp_assets.lib.postgres import is_postgres_location, is_postgres_url

from .errors import ConfigError

_SCHEMA = """CREATE TABLE IF NOT EXISTS buckets (
    key TEXT PRIMARY KEY, tokens REAL NOT NULL, stamp REAL NOT NULL, rate REAL NOT NULL, burst INTEGER NOT NULL)"""
# A new row starts this much refill time short of full. Amazon's bucket starts when our first call
# arrives, ours when it is reserved: the first call's latency (a new connection, another process still
# starting) is time our bucket counts and Amazon's does not, so without this slack a later call of a
# tightly paced sequence can arrive a few milliseconds early and be throttled. Costs 0.25 s once.
START_SLACK_S = 0.25
# SQLite's own busy handler waits this long for another process's transaction (each is microseconds).
BUSY_TIMEOUT_S = 60.0
_T = TypeVar("_T")
# The variable that names the store: a file path (SQLite) or a PostgreSQL URL (README "Production").
STORE_VAR = "SP_ASSETS_QUOTA_STORE"
# A bucket row's change: (tokens after refill, rate, burst) -> (tokens, rate, the caller's result).
Change = Callable[[float, float, int], tuple[float, float, float]]


class QuotaStoreError(ConfigError):
    """The quota store named by ``SP_ASSETS_QUOTA_STORE`` cannot be used (the message says why)."""


class BucketStore(Protocol):
    """Where shared bucket rows live: ``QuotaStore`` (SQLite) or ``PostgresQuotaStore``."""

    def update(self, key: str, rate: float, burst: int, now: float, change: Change) -> float: ...

    def close(self) -> None: ...


def new_row_tokens(rate: float, burst: int) -> float:
    """The tokens of a bucket row seen for the first time: full, but for ``START_SLACK_S`` of refill."""
    return max(0.0, float(burst) - rate * START_SLACK_S)


def settle(tokens: float, stamp: float, rate: float, burst: int, now: float,
           change: Change) -> tuple[float, float, float, float]:
    """Refill a stored row up to ``now`` and apply ``change``: (tokens, rate, result, stamp) to write back.

    The stamp never moves back, so a caller whose clock lags cannot refill the bucket twice."""
    refilled = min(float(burst), tokens + max(0.0, now - stamp) * rate)
    new_tokens, new_rate, result = change(refilled, rate, burst)
    return new_tokens, new_rate, result, max(now, stamp)


class QuotaStore:
    """One SQLite file of bucket rows; safe to share between threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
        self._while_locked(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
        self._while_locked(lambda: self._db.execute(_SCHEMA))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _while_locked(self, step: Callable[[], _T]) -> _T:
        """``step``, retried while SQLite reports the file locked beyond its busy handler (switching to WAL
        and creating the table take locks the busy handler does not always wait for), up to BUSY_TIMEOUT_S."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.005
        while True:
            try:
                return step()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)  # a back-off on a lock held by another process, not synchronisation
            pause = min(pause * 2, 0.2)

    def update(self, key: str, rate: float, burst: int, now: float, change: Change) -> float:
        """Run ``change(tokens_refilled, rate, burst) -> (tokens, rate, result)`` on the row atomically.

        A missing row starts full (like Amazon's bucket) but for ``START_SLACK_S``; the stored rate wins over ``rate`` once set, so
        a rate learnt from ``x-amzn-RateLimit-Limit`` by one process is used by all.
        """
        def transaction() -> float:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT tokens, stamp, rate, burst FROM buckets WHERE key = ?", (key,)).fetchone()
                if row is None:
                    row = (new_row_tokens(rate, burst), now, rate, burst)
                tokens, stamp, stored_rate, stored_burst = row
                new_tokens, new_rate, result, new_stamp = settle(tokens, stamp, stored_rate, stored_burst,
                                                                 now, change)
                db.execute("INSERT INTO buckets (key, tokens, stamp, rate, burst) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT(key) DO UPDATE SET tokens = excluded.tokens, stamp = excluded.stamp, "
                           "rate = excluded.rate, burst = excluded.burst",
                           (key, new_tokens, new_stamp, new_rate, stored_burst))
                db.execute("COMMIT")
                return result
            except BaseException:
                db.execute("ROLLBACK")
                raise

        with self._lock:
            return self._while_locked(transaction)


class StoredTokenBucket:
    """``quota.TokenBucket``'s interface over a row of a :class:`QuotaStore`."""

    def __init__(self, store: BucketStore, key: str, rate: float, burst: int,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self._store, self._key = store, key
        self._rate, self._burst = float(rate), int(burst)
        self._clock, self._sleep = clock, sleep

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    def _update(self, change: Change) -> float:
        return self._store.update(self._key, self._rate, self._burst, self._clock(), change)

    def available(self) -> float:
        def look(tokens: float, rate: float, burst: int) -> tuple[float, float, float]:
            self._rate = rate
            return tokens, rate, tokens
        return self._update(look)

    def reserve(self) -> float:
        """Take one token; the seconds until it is really there (0 when it is)."""
        def take(tokens: float, rate: float, burst: int) -> tuple[float, float, float]:
            self._rate = rate
            left = tokens - 1.0
            return left, rate, (0.0 if left >= 0 else -left / rate)
        return self._update(take)

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def set_rate(self, rate: float) -> None:
        self._rate = float(rate)
        self._update(lambda tokens, _rate, burst: (tokens, float(rate), 0.0))

    def drain(self) -> None:
        self._update(lambda tokens, rate, burst: (min(tokens, 0.0), rate, 0.0))

    def debit(self, tokens: float) -> None:
        """Take back refill the server may not have earned (``quota.unearned_refill``)."""
        if tokens > 0:
            self._update(lambda left, rate, burst: (left - tokens, rate, 0.0))


_stores: dict[str, BucketStore] = {}
_stores_lock = threading.Lock()


def quota_store(location: Path | str) -> BucketStore:
    """The process's one open store for ``location`` (opened on first use): a PostgreSQL URL
    (``postgresql://``, ``postgresql+psycopg2://``, ``postgres://``) or a SQLite file's path."""
    text = str(location).strip()
    shared = is_postgres_location(text, variable=STORE_VAR, what="the quota store",
                                  nothing_done="nothing was requested from Amazon", error=QuotaStoreError)
    key = text if shared else str(Path(text).resolve())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            if is_postgres_url(text):
                from .quota_store_pg import PostgresQuotaStore  # psycopg2 only when asked for
                store = PostgresQuotaStore(text)
            else:
                store = QuotaStore(key)
            _stores[key] = store
        return store
