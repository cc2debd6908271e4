"""The sandbox only when asked for, and every load marked with where its data came from.

Real materializations against the session sandbox over HTTP: without credentials and without
``SP_ASSETS_SANDBOX=1`` every domain fails before it fetches or writes anything; with the request,
the ledger and the metadata say ``sandbox``; with credentials, ``amazon``.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import filelock
import pytest
from dagster_duckdb import DuckDBResource

from sp_assets.defs import embedded_sandbox
from sp_assets.defs.common import today_local
from sp_assets.defs.marketplace_factory import DOMAINS
from sp_assets.defs.orders.assets import build_orders_assets
from sp_assets.defs.resources import WarehouseResource, sandbox_requested
from sp_assets.defs.sellers.assets import build_sellers_assets
from sp_assets.lib.spapi.credentials import (
    CLIENT_ID_VAR,
    CLIENT_SECRET_VAR,
    REFRESH_TOKEN_VAR,
    candidate_names,
)
from sp_assets_tests.defs.conftest import AssetEnv, make_config, materialization_metadata, past_day


def _failure_texts(result: dg.ExecuteInProcessResult) -> list[str]:
    texts = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            texts.append(data.user_failure_data.description if data.user_failure_data else str(data.error))
    return texts


def _retries(result: dg.ExecuteInProcessResult) -> int:
    return sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def _nothing_written(env: AssetEnv) -> None:
    """No table and no ledger row in the DuckDB file (which need not exist at all)."""
    if env.db_path.exists():
        assert env.warehouse.query(
            "select count(*) as n from duckdb_tables() where database_name = current_database()").item() == 0
        assert env.warehouse.loads().height == 0


@pytest.fixture
def no_request_no_credentials(asset_env: AssetEnv, monkeypatch: pytest.MonkeyPatch) -> AssetEnv:
    """A deployment that lost its environment: no credentials, no sandbox request, no sandbox URL."""
    monkeypatch.delenv("SP_ASSETS_SANDBOX")
    monkeypatch.delenv("SP_API_ENDPOINT")
    return asset_env


@pytest.mark.parametrize("build_assets", [assets for assets, _checks in DOMAINS], ids=lambda b: b.__name__)
def test_without_credentials_or_a_sandbox_request_every_domain_fails_before_writing(
        no_request_no_credentials: AssetEnv, build_assets) -> None:
    env = no_request_no_credentials
    config = make_config({"us": {}})
    entry = config.get("us")
    assets = [a for a in build_assets(entry) if a.partitions_def is not None]
    unpartitioned = [a for a in build_assets(entry) if a.partitions_def is None]
    results = []
    if assets:
        results.append(env.materialize(assets, config, partition_key=today_local(entry).isoformat(),
                                       raise_on_error=False))
    if unpartitioned:
        results.append(env.materialize(unpartitioned, config, raise_on_error=False))
    for result in results:
        assert not result.success and _retries(result) == 0
        texts = _failure_texts(result)
        assert texts, "the run failed without a step failure"
        for text in texts:
            assert "marketplace us" in text, text
            for base in (CLIENT_ID_VAR, CLIENT_SECRET_VAR, REFRESH_TOKEN_VAR):
                assert " or ".join(candidate_names(base, "us")) in text, text
            assert "SP_ASSETS_SANDBOX=1" in text and "make demo" in text and "make dev" in text, text
    _nothing_written(env)
    assert embedded_sandbox._server is None, "the embedded sandbox was started without a request"


@pytest.mark.parametrize("value", ["yes", "true", "2"])
def test_an_unknown_sandbox_value_is_named_with_the_allowed_values(asset_env: AssetEnv, monkeypatch, value) -> None:
    monkeypatch.setenv("SP_ASSETS_SANDBOX", value)
    with pytest.raises(ValueError, match=r"SP_ASSETS_SANDBOX: .* use 1 .*, 0 or leave it unset"):
        sandbox_requested()
    config = make_config({"us": {}})
    result = asset_env.materialize(build_orders_assets(config.get("us"))[:1], config,
                                   partition_key=past_day(12).isoformat(), raise_on_error=False)
    assert not result.success and _retries(result) == 0
    assert any(f"SP_ASSETS_SANDBOX: {value!r} is not allowed" in text for text in _failure_texts(result))
    _nothing_written(asset_env)


@pytest.mark.parametrize("value", ["0", ""])
def test_zero_or_empty_is_no_request(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SP_ASSETS_SANDBOX", value)
    assert sandbox_requested() is False


def _sources(env: AssetEnv, result: dg.ExecuteInProcessResult, keys: list[list[str]]) -> tuple[set, set]:
    ledger = set(env.warehouse.loads().get_column("source").to_list())
    metadata = {m["source"] for key in keys for m in materialization_metadata(result, key)}
    return ledger, metadata


def test_with_the_request_every_load_is_marked_sandbox(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.get("us")
    day: date = past_day(12)
    orders = asset_env.materialize(build_orders_assets(entry)[:1], config, partition_key=day.isoformat())
    sellers = asset_env.materialize(build_sellers_assets(entry), config)
    assert asset_env.warehouse.loads().height >= 3
    ledger, metadata = _sources(asset_env, orders, [["us", "orders"], ["us", "order_items"]])
    _, seller_metadata = _sources(asset_env, sellers, [["us", "marketplace_participations"]])
    assert ledger == {"sandbox"} and metadata == {"sandbox"} and seller_metadata == {"sandbox"}


def test_with_credentials_and_no_request_loads_are_marked_amazon(asset_env: AssetEnv,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox stands in for Amazon's host here; what counts is that the run took the credentials path."""
    monkeypatch.delenv("SP_ASSETS_SANDBOX")
    monkeypatch.setenv("SP_API_TOKEN_URL", asset_env.sandbox.base_url + "/auth/o2/token")
    monkeypatch.setenv(CLIENT_ID_VAR, "amzn1.application-oa2-client.factory")
    monkeypatch.setenv(CLIENT_SECRET_VAR, "amzn1.oa2-cs.v1.factory-secret")
    monkeypatch.setenv(REFRESH_TOKEN_VAR, "Atzr|sandbox-na-factory-refresh")
    config = make_config({"us": {}})
    result = asset_env.materialize(build_sellers_assets(config.get("us")), config)
    ledger, metadata = _sources(asset_env, result, [["us", "marketplace_participations"]])
    assert ledger == {"amazon"} and metadata == {"amazon"}


@pytest.mark.parametrize("variable, value, allowed", [
    ("SP_ASSETS_REQUEST_DEADLINE_S", "soon", "a number of seconds > 0"),
    ("SP_ASSETS_REQUEST_DEADLINE_S", "0", "a number of seconds > 0"),
    ("SP_ASSETS_REQUEST_DEADLINE_S", "nan", "a number of seconds > 0"),
    ("SP_ASSETS_MAX_PAGES_PER_CALL", "1.5", "a whole number of pages >= 1"),
    ("SP_ASSETS_MAX_PAGES_PER_CALL", "0", "a whole number of pages >= 1"),
])
def test_a_bad_request_bound_in_the_environment_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch, variable: str,
                                                                     value: str, allowed: str) -> None:
    from sp_assets.defs.resources import SpApiResource

    monkeypatch.setenv(variable, value)
    with pytest.raises(dg.Failure) as refused:
        SpApiResource(marketplace="us").client()
    assert f"marketplace us: {variable}: {value!r} is not allowed; use {allowed}" in refused.value.description


def test_a_bad_quota_store_fails_the_run_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """``SP_ASSETS_QUOTA_STORE`` is checked when the client is built: a wrong scheme names the variable
    and what is allowed (the password replaced), and the run fails without retries."""
    from sp_assets.defs.resources import SpApiResource

    monkeypatch.setenv("SP_ASSETS_QUOTA_STORE", "redis://:s3cret-for-redis@127.0.0.1:6379/0")
    with pytest.raises(dg.Failure) as refused:
        SpApiResource(marketplace="us").client()
    description = refused.value.description or ""
    assert description.startswith("marketplace us: SP_ASSETS_QUOTA_STORE='redis://:***@127.0.0.1:6379/0'")
    assert "postgresql://" in description and "s3cret-for-redis" not in description
    assert refused.value.allow_retries is False


def test_the_request_bounds_come_from_the_resource_else_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from sp_assets.defs.resources import SpApiResource

    monkeypatch.setenv("SP_ASSETS_REQUEST_DEADLINE_S", "7.5")
    monkeypatch.setenv("SP_ASSETS_MAX_PAGES_PER_CALL", "12")
    client = SpApiResource(marketplace="us").client()
    assert (client.request_deadline_s, client.max_pages_per_call) == (7.5, 12)
    client = SpApiResource(marketplace="us", request_deadline_seconds=3, max_pages_per_call=4).client()
    assert (client.request_deadline_s, client.max_pages_per_call) == (3.0, 4)
    monkeypatch.delenv("SP_ASSETS_REQUEST_DEADLINE_S")
    monkeypatch.delenv("SP_ASSETS_MAX_PAGES_PER_CALL")
    client = SpApiResource(marketplace="us").client()
    assert (client.request_deadline_s, client.max_pages_per_call) == (120.0, None)


def test_an_asset_of_your_own_takes_the_warehouse_as_dagster_duckdbs_resource(tmp_path, monkeypatch) -> None:
    """``warehouse: DuckDBResource`` (Dagster's DuckDB guide) gets sp_assets's connection: its
    ``connection_config`` applied, UTC, and the writers' lock held while the block runs."""
    db = tmp_path / "wh.duckdb"
    seen: dict[str, object] = {}

    @dg.asset
    def my_own_table(warehouse: DuckDBResource) -> None:
        with warehouse.get_connection() as connection:
            connection.execute("create table my_own as select 42 as answer")
            seen["threads"] = connection.execute("select current_setting('threads')").fetchone()[0]
            seen["tz"] = connection.execute("select current_setting('TimeZone')").fetchone()[0]
            lock = filelock.FileLock(f"{db}.lock")
            try:
                lock.acquire(timeout=0)
                seen["lock_free"] = True
                lock.release()
            except filelock.Timeout:
                seen["lock_free"] = False

    result = dg.materialize([my_own_table], resources={
        "warehouse": WarehouseResource(database=str(db), connection_config={"threads": 1})})
    assert result.success
    assert seen == {"threads": 1, "tz": "UTC", "lock_free": False}
    with WarehouseResource(database=str(db)).warehouse().connect() as connection:
        assert connection.execute("select answer from my_own").fetchone() == (42,)
