"""Fixtures for Dagster asset tests: a sandbox-backed environment and a temporary DuckDB file.

Assets are built from a configuration parsed in the test (``make_config``), bound to real resources
(the SP-API resource in sandbox mode pointing at the session sandbox over HTTP, and the warehouse on
a temporary file), and materialized with ``dg.materialize`` like a real run.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from sp_assets.defs.config import MarketplaceConfig, ProjectConfig, parse_config
from sp_assets.defs.resources import WarehouseResource, resource_key, sp_api_resource
from sp_assets.lib.warehouse import Warehouse
from sp_assets.sandbox.server import SandboxServer

warnings.filterwarnings("ignore", category=dg.BetaWarning)

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def make_config(marketplaces: dict[str, dict] | None = None, **defaults: Any) -> ProjectConfig:
    """A validated configuration; partitions start 60 days ago unless a test says otherwise."""
    start = (date.today() - timedelta(days=60)).isoformat()
    return parse_config({"defaults": {"start_date": start, **defaults},
                         "marketplaces": marketplaces or {"us": {}}})


def day_window(entry: MarketplaceConfig, day: date) -> tuple[datetime, datetime]:
    """The UTC window of one local partition day."""
    zone = ZoneInfo(entry.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def past_day(days_ago: int = 12) -> date:
    """A day old enough that every order of it has reached its final status (the seller's orders
    stop changing about 8 days after purchase), so ground truth cannot move during a test."""
    return date.today() - timedelta(days=days_ago)


@dataclass
class AssetEnv:
    sandbox: SandboxServer
    db_path: Path

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(str(self.db_path))

    def resources(self, config: ProjectConfig) -> dict[str, Any]:
        found: dict[str, Any] = {resource_key(m.code): sp_api_resource(m) for m in config.marketplaces}
        found["warehouse"] = WarehouseResource(database=str(self.db_path))
        return found

    def materialize(self, assets: Sequence[Any], config: ProjectConfig, *, partition_key: str | None = None,
                    first: str | None = None, last: str | None = None, raise_on_error: bool = True,
                    selection: Any = None, instance: dg.DagsterInstance | None = None,
                    run_config: dict[str, Any] | None = None) -> dg.ExecuteInProcessResult:
        tags = {RANGE_START: first, RANGE_END: last} if first else None
        return dg.materialize(list(assets), partition_key=partition_key, tags=tags, selection=selection,
                              resources=self.resources(config), raise_on_error=raise_on_error,
                              instance=instance, run_config=run_config)


def snapshot_date_config(assets: Sequence[Any], day: date | str) -> dict[str, Any]:
    """The run config asking every point-in-time asset of ``assets`` for the snapshot of ``day``
    (what a user types in the launchpad: ``ops: {us__inventory_supply: {config: {snapshot_date: ...}}}``)."""
    from sp_assets.defs.common import REFRESH_TAG, SNAPSHOT, SNAPSHOT_DATE

    ops = {asset.op.name: {"config": {SNAPSHOT_DATE: str(day)}} for asset in assets
           if isinstance(asset, dg.AssetsDefinition) and asset.is_executable
           and all(spec.tags.get(REFRESH_TAG) == SNAPSHOT for spec in asset.specs)}
    return {"ops": ops}


@pytest.fixture
def asset_env(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AssetEnv]:
    """Sandbox mode against the session sandbox (speed 1000) and a fresh DuckDB file."""
    monkeypatch.setenv("SP_API_ENDPOINT", sandbox.base_url)
    monkeypatch.setenv("SP_SANDBOX_SPEED", str(sandbox.config.speed))
    monkeypatch.setenv("SP_ASSETS_SANDBOX", "1")
    monkeypatch.setenv("SP_ASSETS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SP_ASSETS_DUCKDB", str(tmp_path / "data" / "test.duckdb"))
    for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield AssetEnv(sandbox=sandbox, db_path=tmp_path / "data" / "test.duckdb")


def materialization_metadata(result: dg.ExecuteInProcessResult, key: Sequence[str]) -> list[dict[str, Any]]:
    """The metadata of each materialization of ``key`` in a run, as plain values."""
    out = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            if list(materialization.asset_key.path) == list(key):
                out.append({k: getattr(v, "value", v) for k, v in materialization.metadata.items()})
    return out
