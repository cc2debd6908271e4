"""Issue 9, part 1: every asset of a marketplace, run with the sandbox's faults on, ends identical to a
fault-free run.

Two sandboxes with the same seed and a seller clock frozen at the same moment (``support.frozen_sandbox``)
serve identical data; one of them injects faults: 10% 500/503 answers, 5% dropped connections, 429
storms, early access-token expiry, and FATAL for every report's first request. The project's real code
location (``sp_assets.definitions``) materializes every asset of the marketplace: the daily assets
for three days (one run over the range, as a backfill run does), the point-in-time ones (today's snapshot),
the unpartitioned one once. Reports end FATAL on the first try and fail their step (Dagster's retry
policy does not retry FATAL, by design); the test then re-runs what did not materialize, which is what
a backfill "re-execute from failure" does, until everything has. Every table of both DuckDB files
must then be identical, row for row, except the columns in ``support.RUN_SPECIFIC``, which are
legitimately specific to a run:

==========================  ===============================================================
``report_id``               the id of the report a row came from (a rerun requests another)
``report_created_time``     when Amazon created a listed settlement report
``snapshot_time``           when a point-in-time API was asked
``fetched_at``              when a shipments page was fetched
``load_id``, ``written_at``  the load ledger's id and moment of each write
``note``                    the load ledger's free text (it names the report id)
==========================  ===============================================================

The faults are 10% 5xx, 5% dropped connections, 20% injected 429s (the sandbox draws them per call,
so runs of several in a row occur: the client's budget for 429s is 10 attempts per call), 5% early
token expiry, and FATAL on the first request of every report window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from . import support

FAULTS = "5xx=0.1,drop=0.05,429=0.2,expire=0.05,fatal=first"
RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


@pytest.fixture(autouse=True)
def _no_dagster_retry_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster's retry policy waits 10 s and more between attempts; here the test re-runs failures
    itself (as re-execution from failure does), so steps run once per run."""
    import sp_assets.defs.common as common

    monkeypatch.setattr(common, "RETRY", None)  # every asset's retry policy comes from common.multi_asset_kwargs


@dataclass
class Outcome:
    db: Path
    rounds: list[set[dg.AssetKey]] = field(default_factory=list)  # what failed in each round
    failed_steps: list[set[str]] = field(default_factory=list)  # the steps that failed in each round (not
    # those that did not run because an upstream step failed)
    stats: dict[str, int] = field(default_factory=dict)


def _groups(defs: dg.Definitions, code: str) -> list[tuple[set[dg.AssetKey], dict]]:
    """(assets, how to run them): daily ones over the range, point-in-time ones (unpartitioned: today's
    snapshot) and the other unpartitioned ones once."""
    keys = {k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == code}
    snapshot = {k for k in keys if support.is_snapshot(defs, k)}
    unpartitioned = {k for k in keys if not support.partitioned(defs, k)} - snapshot
    return [(keys - snapshot - unpartitioned, {}), (snapshot, {"none": True}), (unpartitioned, {"none": True})]


def materialize_everything(root: Path, sandbox, config: Path, code: str, days: tuple[date, date], timezone: str,
                           max_rounds: int = 5) -> Outcome:
    """Every asset of ``code``; what does not materialize is run again, up to ``max_rounds`` rounds."""
    db = root / "warehouse.duckdb"
    outcome = Outcome(db)
    with support.environment(**support.sandbox_env(sandbox.base_url, root, db, config)):
        defs = support.code_location()
        assets = [*defs.assets, *(defs.asset_checks or [])]
        pending = _groups(defs, code)
        for _ in range(max_rounds):
            failed_now: set[dg.AssetKey] = set()
            steps_now: set[str] = set()
            still: list[tuple[set[dg.AssetKey], dict]] = []
            for keys, how in pending:
                if not keys:
                    continue
                kwargs: dict = {}
                if not how.get("none"):
                    kwargs["tags"] = {RANGE[0]: days[0].isoformat(), RANGE[1]: days[1].isoformat()}
                result = dg.materialize(assets, selection=sorted(keys), resources=defs.resources,
                                        raise_on_error=False, **kwargs)
                missing = support.unmaterialized(result, keys)
                steps_now |= {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
                failed_now |= missing
                if missing:
                    still.append((missing, how))
            outcome.rounds.append(failed_now)
            outcome.failed_steps.append(steps_now)
            pending = still
            if not pending:
                break
        assert not pending, f"still failing after {max_rounds} rounds: {pending}"
    outcome.stats = sandbox.stats.snapshot()
    return outcome


@pytest.fixture(scope="module")
def moment() -> datetime:
    return support.now_utc()


def _config(root: Path, code: str) -> Path:
    return support.write_config(root / "marketplaces.yaml", code, catalog_keywords="ceramic,mug")


def _days(last_days_ago: int = 12, count: int = 3) -> tuple[date, date]:
    last = date.today() - timedelta(days=last_days_ago)
    return last - timedelta(days=count - 1), last


@pytest.mark.slow
def test_every_asset_under_faults_ends_identical_to_the_fault_free_run(tmp_path: Path, moment: datetime) -> None:
    runs = []
    for name, faults in (("truth", ""), ("faulted", FAULTS)):
        root = tmp_path / name
        root.mkdir()
        sandbox = support.frozen_sandbox(moment, faults=faults)
        try:
            runs.append(materialize_everything(root, sandbox, _config(root, "us"), "us", _days(),
                                               "America/Los_Angeles"))
        finally:
            sandbox.stop()
    truth, faulted = runs
    assert truth.rounds == [set()], "the fault-free run must succeed at once"
    # FATAL on first request: every report (and Data Kiosk) asset failed its first try, and only those did.
    first = {key.path[1] for key in faulted.rounds[0]}
    assert {"all_orders_report", "ledger_summary", "customer_returns", "sales_and_traffic_by_date",
            "fba_inventory", "merchant_listings"} <= first, first
    assert not first & {"orders", "inventory_supply", "fulfillment_orders", "inbound_shipments"}, first
    # The per-SKU assets read today's merchant_listings (sku_selection: all): they did not fail, they waited
    # for it, and were the only non-report assets left for the next round.
    per_sku = {"my_prices", "competitive_prices", "fee_estimates", "product_categories"}
    assert not {f"us__{name}" for name in per_sku} & faulted.failed_steps[0], faulted.failed_steps[0]
    # Data Kiosk queries end FATAL first like reports (fatal=first covers both).
    reports = {"all_orders_report", "merchant_listings", "fba_inventory", "ledger_summary", "customer_returns",
               "sales_and_traffic_by_date", "sales_and_traffic_by_asin", "settlements",
               "kiosk_economics", "kiosk_sales_traffic_by_date", "kiosk_sales_traffic_by_asin"}
    assert first - reports == per_sku, first
    # Every kind of fault really happened.
    stats = faulted.stats
    for kind in ("fault_drop", "fault_expire", ".429"):
        assert sum(v for k, v in stats.items() if kind in k) > 0, kind
    assert sum(v for k, v in stats.items() if "fault_500" in k or "fault_503" in k) > 0
    counts = support.assert_same_warehouse(faulted.db, truth.db)
    assert counts["us.orders"] > 0 and counts["us.all_orders_report"] > 0 and counts["us.my_prices"] > 0
    assert counts["us.catalog_matches"] > 0 and counts["us.sales_and_traffic_by_asin"] > 0
    assert set(support.RUN_SPECIFIC) == {"report_id", "report_created_time", "snapshot_time", "fetched_at",
                                         "load_id", "written_at", "note", "query_id", "version"}


@pytest.mark.long
@pytest.mark.parametrize("code,timezone", [("de", "Europe/Berlin"), ("jp", "Asia/Tokyo")])
def test_long_a_week_of_every_asset_under_heavier_faults(tmp_path: Path, moment: datetime, code: str,
                                                         timezone: str) -> None:
    """Seven days, heavier faults (20% 5xx, 10% drops, 30% 429, 10% expiry, every report FATAL first)."""
    days = _days(12, 7)
    results = []
    for name, faults in (("truth", ""), ("faulted", "5xx=0.2,drop=0.1,429=0.3,expire=0.1,fatal=first")):
        root = tmp_path / name
        root.mkdir()
        config = _config(root, code)
        sandbox = support.frozen_sandbox(moment, faults=faults, orders_per_day=150)
        try:
            results.append(materialize_everything(root, sandbox, config, code, days, timezone, max_rounds=8))
        finally:
            sandbox.stop()
    assert results[0].rounds == [set()]
    support.assert_same_warehouse(results[1].db, results[0].db)
