"""Where the project keeps its files: the DuckDB database, the report ledger, the sandbox state."""

from __future__ import annotations

import os
from pathlib import Path

from sp_assets.lib.postgres import is_postgres_url
from sp_assets.lib.warehouse.lake import DATA_PATH_ENV as LAKE_DATA_PATH_ENV
from sp_assets.lib.warehouse.lake import PREFIX as LAKE_PREFIX
from sp_assets.lib.warehouse.lake import is_lake

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """``SP_ASSETS_DATA_DIR`` or ``data/`` in the project."""
    return Path(os.environ.get("SP_ASSETS_DATA_DIR") or PROJECT_ROOT / "data")


def staging_dir() -> Path:
    """Where a step keeps what it fetched until its write succeeds (``lib/staging.py``)."""
    return data_dir() / "staging"


def warehouse_location() -> str:
    """``SP_ASSETS_DUCKDB`` (a DuckDB file, or ``ducklake:<PostgreSQL URL>`` for a warehouse several
    machines share) or ``data/sp_assets.duckdb``."""
    return os.environ.get("SP_ASSETS_DUCKDB", "").strip() or str(data_dir() / "sp_assets.duckdb")


def lake_data_path() -> str | None:
    """``SP_ASSETS_DUCKLAKE_DATA_PATH``: where a new DuckLake warehouse keeps its Parquet files."""
    return os.environ.get(LAKE_DATA_PATH_ENV, "").strip() or None


def duckdb_path() -> Path:
    """The local DuckDB file (``warehouse_location()`` when it is one): the folder the other local files
    sit beside. A DuckLake warehouse has no such file, and they go to ``data_dir()``."""
    location = warehouse_location()
    return data_dir() / "sp_assets.duckdb" if is_lake(location) else Path(location)


def report_ledger_location() -> str:
    """The durable record of requested report ids: ``SP_ASSETS_REPORT_LEDGER`` (a file path, or a
    PostgreSQL URL that several machines share), else the DuckLake warehouse's catalog database when the
    warehouse is one (the machines that share it share the ledger), else a SQLite file beside the database."""
    location = warehouse_location()
    return (os.environ.get("SP_ASSETS_REPORT_LEDGER", "").strip()
            or (location.strip()[len(LAKE_PREFIX):] if is_lake(location) else "")
            or str(duckdb_path().with_suffix(".reports.sqlite")))


def report_download_dir() -> Path:
    """Where report documents are downloaded before they are loaded: ``SP_ASSETS_DATA_DIR/report_downloads``
    when that variable is set (the folder a user gave the project's files, which may be the only one with
    room: a report can be gigabytes), else ``report_downloads`` beside the report ledger's file (``data/``),
    or beside the database when the ledger is in PostgreSQL."""
    if os.environ.get("SP_ASSETS_DATA_DIR"):
        return data_dir() / "report_downloads"
    ledger = report_ledger_location()
    return (duckdb_path().parent if is_postgres_url(ledger) else Path(ledger).parent) / "report_downloads"
