"""marketplace_participations (unpartitioned, replaced per run) and the job/schedule that run it."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from sp_assets.defs.inventory.assets import build_inventory_assets
from sp_assets.defs.schedules import build_schedule
from sp_assets.defs.sellers.assets import build_sellers_assets, build_sellers_checks
from sp_assets.defs.shipments.assets import build_shipments_assets
from sp_assets.lib.naming import qualified_name
from sp_assets_tests.defs.conftest import AssetEnv, make_config, materialization_metadata
from sp_assets_tests.defs.rest_helpers import check_evaluations


def _expected(env: AssetEnv, region: str) -> list[tuple]:
    return sorted((p.marketplace.marketplace_id, p.marketplace.country_code, p.marketplace.currency,
                   p.is_participating, p.has_suspended_listings, p.store_name)
                  for p in env.sandbox.backend("sellers").participations(region))


def _rows(env: AssetEnv, code: str) -> list[tuple]:
    return [tuple(r) for r in env.warehouse.query(
        f"select marketplace_id, country_code, default_currency_code, is_participating, has_suspended_listings, "
        f"store_name from {qualified_name(code, 'marketplace_participations')} order by 1").iter_rows()]


def test_participations_are_the_regions_marketplaces_and_each_run_replaces_them(asset_env: AssetEnv) -> None:
    config = make_config({"de": {}})
    entry = config.marketplaces[0]
    assets = build_sellers_assets(entry) + build_sellers_checks(entry)
    first = asset_env.materialize(assets, config)
    expected = _expected(asset_env, "EU")
    assert len(expected) > 5 and _rows(asset_env, "de") == expected
    metadata = materialization_metadata(first, ["de", "marketplace_participations"])[0]
    assert metadata["dagster/row_count"] == len(expected) and metadata["api_calls"] == 1
    assert metadata["write"]["operation"] == "replace_table"
    assert check_evaluations(first)[("de/marketplace_participations", "marketplace_participations_primary_key")].passed

    again = asset_env.materialize(assets, config)
    write = materialization_metadata(again, ["de", "marketplace_participations"])[0]["write"]
    assert write["deleted"] == len(expected) == write["inserted"]
    assert _rows(asset_env, "de") == expected


def test_the_unpartitioned_job_runs_it_and_the_daily_schedule_requests_the_job(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.marketplaces[0]
    jobs, schedule = build_schedule(entry)
    job = next(j for j in jobs if j.name == "us_unpartitioned_job")
    # Rolling and snapshot assets too: the schedule's other jobs need their partitions to resolve.
    assets = build_sellers_assets(entry) + build_shipments_assets(entry) + build_inventory_assets(entry)
    defs = dg.Definitions(assets=assets, jobs=jobs, schedules=[schedule], resources=asset_env.resources(config))
    result = defs.resolve_job_def(job.name).execute_in_process()
    assert result.success
    assert _rows(asset_env, "us") == _expected(asset_env, "NA")

    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime.now(UTC),
                                            repository_def=defs.get_repository_def())
        requests = schedule.evaluate_tick(context).run_requests
    unpartitioned = [r for r in requests if r.job_name == job.name]
    assert len(unpartitioned) == 1 and unpartitioned[0].partition_key is None
