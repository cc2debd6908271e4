"""The warehouse's errors and the validation of its path.

Kept apart so that every other module of the package (the lock, the writes, the reads) raises the
same few exceptions with the same wording about where the path comes from, and callers catch one
family: ``WarehouseLockTimeout`` and ``WarehouseBusyError`` are transient (another writer), every
other ``WarehouseError`` is not.
"""

from __future__ import annotations

import os
from pathlib import Path

DUCKDB_PATH_ENV = "SP_ASSETS_DUCKDB"


class WarehouseError(RuntimeError):
    """A warehouse operation failed; the message names the database file and, for writes, the table."""


class WarehousePathError(WarehouseError):
    """The DuckDB path is unusable (empty, a directory, not a DuckDB file, not writable)."""


class WarehouseLockTimeout(WarehouseError):
    """Another sp_assets process held the warehouse lock for longer than ``lock_timeout_s``."""


class WarehouseBusyError(WarehouseError):
    """A process that does not use the sp_assets lock (DuckDB CLI, notebook) keeps the file open."""


def path_error(path: Path, reason: str) -> WarehousePathError:
    """The one wording of "this path cannot be used", naming the file and where its path comes from."""
    return WarehousePathError(
        f"cannot use the DuckDB warehouse file {path}: {reason}. The path comes from "
        f"{DUCKDB_PATH_ENV} (or the caller); it must be a writable DuckDB file location."
    )


def validated_path(path: str | os.PathLike[str]) -> Path:
    """An absolute local file path; in-memory and MotherDuck paths are refused (processes share the file;
    a DuckLake location never gets here, see ``lake``)."""
    text = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(text, str) or not text.strip():
        raise WarehousePathError(
            f"the DuckDB warehouse path is empty ({path!r}); set {DUCKDB_PATH_ENV} to a file path"
        )
    if text.strip() == ":memory:" or text.startswith("md:"):
        raise WarehousePathError(
            f"the DuckDB warehouse path must be a local file, got {text!r}: separate processes must share it "
            f"(set {DUCKDB_PATH_ENV}; for a warehouse several machines share: ducklake:<PostgreSQL URL>)"
        )
    resolved = Path(text).expanduser().absolute()
    if resolved.is_dir():
        raise WarehousePathError(
            f"the DuckDB warehouse path {resolved} is a directory; {DUCKDB_PATH_ENV} must name a file in it"
        )
    return resolved


def check_writable(path: Path) -> None:
    """Fail now, naming the path, if the database could not be created or written there; creates nothing."""
    if path.exists():
        if not path.is_file() or not os.access(path, os.R_OK | os.W_OK):
            raise path_error(path, "it exists but is not a readable and writable file")
        return
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise path_error(path, f"{ancestor} is a file, so no folder can be created under it")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise path_error(path, f"the folder {ancestor} is not writable")
