"""Issue 7 end to end: a partition backfill launched the way the UI launches it, on ``make dev``.

The real stack runs: ``python -m sp_assets.dev`` starts the Dagster webserver and the daemon, against
a temporary Dagster home, configuration (one marketplace, to keep loading fast), DuckDB file and data
folder; it is the stack the end-to-end tests share (``daemon_stack`` in ``conftest.py``: on PostgreSQL
where its server is installed, the SP-API sandbox behind a pass-through proxy, Ctrl-C at the end must
stop everything and leave no process). This test runs first on it. It sends the UI's GraphQL mutation
``launchPartitionBackfill`` (asset selection + partition names), polls ``partitionBackfillOrError``
until the daemon finishes it, checks the partition statuses and metadata the UI shows, the marts
rebuilt by their automation and, on PostgreSQL, that the runs live there; then compares DuckDB with
the synthetic seller the sandbox serves (same seed, same orders per day: the same orders).
``make dev`` starting its own sandbox is covered by ``test_demo_runs.py``.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.warehouse import Warehouse
from sp_assets.local_postgres import PG_DB, PG_USER
from sp_assets.sandbox.seller import SyntheticSeller

from .stack import POLL_SECONDS, DevStack, SharedStack

pytestmark = pytest.mark.slow

SEED, ORDERS_PER_DAY = 7, 60
ASSETS = (["us", "orders"], ["us", "order_items"])
BACKFILL_TIMEOUT = 300.0
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}"""
BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      error { message }
      runs(limit: 50) { runId status tags { key value } }
    }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}"""
ASSET_STATUS = """
query Assets($keys: [AssetKeyInput!], $partitions: [String!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    assetPartitionStatuses {
      __typename
      ... on TimePartitionStatuses { ranges { status startKey endKey } }
    }
    assetMaterializations(partitions: $partitions) {
      partition
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
    metadataEntries {
      label
      ... on TextMetadataEntry { text }
      ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
    }
  }
}"""

# Point-in-time assets (issue 16): what the asset catalog reads to show "n materialized, m missing".
SNAPSHOT_ASSETS = (["us", "inventory_supply"], ["us", "my_prices"], ["us", "merchant_listings"])
SNAPSHOT_STATUS = """
query Snapshots($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    isPartitioned
    partitionDefinition { description }
    partitionKeys
    partitionStats { numMaterialized numPartitions numFailed }
  }
}"""


MART_STATUS = """
query Marts($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    assetPartitionStatuses {
      __typename
      ... on TimePartitionStatuses { ranges { status startKey endKey } }
    }
  }
}"""
MARTS_TIMEOUT = 300.0


def materialized_ranges(stack: DevStack, path: list[str]) -> list[dict]:
    """The materialized ranges of a partitioned asset, as the UI's partition bar reads them."""
    (node,) = stack.graphql(MART_STATUS, {"keys": [{"path": path}]})["assetNodes"]
    statuses = node["assetPartitionStatuses"]
    return [r for r in statuses.get("ranges", []) if r["status"] == "MATERIALIZED"]


def past_days() -> list[date]:
    """Three days old enough that every order of them has its final status (orders stop changing
    about 8 days after purchase), so the sandbox's answer cannot move during the test."""
    today = datetime.now(ZoneInfo(by_code("us").timezone)).date()
    return [today - timedelta(days=14), today - timedelta(days=13), today - timedelta(days=12)]


def write_config(tmp_path: Path) -> Path:
    """One marketplace; its schedules fire 12 hours from now, so the daemon launches no scheduled run (raw
    partitions the tests did not ask for, then marts rebuilt for them) while a test's stack runs."""
    path = tmp_path / "marketplaces.yaml"
    start = (date.today() - timedelta(days=30)).isoformat()
    hour = (datetime.now(ZoneInfo(by_code("us").timezone)).hour + 12) % 24
    path.write_text(f"defaults:\n  start_date: {start}\nmarketplaces:\n  us: {{schedule_hour: {hour}}}\n",
                    encoding="utf-8")
    return path


def stack_env(tmp_path: Path) -> dict[str, str]:
    """The test's environment without credentials or a sandbox URL, so ``make dev`` starts its own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LWA_", "SP_API_", "SP_ASSETS_", "SP_SANDBOX_", "DAGSTER_"))}
    env.update({
        "SP_ASSETS_CONFIG": str(write_config(tmp_path)),
        "SP_ASSETS_DATA_DIR": str(tmp_path / "data"),
        "SP_ASSETS_DUCKDB": str(tmp_path / "data" / "e2e.duckdb"),
        "SP_SANDBOX_SEED": str(SEED),
        "SP_SANDBOX_SPEED": "1000",
        "SP_SANDBOX_ORDERS_PER_DAY": str(ORDERS_PER_DAY),
    })
    return env


def launch_backfill(stack: DevStack, keys: list[str]) -> str:
    params = {"assetSelection": [{"path": path} for path in ASSETS], "partitionNames": keys,
              "title": "e2e backfill", "fromFailure": False}
    result = stack.graphql(LAUNCH, {"params": params})["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


def wait_for_backfill(stack: DevStack, backfill_id: str, timeout: float) -> dict:
    """Poll the backfill until the daemon has finished it (a deadline, no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        backfill = stack.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        assert backfill["__typename"] == "PartitionBackfill", backfill
        if backfill["status"] in FINISHED:
            return backfill
        if time.monotonic() > deadline:
            raise AssertionError(f"backfill {backfill_id} still {backfill['status']} after {timeout:.0f}s: "
                                 f"{backfill['runs']}\n{stack.log_tail()}")
        time.sleep(POLL_SECONDS)


def metadata_of(materialization: dict) -> dict[str, int | None]:
    return {entry["label"]: entry.get("intValue") for entry in materialization["metadataEntries"]}


def ground_truth(days: list[date]) -> tuple[dict[str, tuple], dict[tuple[str, str], tuple]]:
    """The seller's orders created on those local days and their items, as the tables should hold them."""
    seller = SyntheticSeller(seed=SEED, orders_per_day=ORDERS_PER_DAY)
    marketplace = by_code("us")
    zone = ZoneInfo(marketplace.timezone)
    orders, items = {}, {}
    for day in days:
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        for order in seller.orders_created_between(marketplace.marketplace_id, start.astimezone(UTC),
                                                   (start + timedelta(days=1)).astimezone(UTC)):
            orders[order.amazon_order_id] = (day, order.status, order.order_total if order.has_prices else None)
            for item in order.items:
                items[(order.amazon_order_id, item.order_item_id)] = (item.sku, item.quantity)
    return orders, items


def test_a_backfill_launched_like_the_ui_lands_the_sandbox_orders(daemon_stack: SharedStack) -> None:
    days = past_days()
    keys = [day.isoformat() for day in days]
    orders, items = ground_truth(days)
    assert len(orders) > 20
    # What DuckDB must hold for each day (each partition's materialization must say so, not the run's total).
    per_day = {"orders": {key: sum(1 for o in orders.values() if o[0].isoformat() == key) for key in keys},
               "order_items": {key: sum(1 for order_id, _ in items if orders[order_id][0].isoformat() == key)
                               for key in keys}}
    assert len(set(per_day["orders"].values())) > 1, "the test needs days with different counts"
    stack = daemon_stack.stack
    assert not daemon_stack.proxy.rules, "the proxy must pass the sandbox's answers through"
    assert daemon_stack.server_info["dagster_version"] == "1.13.27"
    timings: dict[str, float] = {}
    started = time.monotonic()

    backfill_id = launch_backfill(stack, keys)
    backfill = wait_for_backfill(stack, backfill_id, BACKFILL_TIMEOUT)
    timings["backfill done"] = time.monotonic() - started
    assert backfill["status"] == "COMPLETED_SUCCESS", (backfill, stack.log_tail())
    # The assets' backfill policy (multi_run, up to 7 partitions per run) puts the three days in one run.
    assert [run["status"] for run in backfill["runs"]] == ["SUCCESS"], backfill["runs"]
    run_tags = {tag["key"]: tag["value"] for tag in backfill["runs"][0]["tags"]}
    assert (run_tags.get("dagster/asset_partition_range_start"),
            run_tags.get("dagster/asset_partition_range_end")) == (keys[0], keys[-1])

    nodes = stack.graphql(ASSET_STATUS, {"keys": [{"path": p} for p in ASSETS], "partitions": keys})["assetNodes"]
    assert sorted(node["assetKey"]["path"][-1] for node in nodes) == ["order_items", "orders"]
    for node in nodes:
        statuses = node["assetPartitionStatuses"]
        assert statuses["__typename"] == "TimePartitionStatuses"
        assert statuses["ranges"] == [{"status": "MATERIALIZED", "startKey": keys[0], "endKey": keys[-1]}]
        assert sorted(m["partition"] for m in node["assetMaterializations"]) == keys
        # Under Orders v2026-01-01 one searchOrders pass fills both tables: the calls count on orders.
        if node["assetKey"]["path"][-1] == "orders":
            assert all(metadata_of(m)["api_calls"] > 0 for m in node["assetMaterializations"])
        table = node["assetKey"]["path"][-1]
        for materialization in node["assetMaterializations"]:
            # One run wrote the three days: each partition's materialization reports its own day.
            metadata = metadata_of(materialization)
            assert metadata["dagster/row_count"] == per_day[table][materialization["partition"]], metadata
            assert {"api_calls", "window_start_utc", "preview", "write", "run_partitions"} <= set(metadata)
        # The definition tells what the table is: DuckDB's name and its typed, described columns.
        definition = {entry["label"]: entry for entry in node["metadataEntries"]}
        assert definition["dagster/table_name"]["text"] == f"us.{table}"
        columns = {c["name"]: c for c in definition["dagster/column_schema"]["schema"]["columns"]}
        assert columns["amazon_order_id"]["type"] == "VARCHAR" and columns["partition_date"]["type"] == "DATE"

    # A point-in-time asset has no partitions, so the UI cannot list a day as missing.
    snapshots = stack.graphql(SNAPSHOT_STATUS, {"keys": [{"path": p} for p in SNAPSHOT_ASSETS]})["assetNodes"]
    assert sorted(node["assetKey"]["path"] for node in snapshots) == sorted(SNAPSHOT_ASSETS)
    for node in snapshots:
        assert not node["isPartitioned"] and node["partitionDefinition"] is None, node
        assert node["partitionKeys"] == [] and node["partitionStats"] is None, node

    # On the production profile the backfill's runs and materializations are in PostgreSQL, none in SQLite.
    if daemon_stack.postgres is not None:
        assert_runs_in_postgres(daemon_stack, [run["runId"] for run in backfill["runs"]], len(keys))

    # Issue 15: the marts' automation rebuilds exactly the backfilled days (inventory_cover reads
    # us/order_items, which the backfill wrote) and nothing whose inputs did not change.
    # The automation may request the days over more than one tick (a tick can see the backfill's run
    # half-way through its partitions), so wait for the whole range; more days than these never match.
    expected = [{"status": "MATERIALIZED", "startKey": keys[0], "endKey": keys[-1]}]
    deadline = time.monotonic() + MARTS_TIMEOUT
    while (ranges := materialized_ranges(stack, ["marts", "inventory_cover"])) != expected:
        assert time.monotonic() < deadline, (f"mart days rebuilt after {MARTS_TIMEOUT:.0f}s: {ranges}, "
                                             f"expected {expected}\n{stack.log_tail()}")
        time.sleep(POLL_SECONDS)
    assert materialized_ranges(stack, ["marts", "sku_daily_profit"]) == []  # none of its inputs changed
    timings["marts rebuilt"] = time.monotonic() - started
    print(" ".join(f"{name}: {seconds:.0f}s" for name, seconds in timings.items()))

    # The stack is still running: read the warehouse (the DuckDB file, or the lake on the production
    # profile) under the warehouse's lock, as any other reader does.
    with Warehouse(stack.env["SP_ASSETS_DUCKDB"]).connect() as db:
        stored = {row[0]: (row[1], row[2], row[3]) for row in db.execute(
            "select amazon_order_id, partition_date, order_status, order_total_amount from us.orders").fetchall()}
        stored_items = {(row[0], row[1]): (row[2], row[3]) for row in db.execute(
            "select amazon_order_id, order_item_id, seller_sku, quantity_ordered from us.order_items").fetchall()}
    assert stored == orders
    assert stored_items == items


def assert_runs_in_postgres(shared: SharedStack, run_ids: list[str], days: int) -> None:
    """The runs are rows of PostgreSQL's ``runs`` table with their final status, their materializations
    rows of its ``event_logs`` (orders and order_items, one per day), and the Dagster home has no SQLite."""
    import psycopg2

    assert shared.postgres is not None and run_ids
    with psycopg2.connect(host="127.0.0.1", port=int(shared.postgres["DAGSTER_PG_PORT"]), user=PG_USER,
                          dbname=PG_DB) as db:
        cursor = db.cursor()
        cursor.execute("SELECT run_id, status FROM runs WHERE run_id = ANY(%s)", (run_ids,))
        stored = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
                       "AND run_id = ANY(%s)", (run_ids,))
        materializations = cursor.fetchone()[0]
    assert stored == dict.fromkeys(run_ids, "SUCCESS")
    assert materializations >= 2 * days  # orders and order_items, one per day
    assert not list(shared.stack.home.rglob("runs.db")), "runs must live in PostgreSQL, not SQLite"
