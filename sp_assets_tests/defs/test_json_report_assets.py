"""The JSON reports of issue 14 as assets against the sandbox: seller performance (today's snapshot), Brand
Analytics search terms and market basket (daily partitions, reportPeriod DAY) and repeat purchase (monthly
partitions, reportPeriod MONTH), each flattened into one typed table equal to the sandbox's document; a
reportPeriod a partition cannot ask Amazon for is refused at load, naming the rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest

from sp_assets.defs.reports.assets import build_report_assets
from sp_assets.defs.reports.checks import build_report_checks
from sp_assets.lib.tablespec import normalize_sql_type
from sp_assets.sandbox import report_documents_json as ba
from sp_assets.sandbox.report_documents import DocumentSpec

from .conftest import AssetEnv, make_config, materialization_metadata, past_day, snapshot_date_config
from .rest_helpers import check_evaluations, today
from .test_definitions import description_problems

REPORTS = [{"type": ba.SEARCH_TERMS, "table": "search_terms"}, {"type": ba.MARKET_BASKET, "table": "market_basket"},
           {"type": ba.REPEAT_PURCHASE, "table": "repeat_purchase"},
           {"type": ba.SELLER_PERFORMANCE, "table": "seller_performance"}]


def _assets(entry, *tables: str) -> list:
    return [a for a in build_report_assets(entry) if {k.path[-1] for k in a.keys} & set(tables)]


def _day(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1, seconds=-1)


def test_brand_analytics_by_day_equal_the_sandbox_documents(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"reports": REPORTS}})
    entry = config.get("us")
    day = past_day(12)
    assets = _assets(entry, "search_terms", "market_basket")
    result = asset_env.materialize([*assets, *build_report_checks(entry)], config, partition_key=day.isoformat(),
                                   selection=dg.AssetSelection.assets(*assets))
    assert result.success
    wh, seller = asset_env.warehouse, asset_env.sandbox.seller
    start, end = _day(day)
    spec = DocumentSpec(ba.SEARCH_TERMS, (entry.marketplace_id,), start, end, {"reportPeriod": "DAY"}, start)
    truth = ba.search_terms(seller, spec)["dataByDepartmentAndSearchTerm"]
    stored = wh.query("select department_name, search_term, search_frequency_rank, clicked_asin, click_share_rank, "
                      "click_share, conversion_share, partition_date, marketplace_id from us.search_terms").rows()
    assert stored and sorted(stored) == sorted(
        (t["departmentName"], t["searchTerm"], t["searchFrequencyRank"], t["clickedAsin"], t["clickShareRank"],
         t["clickShare"], t["conversionShare"], day, entry.marketplace_id) for t in truth)
    columns = wh.columns("us", "search_terms")
    assert (columns["click_share"], columns["click_share_rank"]) == ("DOUBLE", "BIGINT")

    basket = ba.market_basket(seller, DocumentSpec(ba.MARKET_BASKET, (entry.marketplace_id,), start, end,
                                                   {"reportPeriod": "DAY"}, start))["dataByAsin"]
    rows = wh.query("select asin, purchased_with_asin, purchased_with_rank, start_date, end_date "
                    "from us.market_basket").rows()
    assert rows and sorted(rows) == sorted((b["asin"], b["purchasedWithAsin"], b["purchasedWithRank"], day, day)
                                  for b in basket)
    (sent,) = materialization_metadata(result, ["us", "market_basket"])[0]["reports"]
    assert sent["data_start_time"] == start.isoformat()
    checks = check_evaluations(result)
    assert checks[("us/search_terms", "search_terms_key")].passed
    assert checks[("us/market_basket", "market_basket_key")].passed


def test_repeat_purchase_by_month(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"reports": REPORTS}})
    entry = config.get("us")
    (asset,) = _assets(entry, "repeat_purchase")
    assert isinstance(asset.partitions_def, dg.MonthlyPartitionsDefinition)
    month = date.fromisoformat(asset.partitions_def.get_partition_keys()[-1])
    result = asset_env.materialize([asset], config, partition_key=month.isoformat())
    assert result.success
    following = (month + timedelta(days=32)).replace(day=1)
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime(following.year, following.month, 1, tzinfo=UTC) - timedelta(seconds=1)
    truth = ba.repeat_purchase(asset_env.sandbox.seller, DocumentSpec(
        ba.REPEAT_PURCHASE, (entry.marketplace_id,), start, end, {"reportPeriod": "MONTH"}, start))["dataByAsin"]
    rows = asset_env.warehouse.query("select asin, orders, repeat_purchase_revenue_amount, start_date, end_date "
                                     "from us.repeat_purchase").rows()
    assert rows and sorted(rows) == sorted((t["asin"], t["orders"], Decimal(str(t["repeatPurchaseRevenue"]["amount"])).quantize(
        Decimal("0.01")), month, following - timedelta(days=1)) for t in truth)
    assert asset_env.warehouse.columns("us", "repeat_purchase")["repeat_purchase_revenue_amount"] == "DECIMAL(18,2)"


def test_seller_performance_is_todays_snapshot(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"reports": REPORTS}})
    entry = config.get("us")
    (asset,) = _assets(entry, "seller_performance")
    description = asset.specs_by_key[asset.key].description or ""
    assert not description_problems(description, set()) and "each element of performanceMetrics" in description
    result = asset_env.materialize([asset], config)  # a snapshot: unpartitioned, today's
    assert result.success
    (row,) = asset_env.warehouse.query("select * from us.seller_performance").to_dicts()
    assert (row["marketplace_id"], row["account_status"], row["partition_date"]) == (
        entry.marketplace_id, "NORMAL", today(entry))
    assert isinstance(row["late_shipment_rate_rate"], float) and row["order_defect_rate_afn_fulfillment_type"] == "AFN"
    past = asset_env.materialize([asset], config, run_config=snapshot_date_config([asset], past_day(3)),
                                 raise_on_error=False)
    assert not past.success


@pytest.mark.parametrize(("report", "period", "allowed"), [
    (ba.SEARCH_TERMS, "WEEK", "allowed: DAY"), (ba.REPEAT_PURCHASE, "QUARTER", "allowed: MONTH")])
def test_a_period_a_partition_cannot_ask_for_is_refused_at_load(report: str, period: str, allowed: str) -> None:
    entry = make_config({"us": {"reports": [{"type": report, "table": "ba", "options": {"reportPeriod": period}}]}}
                        ).get("us")
    with pytest.raises(ValueError, match="reportPeriod") as error:
        build_report_assets(entry)
    assert "first day to its last" in str(error.value) and allowed in str(error.value)


def test_each_day_of_a_multi_day_json_report_run_carries_its_own_rows_and_report(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"reports": REPORTS}})
    entry = config.get("us")
    (asset,) = _assets(entry, "search_terms")
    keys = [past_day(13).isoformat(), past_day(12).isoformat()]
    result = asset_env.materialize([asset], config, first=keys[0], last=keys[-1])
    assert result.success
    # the declared columns (the catalog's typed ones and the loader's) are in DuckDB with those types
    schema = asset.specs_by_key[asset.key].metadata["dagster/column_schema"]
    declared = {c.name: c.type for c in schema.columns}
    in_duckdb = {name: normalize_sql_type(kind)
                 for name, kind in asset_env.warehouse.columns("us", "search_terms").items()}
    assert {"partition_date", "report_id", "marketplace_id", "click_share", "search_frequency_rank"} <= set(declared)
    assert {name: in_duckdb.get(name) for name in declared} == declared
    held = dict(asset_env.warehouse.query("select partition_date::varchar, count(*) from us.search_terms "
                                          "group by 1").rows())
    by_day = {event.materialization.partition: dict(event.materialization.metadata)
              for event in result.get_asset_materialization_events()}
    assert sorted(by_day) == keys
    report_ids = set()
    for key, md in by_day.items():
        assert md["dagster/row_count"].value == held[key] > 0, key
        assert {r.data["partition_date"] for r in md["preview"].records} == {key}
        assert md["write_mode"].value == "partition replace" and md["report_status"].value == "DONE"
        report_ids.add(md["report_id"].value)
    assert len(report_ids) == 2  # one report per day, each partition names its own
