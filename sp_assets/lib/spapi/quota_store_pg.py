"""Token buckets kept in PostgreSQL, so run processes on several machines share one account's quota.

``SP_ASSETS_QUOTA_STORE=postgresql://user:password@host:port/db`` (``postgresql+psycopg2://``, the
spelling of ``dagster.postgres.yaml``, and ``postgres://`` work too) puts the bucket rows of
``quota_store.py`` in the table ``sp_assets_quota_buckets``. Two things differ from the SQLite file:

* **One clock.** Machines' clocks disagree by milliseconds to minutes; a bucket refilled by each
  caller's own clock would let a machine whose clock runs ahead take tokens Amazon has not refilled yet.
  The refill is computed from the database's ``clock_timestamp()``, read once the row is locked, and the
  caller only ever gets back a relative wait, which its own clock can sleep correctly.
* **A network between.** A reservation is one short transaction (``SELECT ... FOR UPDATE`` of the row,
  the database's time, ``UPDATE``); a dropped connection (a failover, an idle timeout) is reopened once
  before the error reaches the caller.

The password never reaches a message: errors show the URL with ``***`` in its place, psycopg2's
exception is not chained (its text is scrubbed first), and the password is registered with the log
scrubber. psycopg2 comes with the ``postgres`` extra (dagster-postgres) and is imported only here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sp_assets.lib.postgres import connect, failure, psycopg2_module

from .quota_store import STORE_VAR, Change, QuotaStoreError, new_row_tokens, settle

TABLE = "sp_assets_quota_buckets"
_CREATE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, "
           "stamp DOUBLE PRECISION NOT NULL, rate DOUBLE PRECISION NOT NULL, burst INTEGER NOT NULL)")
_DB_NOW = "extract(epoch FROM clock_timestamp())::double precision"
# Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog: one advisory lock
# (an arbitrary constant of this project) serializes the first processes.
_CREATE_LOCK_ID = 0x5350_4153
_T = TypeVar("_T")


class PostgresQuotaStore:
    """Bucket rows in one PostgreSQL table; one connection per process, used under a lock by its threads."""

    def __init__(self, url: str) -> None:
        self._url = url  # messages show it through postgres.failure, password replaced
        self._lock = threading.Lock()
        self._db: Any = None
        self._pid = os.getpid()
        with self._lock:
            self._run(self._create_table)

    def close(self) -> None:
        with self._lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            self._db = None

    def _connection(self) -> Any:
        if self._pid != os.getpid():  # a forked child must not talk on its parent's socket
            self._db, self._pid = None, os.getpid()
        if self._db is None or self._db.closed:
            self._db = connect(self._url, variable=STORE_VAR, application_name="sp_assets quota",
                               error=QuotaStoreError)
        return self._db

    def _run(self, transaction: Callable[[Any], _T]) -> _T:
        """``transaction(connection)``; a connection lost on the way is reopened and the transaction run
        again, once. At worst (lost during COMMIT) a token is taken twice: a longer wait, never a 429."""
        psycopg2 = psycopg2_module(STORE_VAR, QuotaStoreError)
        for attempt in (1, 2):
            db = self._connection()
            try:
                return transaction(db)
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
                self._db = None
                try:
                    db.close()
                except psycopg2.Error:
                    pass
                if attempt == 2:
                    raise failure(STORE_VAR, self._url, "using", error, QuotaStoreError) from None
            except psycopg2.Error as error:
                raise failure(STORE_VAR, self._url, "using", error, QuotaStoreError) from None
        raise AssertionError("unreachable")

    @staticmethod
    def _create_table(db: Any) -> None:
        with db, db.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK_ID,))
            cursor.execute(_CREATE)

    def update(self, key: str, rate: float, burst: int, now: float, change: Change) -> float:
        """``quota_store.QuotaStore.update`` on the database's clock: ``now`` (the caller's) is not used."""
        def transaction(db: Any) -> float:
            with db, db.cursor() as cursor:
                locked = f"SELECT tokens, stamp, rate, burst FROM {TABLE} WHERE key = %s FOR UPDATE"
                cursor.execute(locked, (key,))
                row = cursor.fetchone()
                if row is None:
                    cursor.execute(f"INSERT INTO {TABLE} (key, tokens, stamp, rate, burst) "
                                   f"VALUES (%s, %s, {_DB_NOW}, %s, %s) ON CONFLICT (key) DO NOTHING",
                                   (key, new_row_tokens(rate, burst), rate, burst))
                    cursor.execute(locked, (key,))
                    row = cursor.fetchone()
                tokens, stamp, stored_rate, stored_burst = row
                cursor.execute(f"SELECT {_DB_NOW}")  # after the lock: the time this reservation really has
                (db_now,) = cursor.fetchone()
                new_tokens, new_rate, result, new_stamp = settle(tokens, stamp, stored_rate, stored_burst,
                                                                 db_now, change)
                cursor.execute(f"UPDATE {TABLE} SET tokens = %s, stamp = %s, rate = %s WHERE key = %s",
                               (new_tokens, new_stamp, new_rate, key))
                return result

        with self._lock:
            return self._run(transaction)
