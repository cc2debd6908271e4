"""Getting a DuckDB connection to the warehouse file when several processes write to it.

DuckDB allows one writing process per file; without a shared lock, concurrent Dagster runs fail with
"Could not set lock on file" (dagster issues #16248, #19068). Two mechanisms, two timeouts:

* sp_assets processes queue on a cross-process ``filelock`` (``<db>.lock``), held only around
  connect + transaction, so the wait is milliseconds to seconds and never spans an HTTP call;
* a process outside that lock (DuckDB CLI, a notebook) holding DuckDB's own file lock is waited out
  with jittered exponential backoff, bounded by ``busy_timeout_s``, then reported by name. The
  bound is ``WarehouseResource.busy_timeout_seconds``, else ``SP_ASSETS_DUCKDB_BUSY_TIMEOUT``, else
  120 s: an analyst's session that must not be broken into can be waited out longer, and a
  pipeline that should rather fail (and retry the write later) can wait less.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import backoff
import duckdb
import filelock

from sp_assets.lib.warehouse.errors import WarehouseBusyError, WarehouseLockTimeout, path_error

_LOG = logging.getLogger(__name__)

BUSY_TIMEOUT_ENV = "SP_ASSETS_DUCKDB_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT_S = 120.0


def busy_timeout_s(configured: float | None = None) -> float:
    """The wait for DuckDB's own lock: ``configured``, else ``SP_ASSETS_DUCKDB_BUSY_TIMEOUT``, else 120 s."""
    if configured is not None:
        return checked_seconds("busy_timeout_s", configured)
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_BUSY_TIMEOUT_S
    try:
        return checked_seconds(BUSY_TIMEOUT_ENV, float(raw))
    except ValueError:
        raise ValueError(f"{BUSY_TIMEOUT_ENV}: {raw!r} is not allowed; use a number of seconds >= 0 "
                         f"(default {DEFAULT_BUSY_TIMEOUT_S:g})") from None


def checked_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def file_lock(lock_path: Path) -> filelock.FileLock:
    """One lock object per path in this process: reentrant in a thread, exclusive across threads."""
    return filelock.FileLock(lock_path, is_singleton=True)


def ensure_parent_directory(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise path_error(path, f"cannot create its directory: {exc}") from exc


def acquire(lock: filelock.FileLock, timeout_s: float, path: Path) -> float:
    """Take the sp_assets lock of the warehouse ``path``; return the seconds waited for it."""
    started = time.perf_counter()
    try:
        lock.acquire(timeout=timeout_s)
    except filelock.Timeout:
        raise WarehouseLockTimeout(
            f"waited {timeout_s:g} s for the warehouse lock {lock.lock_file}: another sp_assets "
            "process kept writing; raise lock_timeout_s or lower the number of concurrent runs"
        ) from None
    except OSError as exc:
        raise path_error(path, f"cannot create the lock file {lock.lock_file}: {exc}") from exc
    waited = time.perf_counter() - started
    if waited > 1.0:
        _LOG.info("waited %.1f s for the warehouse lock %s", waited, lock.lock_file)
    return waited


def open_duckdb(path: Path, busy_timeout_s: float, config: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """Connect, retrying (with jittered backoff, bounded by ``busy_timeout_s``) only on DuckDB's lock;
    ``config`` is DuckDB's connection configuration (``threads``, ``memory_limit``...)."""
    opener = backoff.on_exception(
        backoff.expo,
        duckdb.IOException,
        max_time=busy_timeout_s,
        max_value=2.0,
        giveup=lambda exc: not is_duckdb_lock_conflict(exc),
        logger=_LOG,
    )(lambda: duckdb.connect(str(path), config=dict(config or {})))
    try:
        return opener()
    except duckdb.IOException as exc:
        if is_duckdb_lock_conflict(exc):
            raise WarehouseBusyError(
                f"DuckDB file {path} stayed locked by another process for {busy_timeout_s:g} s "
                f"({exc}). Close DuckDB CLI sessions or notebooks holding it, or raise busy_timeout_s."
            ) from exc
        raise path_error(path, str(exc)) from exc
    except (duckdb.Error, OSError) as exc:
        raise path_error(path, str(exc)) from exc


def is_duckdb_lock_conflict(exc: BaseException) -> bool:
    return "Could not set lock on file" in str(exc)
