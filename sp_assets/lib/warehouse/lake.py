"""A warehouse several machines write: DuckLake, its catalog in PostgreSQL, its data files in a shared folder.

The local DuckDB file stays the default. ``SP_ASSETS_DUCKDB=ducklake:postgresql://user:pw@host/db`` moves
the warehouse to DuckLake (issue 19; README "Production"): the same SQL (tables, upserts, union views,
the marts) runs on a DuckDB connection that ATTACHes the lake, so every module of this
package works unchanged. What differs is here:

* **the connection**: an in-memory DuckDB that loads the ``ducklake`` and ``postgres`` extensions from
  their wheels (the ``ducklake`` extra; nothing is fetched from the network), ATTACHes the lake and
  makes it the default database;
* **the writers' lock**: a PostgreSQL advisory lock in the catalog's database replaces the file lock, so
  writers on every machine queue as processes on one machine queue today. DuckLake would let two
  writers commit concurrently, but two writes of one day both rebuild the union views and the ledger,
  and DuckLake then aborts one of them at commit (measured: 5 conflicts in 20 transactions); queuing
  costs milliseconds, a retried load costs its whole transaction. Readers (an analyst's DuckDB) take
  no lock: DuckLake gives each a committed snapshot;
* **the data path**: ``SP_ASSETS_DUCKLAKE_DATA_PATH``, a folder every machine reaches (a shared mount
  such as NFS; ``s3://`` would need the httpfs extension, not shipped), needed when the catalog is
  created and stored in it afterwards;
* **maintenance** (``maintain``): every write adds Parquet files and a snapshot; merging the small files,
  expiring old snapshots and deleting the files nothing refers to any more keeps reads fast and the
  folder bounded (the ``warehouse_maintenance`` job runs it nightly, ``defs/warehouse_maintenance.py``).

What it costs (BENCHMARKS.md section 4.1): ~0.35 s more a write than the local file, the catalog's round
trips and a new snapshot per commit.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from sp_assets.lib import postgres
from sp_assets.lib.warehouse.errors import DUCKDB_PATH_ENV, WarehouseLockTimeout, WarehousePathError

PREFIX = "ducklake:"
DATA_PATH_ENV = "SP_ASSETS_DUCKLAKE_DATA_PATH"
ALIAS = "lake"
# The advisory lock of the writers, in a namespace of this project's own (see lib/reports/ledger.py's).
_LOCK_KEY = (0x5350_4C4B, 1)
# The wheels that carry each extension, and the name DuckDB must load it by (its entry point's name).
_EXTENSIONS = {"ducklake": ("duckdb_extension_ducklake", "ducklake"),
               "postgres_scanner": ("duckdb_extension_postgres", "postgres")}


def is_lake(location: str | os.PathLike[str]) -> bool:
    return isinstance(location, str) and location.strip().lower().startswith(PREFIX)


@dataclass(frozen=True)
class Lake:
    """Where a DuckLake warehouse lives: ``url`` of its PostgreSQL catalog, and the data folder when set."""

    url: str
    data_path: str | None

    @classmethod
    def parse(cls, location: str, data_path: str | None = None) -> Lake:
        """``ducklake:<PostgreSQL URL>``; anything else is refused naming the variable and what is allowed."""
        url = location.strip()[len(PREFIX):]
        if not postgres.is_postgres_url(url):
            shown = postgres.redact_url(url) if "://" in url else url
            raise WarehousePathError(
                f"{DUCKDB_PATH_ENV}: ducklake:{shown} is not allowed; a DuckLake warehouse keeps its catalog in "
                f"PostgreSQL: ducklake:<URL>, the URL starting with one of {postgres.allowed_schemes()} "
                "(nothing was written)")
        postgres.register_password(url)
        return cls(url=url, data_path=(data_path or "").strip() or None)

    def __str__(self) -> str:
        """For messages: the URL with its password as ``***``."""
        return f"{PREFIX}{postgres.redact_url(self.url)}"

    # --- the catalog database ---------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the catalog has been created (the first write creates it; reads create nothing)."""
        db = postgres.connect(self.url, variable=DUCKDB_PATH_ENV, application_name="sp_assets warehouse",
                              error=WarehousePathError)
        try:
            with db.cursor() as cursor:
                cursor.execute("SELECT to_regclass('ducklake_metadata') IS NOT NULL")
                row = cursor.fetchone()
            return bool(row and row[0])
        finally:
            db.close()

    def check_writable(self) -> None:
        """Fail now, naming the variable, if the catalog is unreachable or a new lake has no data folder."""
        if self.exists():
            return
        if self.data_path is None:
            raise WarehousePathError(
                f"{DATA_PATH_ENV} is not set: the DuckLake catalog {self} is new, and DuckLake needs the folder "
                "its Parquet files go to, one that every machine reaches (a shared mount such as NFS); "
                "nothing was written")
        if "://" not in self.data_path:
            try:
                Path(self.data_path).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehousePathError(f"{DATA_PATH_ENV}: cannot create {self.data_path}: {exc}; nothing was "
                                         "written") from None

    @contextmanager
    def writers_lock(self, timeout_s: float) -> Iterator[None]:
        """The lock every sp_assets writer of this lake holds around connect + transaction."""
        with postgres.advisory_lock(
                self.url, _LOCK_KEY, timeout_s, variable=DUCKDB_PATH_ENV,
                application_name="sp_assets warehouse lock", error=WarehousePathError,
                timed_out=lambda: WarehouseLockTimeout(
                    f"waited {timeout_s:g} s for the warehouse lock of {self}: another sp_assets process kept "
                    "writing; raise lock_timeout_s or lower the number of concurrent runs")):
            yield

    # --- the DuckDB connection --------------------------------------------------------------------

    def open(self, config: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with the lake attached as its default database."""
        connection = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                                        **dict(config or {})})
        try:
            for name in _EXTENSIONS:
                connection.execute(f"LOAD '{extension_file(name)}'")
            options = f" (DATA_PATH '{_sql_text(self.data_path)}')" if self.data_path else ""
            connection.execute(f"ATTACH '{PREFIX}postgres:{_sql_text(postgres.libpq_dsn(self.url))}' AS {ALIAS}"
                               f"{options}")
            connection.execute(f"USE {ALIAS}")
        except duckdb.Error as exc:
            connection.close()
            raise postgres.failure(DUCKDB_PATH_ENV, self.url, "attaching the DuckLake catalog", exc,
                                   WarehousePathError) from None
        return connection


@dataclass(frozen=True)
class Maintenance:
    """What one ``maintain`` did: Parquet files merged into fewer, snapshots expired, files deleted."""

    files_merged: int
    snapshots_expired: int
    files_deleted: int
    files_left: int


def maintain(connection: duckdb.DuckDBPyConnection, keep_snapshots: timedelta, keep_files: timedelta
             ) -> Maintenance:
    """Merge each table's adjacent small files, expire the snapshots older than ``keep_snapshots`` (time
    travel reaches back that far), and delete the files of expired snapshots once ``keep_files`` has
    passed since they were scheduled (a reader still scanning one keeps working meanwhile).

    Run under the writers' lock: DuckLake would abort a write that committed against the files being
    merged. Rows are untouched; only their files and the catalog's history change."""
    merged = connection.execute(f"CALL ducklake_merge_adjacent_files('{ALIAS}')").fetchall()
    expired = connection.execute(f"CALL ducklake_expire_snapshots('{ALIAS}', older_than => now() - "
                                 f"INTERVAL '{int(keep_snapshots.total_seconds())} seconds')").fetchall()
    deleted = connection.execute(f"CALL ducklake_cleanup_old_files('{ALIAS}', older_than => now() - "
                                 f"INTERVAL '{int(keep_files.total_seconds())} seconds')").fetchall()
    left = connection.execute(f"SELECT count(*) FROM __ducklake_metadata_{ALIAS}.ducklake_data_file "
                              "WHERE end_snapshot IS NULL").fetchone()
    files_left = int(left[0]) if left else 0
    return Maintenance(files_merged=sum(int(row[2]) for row in merged), snapshots_expired=len(expired),
                       files_deleted=len(deleted), files_left=files_left)


def extension_file(name: str) -> Path:
    """The extension file DuckDB loads as ``name``, from its wheel for this DuckDB version.

    The postgres wheel's file is ``postgres.duckdb_extension`` but its entry point is
    ``postgres_scanner``, and DuckDB derives the entry point from the file name, so it is linked under
    that name in a per-user folder."""
    package, stem = _EXTENSIONS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WarehousePathError(f"{DUCKDB_PATH_ENV} names a DuckLake warehouse, which needs the {package} wheel: "
                                 "install the ducklake extra (pip install -e '.[ducklake]'); nothing was written")
    shipped = Path(list(spec.submodule_search_locations)[0]) / "extensions" / f"v{duckdb.__version__}" / \
        f"{stem}.duckdb_extension"
    if not shipped.is_file():
        raise WarehousePathError(f"{package} has no extension for DuckDB {duckdb.__version__} ({shipped} is "
                                 "missing): install the version pinned by the ducklake extra")
    if stem == name:
        return shipped
    folder = Path(tempfile.gettempdir()) / f"sp_assets-duckdb-extensions-{os.getuid()}" / duckdb.__version__
    linked = folder / f"{name}.duckdb_extension"
    if not (linked.is_symlink() and linked.resolve() == shipped.resolve()):
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{name}.{os.getpid()}"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(shipped)
        os.replace(temporary, linked)  # atomic: a process loading it meanwhile sees the old or new link
    return linked


def _sql_text(text: str) -> str:
    return text.replace("'", "''")
