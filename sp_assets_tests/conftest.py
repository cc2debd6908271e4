"""Fixtures shared by every test: sandboxes served over real HTTP on 127.0.0.1.

The tests ask for the sandbox explicitly (``SP_ASSETS_SANDBOX=1``, set here for the whole session
and so inherited by every process a test starts); a test about the other case removes it with
``monkeypatch.delenv``. Without it, a run with no credentials fails instead of using the sandbox.

``sandbox`` is one fast, fault-free sandbox for the whole session (tests must not depend on its
quota state: use ``sandbox_factory`` when a test drains buckets or needs faults or another seed).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sp_assets.local_postgres import create_database, postgres_server, why_no_postgres
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxServer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MODELS_DIR = SHARED / "sp-api-models"

os.environ["SP_ASSETS_SANDBOX"] = "1"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(seed=7, speed=1000.0, orders_per_day=120)) as server:
        yield server


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    started: list[SandboxServer] = []

    def start(**overrides) -> SandboxServer:
        config = SandboxConfig(**{"seed": 7, "speed": 1000.0, "orders_per_day": 120, **overrides})
        server = SandboxServer(config).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def models_dir() -> Path:
    """Amazon's Swagger models; contract tests skip, saying why, where ../shared is absent."""
    if not MODELS_DIR.is_dir():
        pytest.skip(f"Amazon's models are not at {MODELS_DIR} (the ../shared folder is absent on this machine)")
    return MODELS_DIR


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, str] | None]:
    """A PostgreSQL server on 127.0.0.1 (a free port, its own data folder, no fsync: the data dies with
    the tests) with an empty database for Dagster; None where it cannot run (``why_no_postgres``).
    Stopped at the end, pass or fail (``sp_assets.local_postgres``, shared with the benchmark)."""
    if why_no_postgres():
        yield None  # the stack runs on the default profile; the PostgreSQL test skips, saying why
        return
    with postgres_server(fsync=False) as settings:
        yield settings


@pytest.fixture(scope="session")
def new_pg_database(postgres: dict[str, str] | None) -> Callable[[], str]:
    """``new_pg_database()``: the URL of a new, empty database on the session's PostgreSQL server, for the
    state that can live there (quota buckets, the report ledger); skips, saying why, where none runs."""
    numbers = itertools.count()

    def make() -> str:
        if postgres is None:
            pytest.skip(why_no_postgres())
        name = f"sp_assets_t{os.getpid()}_{next(numbers)}"
        create_database(postgres, name)
        return f"postgresql://{postgres['DAGSTER_PG_USER']}@127.0.0.1:{postgres['DAGSTER_PG_PORT']}/{name}"

    return make
