"""A throw-away PostgreSQL server for the production instance profile (``dagster.postgres.yaml``).

The end-to-end tests (``sp_assets_tests/e2e/conftest.py``) and the orchestration benchmark
(``benchmarks/bench_orchestration.py``) both run Dagster on a real server: Debian's ``initdb`` +
``pg_ctl``, listening on 127.0.0.1 on a free port, its data in a temporary folder, stopped and deleted
at the end, pass or fail. One place starts it, so the tests and the benchmark measure the same server.
Nothing here imports Dagster; ``psycopg2`` (the ``postgres`` extra) is imported only when a server
starts.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_USER, PG_DB = "sp_assets", "dagster"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (on PATH, or Debian's /usr/lib/postgresql/<version>/bin)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as ``postgres`` then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def why_no_postgres() -> str:
    """Why no server can be started here ("" when one can)."""
    if server_binaries() is None:
        return ("PostgreSQL's server (initdb, pg_ctl) is not installed; `make test` installs Debian's "
                "postgresql package when it runs as root")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: PostgreSQL cannot be started as root"
    return ""


def create_database(settings: dict[str, str], name: str) -> None:
    """An empty database ``name`` on the server of ``settings`` (the ``DAGSTER_PG_*`` variables)."""
    import psycopg2  # type: ignore[import-untyped]  # the postgres extra ships no stubs

    admin = psycopg2.connect(host=settings["DAGSTER_PG_HOST"], port=int(settings["DAGSTER_PG_PORT"]),
                             user=settings["DAGSTER_PG_USER"], dbname="postgres")
    try:
        admin.autocommit = True  # CREATE DATABASE cannot run in a transaction
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()


@contextmanager
def postgres_server(*, fsync: bool) -> Iterator[dict[str, str]]:
    """A running server with an empty ``PG_DB`` database; yields the ``DAGSTER_PG_*`` settings
    ``dagster.postgres.yaml`` reads. Check ``why_no_postgres()`` first.

    ``fsync=False`` (``-F``) is for tests, whose data dies with them; a measurement of what users deploy
    keeps PostgreSQL's default, every commit flushed to disk."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError(why_no_postgres())
    base = Path(tempfile.mkdtemp(prefix="sp_assets_pg_"))
    base.chmod(0o755)
    data, port = base / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    try:
        subprocess.run(as_server_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER,
                                       "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        options = f"-h 127.0.0.1 -p {port} -k {base}" + ("" if fsync else " -F")
        subprocess.run(as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                                       "-o", options, "-w", "-t", "120", "start"]),
                       check=True, capture_output=True)
        settings = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_USER": PG_USER,
                    "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": PG_DB}
        create_database(settings, PG_DB)
        yield settings
    finally:
        subprocess.run(as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
