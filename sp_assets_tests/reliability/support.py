"""What the reliability tests share: a deterministic sandbox, the real code location, table comparison.

* ``frozen_sandbox``: a sandbox whose seller clock stands still at ``moment`` and whose reports finish
  as soon as their document is written (zero queue and processing delay). Two such sandboxes with the
  same seed and moment serve identical data however long a run takes and however many calls faults
  make it retry, which is what "a faulted run ends identical to a fault-free run" needs.
* ``code_location``: ``sp_assets.definitions`` loaded exactly as ``dg dev`` loads it, for a given
  ``marketplaces.yaml``.
* ``warehouse_tables`` / ``assert_same_warehouse``: every table of a DuckDB file, sorted, minus the
  columns that are legitimately different from one run to the next (``RUN_SPECIFIC``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl

from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxServer

PROJECT = Path(__file__).resolve().parents[2]
SEED = 23
ORDERS_PER_DAY = 40
# The seller's clock is frozen (same data however long a run takes), so reports and Data Kiosk queries,
# whose status follows that clock, finish at once.
ZERO_DELAYS = {"report_queue_seconds": 0, "report_processing_seconds": 0,
               "datakiosk_queue_seconds": 0, "datakiosk_processing_seconds": 0}

# Columns whose values legitimately differ between two runs over the same data; everything else must
# be identical, row for row:
#   report_id            Amazon's id of the report a row came from: a rerun requests a new report
#   report_created_time  (settlements) when Amazon created the listed report: stable in the sandbox,
#                        listed here only because it is the report's, not the data's
#   snapshot_time        when a point-in-time API was asked (UTC, whole seconds)
#   fetched_at           when a REST page was fetched (fulfillment and inbound shipments)
#   load_id, written_at  the warehouse's load ledger (_sp_assets.loads): id and moment of each write
#   note                 the load ledger's free text, which names the report id
#   query_id             Amazon's id of the Data Kiosk query a row came from (like report_id)
#   version              financial_event_groups' merge version: the status rank and fetched_at
RUN_SPECIFIC = frozenset({"report_id", "report_created_time", "snapshot_time", "fetched_at", "load_id", "written_at",
                          "note", "query_id", "version"})


def frozen_sandbox(moment: datetime, *, seed: int = SEED, faults: str = "", orders_per_day: int = ORDERS_PER_DAY,
                   speed: float = 1000.0, extra: Mapping[str, Any] | None = None, **config: Any) -> SandboxServer:
    server = SandboxServer(SandboxConfig(seed=seed, speed=speed, orders_per_day=orders_per_day, faults=faults,
                                         extra={**ZERO_DELAYS, **(extra or {})}, **config))
    server.seller.clock = lambda: moment
    return server.start()


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def write_config(path: Path, code: str = "us", start_days_ago: int = 40, **options: Any) -> Path:
    """A ``marketplaces.yaml`` with one marketplace (the default reports and options otherwise)."""
    import yaml

    start = (date.today() - timedelta(days=start_days_ago)).isoformat()
    path.write_text(yaml.safe_dump({"marketplaces": {code: {"start_date": start, **options}}}), encoding="utf-8")
    return path


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for a block, restoring them after."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def sandbox_env(base_url: str, data_dir: Path, db: Path, config: Path, speed: float = 1000.0) -> dict[str, str | None]:
    """The variables of a sandbox-mode deployment pointed at one sandbox, one data folder, one DuckDB file."""
    return {"SP_API_ENDPOINT": base_url, "SP_SANDBOX_SPEED": f"{speed:g}", "SP_ASSETS_SANDBOX": "1",
            "SP_ASSETS_DATA_DIR": str(data_dir), "SP_ASSETS_DUCKDB": str(db), "SP_ASSETS_CONFIG": str(config),
            "SP_ASSETS_REPORT_LEDGER": None, "LWA_APP_ID": None, "LWA_CLIENT_SECRET": None,
            "SP_API_REFRESH_TOKEN": None, "SP_API_TOKEN_URL": None}


def code_location() -> dg.Definitions:
    """The project's Definitions for the current ``SP_ASSETS_CONFIG`` (as ``dg dev`` builds them)."""
    import sp_assets.definitions as definitions

    return definitions.defs()


def is_snapshot(defs: dg.Definitions, key: dg.AssetKey) -> bool:
    """Point-in-time assets (unpartitioned, a run takes today's snapshot) carry the refresh tag ``snapshot``."""
    from sp_assets.defs.common import REFRESH_TAG, SNAPSHOT

    node = defs.resolve_asset_graph().get(key)
    return node.tags.get(REFRESH_TAG) == SNAPSHOT


def partitioned(defs: dg.Definitions, key: dg.AssetKey) -> bool:
    return defs.resolve_asset_graph().get(key).partitions_def is not None


def unmaterialized(result: dg.ExecuteInProcessResult, wanted: set[dg.AssetKey]) -> set[dg.AssetKey]:
    """The assets of ``wanted`` a run did not materialize (their step failed, or an upstream one did)."""
    return wanted - {e.asset_key for e in result.get_asset_materialization_events()}


def warehouse_tables(db: Path, exclude: frozenset[str] = RUN_SPECIFIC) -> dict[str, pl.DataFrame]:
    """Every base table of the file (views are derived), its columns minus ``exclude``, sorted by all."""
    out: dict[str, pl.DataFrame] = {}
    with duckdb.connect(str(db), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
            "order by 1, 2").fetchall()
        for schema, table in tables:
            frame = connection.sql(f'select * from "{schema}"."{table}"').pl()
            keep = [c for c in frame.columns if c not in exclude]
            frame = frame.select(keep)
            out[f"{schema}.{table}"] = frame.sort(keep, nulls_last=True) if keep and frame.height else frame
    return out


def assert_same_warehouse(got: Path, want: Path, exclude: frozenset[str] = RUN_SPECIFIC,
                          ignore_tables: Sequence[str] = ()) -> dict[str, int]:
    """Every table of ``want`` exists in ``got`` with identical rows (and no table more); returns row counts."""
    a, b = warehouse_tables(got, exclude), warehouse_tables(want, exclude)
    for name in ignore_tables:
        a.pop(name, None)
        b.pop(name, None)
    assert sorted(a) == sorted(b), f"tables differ: only in run {sorted(set(a) - set(b))}, only in truth " \
                                   f"{sorted(set(b) - set(a))}"
    for name in b:
        assert a[name].columns == b[name].columns, f"{name}: columns differ"
        assert a[name].height == b[name].height, f"{name}: {a[name].height} rows, expected {b[name].height}"
        assert a[name].equals(b[name]), f"{name}: rows differ: {_first_difference(a[name], b[name])}"
    return {name: frame.height for name, frame in b.items()}


def _first_difference(a: pl.DataFrame, b: pl.DataFrame) -> str:
    for index, (x, y) in enumerate(zip(a.rows(), b.rows(), strict=False)):
        if x != y:
            diff = {c: (p, q) for c, p, q in zip(a.columns, x, y, strict=True) if p != q}
            return f"row {index}: {diff}"
    return "lengths differ"
