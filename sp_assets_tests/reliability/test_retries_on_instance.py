"""Issue 18, items 4 and 5, on a real instance: a retried write does not fetch again; paging and
request deadlines bound a real run.

Each test runs ``us/orders`` (+ ``us/order_items``) of the project's code location against a real
Dagster instance: a ``DAGSTER_HOME`` in tmp with the project's own ``dagster.yaml`` (pools, run
monitoring), the assets' step retry policy active, the sandbox over HTTP behind the fault proxy.

* **A retry reuses what was fetched.** Another process holds the DuckDB file (as the DuckDB CLI or a
  notebook would), so the first attempt's write gives up after the busy timeout
  (``WarehouseBusyError``) and the step is up for retry. The test releases the file once the instance
  records the retry. The retried attempt must write the frames the first attempt staged, making zero
  calls to the Orders API (counted at the proxy and shown as ``api_calls`` in the metadata), and the
  tables must equal a clean run's. Before the fix the retry fetched everything again.
* **The page cap and the overall deadline end a real run** with the message naming the operation and
  the bound, within a time derived from the configured bound and the retry policy, writing nothing.
  Both bounds come from the environment (``SP_ASSETS_MAX_PAGES_PER_CALL``,
  ``SP_ASSETS_REQUEST_DEADLINE_S``), which a run did not read before the fix.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from sp_assets.defs.rest_support import retry_backoff_s
from sp_assets.lib.spapi.retry import RetryPolicy as ClientRetry

from . import support
from .proxy import Answer, TamperingProxy

DAY = (date.today() - timedelta(days=4)).isoformat()
ORDERS = dg.AssetKey(["us", "orders"])
ITEMS = dg.AssetKey(["us", "order_items"])
FULFILLMENT_ORDERS = dg.AssetKey(["us", "fulfillment_orders"])
SEARCH_ORDERS = "/orders/2026-01-01/orders"
LIST_FULFILLMENT_ORDERS = "/fba/outbound/2020-07-01/fulfillmentOrders"
BUSY_TIMEOUT_S = 2.0
STEP_ATTEMPTS = 3  # RETRY = RetryPolicy(max_retries=2, ...) in defs/common.py
STARTUP_MARGIN_S = 30.0  # loading the code location, the instance's storage, the token, under a loaded machine


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[dict]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(support.PROJECT / "dagster.yaml", home / "dagster.yaml")
    proxy = TamperingProxy().start()
    sandbox = support.frozen_sandbox(support.now_utc(), public_base_url=proxy.url)
    proxy.upstream = sandbox.base_url
    config = support.write_config(tmp_path / "marketplaces.yaml", "us")
    db = tmp_path / "warehouse.duckdb"
    env = support.sandbox_env(proxy.url, tmp_path / "data", db, config)
    with support.environment(**env, DAGSTER_HOME=str(home), SP_ASSETS_DUCKDB_BUSY_TIMEOUT=f"{BUSY_TIMEOUT_S:g}",
                             SP_ASSETS_REQUEST_DEADLINE_S=None, SP_ASSETS_MAX_PAGES_PER_CALL=None):
        instance = dg.DagsterInstance.from_config(str(home))
        try:
            yield {"proxy": proxy, "instance": instance, "db": db, "tmp": tmp_path, "sandbox": sandbox}
        finally:
            instance.dispose()
    proxy.stop()
    sandbox.stop()


def _materialize(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> dg.ExecuteInProcessResult:
    defs = support.code_location()
    return dg.materialize([*defs.assets, *(defs.asset_checks or [])], selection=keys, partition_key=DAY,
                          resources=defs.resources, instance=instance, raise_on_error=False)


def _events(instance: dg.DagsterInstance, kind: dg.DagsterEventType) -> list[dg.EventLogEntry]:
    return [record.event_log_entry for record in instance.get_records_for_run(
        run_id=_only_run(instance), of_type=kind).records] if instance.get_runs(limit=1) else []


def _only_run(instance: dg.DagsterInstance) -> str:
    (run,) = instance.get_runs()
    return run.run_id


def _step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    texts = []
    for event in result.all_events:
        if event.event_type_value in ("STEP_FAILURE", "STEP_UP_FOR_RETRY"):
            data = event.event_specific_data
            error = getattr(data, "error", None)
            user = getattr(data, "user_failure_data", None)
            texts.append(user.description if user is not None and user.description else error.to_string())
    return texts


def _hold_duckdb_file(db: Path) -> subprocess.Popen:
    """Another program keeps the DuckDB file open (and so DuckDB's lock) until its stdin closes."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
                               "sys.stdin.read(); c.close()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def _metadata(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {name: value.value for name, value in event.materialization.metadata.items()}


def _wait_for(condition, timeout_s: float, what: str) -> None:
    """Poll the instance's event log (the retry is an event other code records; nothing to join on)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:g} s waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize(("keys", "path"), [
    ([ORDERS, ITEMS], SEARCH_ORDERS),  # the orders multi-asset (its own write path)
    ([FULFILLMENT_ORDERS], LIST_FULFILLMENT_ORDERS),  # a REST asset through rest_support.fetch_staged
], ids=["orders", "rest"])
def test_a_retry_after_a_locked_write_does_not_fetch_again(rig, keys: list[dg.AssetKey], path: str) -> None:
    instance: dg.DagsterInstance = rig["instance"]
    proxy: TamperingProxy = rig["proxy"]
    # The truth: a clean run of the same frozen data into another file, on an ephemeral instance.
    with support.environment(SP_ASSETS_DUCKDB=str(rig["tmp"] / "truth.duckdb")):
        truth = support.code_location()
        clean = dg.materialize([*truth.assets, *(truth.asset_checks or [])], selection=keys,
                               partition_key=DAY, resources=truth.resources, raise_on_error=False)
    assert clean.success
    clean_calls = len(proxy.requests_to(path))
    assert clean_calls > 0
    del proxy.recorded[:]

    duckdb.connect(str(rig["db"])).close()  # the file exists, as in any deployment after its first run
    holder = _hold_duckdb_file(rig["db"])
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(result=_materialize(instance, keys)))
    runner.start()
    try:
        _wait_for(lambda: bool(instance.get_runs(limit=1)) and bool(_events(instance, dg.DagsterEventType.STEP_UP_FOR_RETRY)),
                  STARTUP_MARGIN_S + 60, "the first attempt's write to give up on the locked file")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # release the file: the retried attempt can write
        holder.wait(timeout=30)
    calls_of_first_attempt = len(proxy.requests_to(path))
    runner.join(timeout=STARTUP_MARGIN_S + retry_backoff_s() + 60)
    assert not runner.is_alive()
    result: dg.ExecuteInProcessResult = outcome["result"]

    (retried,) = _step_failures(result)
    assert "WarehouseBusyError" in retried or "busy" in retried.lower(), retried
    assert result.success
    assert calls_of_first_attempt == clean_calls  # the first attempt fetched everything
    assert len(proxy.requests_to(path)) == calls_of_first_attempt  # the retry fetched nothing
    assert all(_metadata(result, key)["api_calls"] == 0 for key in keys)
    assert _metadata(result, keys[0])["fetch_reused_from_stage"] is True
    assert support.assert_same_warehouse(rig["db"], rig["tmp"] / "truth.duckdb")[f"us.{keys[0].path[-1]}"] > 0
    staging_dir = rig["tmp"] / "data" / "staging"
    assert not staging_dir.exists() or not any(staging_dir.iterdir()), "the stage outlived the successful write"


def test_a_clean_run_stages_nothing_and_reports_its_calls(rig) -> None:
    result = _materialize(rig["instance"], [ORDERS, ITEMS])
    assert result.success
    orders = _metadata(result, ORDERS)
    assert orders["api_calls"] == len(rig["proxy"].requests_to(SEARCH_ORDERS)) > 0
    assert orders["fetch_reused_from_stage"] is False
    staging_dir = rig["tmp"] / "data" / "staging"
    assert not staging_dir.exists() or not any(staging_dir.iterdir())


def _nothing_written(db: Path) -> bool:
    if not db.exists():
        return True
    with duckdb.connect(str(db), read_only=True) as connection:
        tables = {row[0] for row in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'us'").fetchall()}
        return not tables & {"orders", "order_items"} or all(
            connection.execute(f'select count(*) from us."{t}"').fetchone()[0] == 0
            for t in tables & {"orders", "order_items"})


def test_a_new_token_every_page_fails_the_run_at_the_configured_cap(rig, quick_step_retries: dg.RetryPolicy) -> None:
    proxy: TamperingProxy = rig["proxy"]
    served = 0

    def endless(method: str, path: str, answer: Answer) -> Answer:
        nonlocal served
        if path != SEARCH_ORDERS:
            return answer
        served += 1
        body = {"orders": [], "pagination": {"nextToken": f"fresh-token-{served}"}}
        return Answer(200, {"content-type": "application/json"}, json.dumps(body).encode())

    proxy.rules.append(endless)
    cap = 5
    began = time.monotonic()
    with support.environment(SP_ASSETS_MAX_PAGES_PER_CALL=str(cap)):
        result = _materialize(rig["instance"], [ORDERS, ITEMS])
    took = time.monotonic() - began
    assert not result.success
    failures = _step_failures(result)
    assert len(failures) == STEP_ATTEMPTS  # retried by the policy, then failed
    for message in failures:
        assert f"searchOrders: still a continuation token after {cap} pages" in message, message
        assert f"max_pages_per_call: {cap}" in message, message
    assert served == cap * STEP_ATTEMPTS
    assert took < STARTUP_MARGIN_S + retry_backoff_s(quick_step_retries), f"{took:.0f} s"
    assert _nothing_written(rig["db"])


def test_a_trickled_answer_fails_the_run_at_the_configured_deadline(rig, quick_step_retries: dg.RetryPolicy) -> None:
    proxy: TamperingProxy = rig["proxy"]
    proxy.trickle = lambda method, full_path: full_path.split("?", 1)[0] == SEARCH_ORDERS
    proxy.trickle_interval = 0.5
    deadline_s = 1.0
    began = time.monotonic()
    with support.environment(SP_ASSETS_REQUEST_DEADLINE_S=f"{deadline_s:g}"):
        result = _materialize(rig["instance"], [ORDERS, ITEMS])
    took = time.monotonic() - began
    assert not result.success
    failures = _step_failures(result)
    assert len(failures) == STEP_ATTEMPTS
    for message in failures:
        assert "searchOrders (GET /orders/2026-01-01/orders) got no complete answer within its overall deadline " \
               f"of {deadline_s:g} s" in message, message
    # Each step attempt: the client's attempts, each cut at the deadline (its pauses are scaled by the
    # sandbox speed); then the policy's backoff between step attempts.
    bound = STEP_ATTEMPTS * ClientRetry().max_attempts * deadline_s + retry_backoff_s(quick_step_retries) \
        + STARTUP_MARGIN_S
    assert took < bound, f"{took:.0f} s, bound {bound:.0f} s"
    assert _nothing_written(rig["db"])
