"""The code location as the UI sees it, loaded from the real ``marketplaces.yaml``.

Fast checks of what issue 7 asks of the UI: every asset says what it replaces (a seed report, or
that it is new), where its data comes from and how it writes; one group per marketplace, the duckdb
kind, asset checks, backfill policies, and a daily schedule per marketplace whose tick asks for exactly
the last N days.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from sp_assets.definitions import defs as load_defs
from sp_assets.defs.config import DEFAULT_CONFIG_PATH, MarketplaceConfig, ProjectConfig, load_config

warnings.filterwarnings("ignore", category=dg.BetaWarning)

# The seed's report list, verbatim (the connector's "Report" options).
SEED_REPORTS = (
    "Fulfillment Inventory - List Inventory Supply", "Products - My Price for SKU",
    "Products - Competitive Prices By SKU", "Products - Product Categories for SKU",
    "Products - List Matching Products", "Fulfillment Inbound Shipment - Inbound Shipment Items",
    "Fulfillment Inbound Shipment - List Inbound Shipments", "Fulfillment Outbound Shipment - Fulfillment Orders",
    "Marketplace Participations", "Order Details", "Order Items", "Orders - List Orders - Upsert",
    "Orders - List Order Items By Input Dataset", "Orders - List Order Items Upsert", "Create and Download Report",
)
# "Replaces Domo's **<report>**" (``common.describe``); the older "seed's **<report>**" is still recognized.
SEED_REPORT_RE = re.compile(r"(?:seed(?:'s| report:?)|Domo's)\s*\*\*(?P<report>[^*]+)\*\*")
WRITE_MODE_RE = re.compile(r"[Ww]rite mode: \*\*(?P<mode>[^*]+)\*\*")
WRITE_MODES = ("partition replace", "merge", "table replace", "append by report id")
SEED_FILE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "domo-amazon-selling-partner-connector.txt"


@pytest.fixture(scope="module")
def project() -> ProjectConfig:
    return load_config(DEFAULT_CONFIG_PATH)


@pytest.fixture(scope="module")
def definitions(project: ProjectConfig) -> dg.Definitions:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SP_ASSETS_CONFIG", raising=False)
        loaded = load_defs()
        dg.Definitions.validate_loadable(loaded)
        return loaded


@pytest.fixture(scope="module")
def graph(definitions: dg.Definitions) -> dg.AssetGraph:
    return definitions.resolve_asset_graph()


def codes(project: ProjectConfig) -> list[str]:
    return [entry.code for entry in project.marketplaces]


def assets_of(graph: dg.AssetGraph, code: str) -> set[dg.AssetKey]:
    return {key for key in graph.materializable_asset_keys if key.path[0] == code}


def test_every_configured_marketplace_has_the_same_assets(project: ProjectConfig, graph: dg.AssetGraph) -> None:
    names = {code: {key.path[-1] for key in assets_of(graph, code)} for code in codes(project)}
    assert set(names) == {"us", "de", "jp"}
    first = names["us"]
    assert {"orders", "order_items", "orders_upsert", "order_items_upsert", "inventory_supply", "my_prices",
            "catalog_matches", "inbound_shipments", "fulfillment_orders", "marketplace_participations"} <= first
    assert all(found == first for found in names.values()), names
    # plus the marts, built once across every marketplace (sp_assets/defs/marts)
    assert {key.path[0] for key in graph.materializable_asset_keys} == set(codes(project)) | {"marts"}


# ------------------------------------------------------------------------------------ descriptions
# What a user relies on in an asset's description: what it replaces (a seed report by name, or that it
# is new), where its data comes from (an SP-API operation or report type, or the asset it is derived
# from), and its write mode in the README's words. An asset the seed never had is fine if it says so.
NO_SEED_RE = re.compile(r"\bno (?:seed|Domo) (?:report|equivalent)\b", re.IGNORECASE)
REPORT_TYPE_RE = re.compile(r"\bGET_[A-Z0-9_]+\b")  # Amazon's report type names
DERIVED_RE = re.compile(r"\b[Dd]erived from (?:the )?`(?P<asset>[a-z0-9_]+)`")
USER_FILE_RE = re.compile(r"\bthe user's [a-z_]+ (?:CSV|file)\b")  # data that comes from no API (marts/fx_rates)


def description_problems(description: str, siblings: set[str]) -> list[str]:
    """What a description fails to tell (empty when it says all three); ``siblings``: asset names of the
    same marketplace, which a derived asset must name its source among."""
    from sp_assets.lib.spapi.quota import OPERATIONS

    problems = []
    seed = SEED_REPORT_RE.search(description)
    if seed is not None and seed["report"].strip() not in SEED_REPORTS:
        problems.append(f"names {seed['report'].strip()!r}, which is not one of the seed's reports")
    elif seed is None and not NO_SEED_RE.search(description):
        problems.append("says neither which seed report it replaces (seed's **<report>**) nor that it has "
                        "no seed equivalent")
    derived = DERIVED_RE.search(description)
    operations = [op for op in OPERATIONS if re.search(rf"\b{op}\b", description)]
    if derived is not None and derived["asset"] not in siblings:
        problems.append(f"is derived from `{derived['asset']}`, which is not an asset of its marketplace")
    elif derived is None and not operations and not REPORT_TYPE_RE.search(description) \
            and not USER_FILE_RE.search(description):
        problems.append("names no SP-API operation, report type (GET_...) or asset it is derived from "
                        "(derived from `<asset>`)")
    mode = WRITE_MODE_RE.search(description)
    if mode is None or not mode["mode"].strip().startswith(WRITE_MODES):
        problems.append(f"gives no write mode among {WRITE_MODES} (Write mode: **<mode>**)")
    return problems


def test_every_asset_says_what_it_replaces_where_its_data_comes_from_and_how_it_writes(
        graph: dg.AssetGraph) -> None:
    problems = []
    for key in sorted(graph.materializable_asset_keys):
        # a mart reads every marketplace's tables; any other asset derives from its marketplace's
        siblings = {k.path[-1] for k in graph.materializable_asset_keys if key.path[0] in ("marts", k.path[0])}
        for problem in description_problems(graph.get(key).description or "", siblings):
            problems.append(f"{key.to_user_string()}: {problem}")
    assert not problems, "\n".join(problems)


GOOD = ("Every order created in the day.\n\nReplaces Domo's **Order Details** report (searchOrders). "
        "Write mode: **partition replace**.")


@pytest.mark.parametrize(("description", "complaint"), [
    ("Every order created in the day (searchOrders). Write mode: **partition replace**.", "seed report"),
    ("Replaces the seed's **Order Detail**: orders (searchOrders). Write mode: **merge**.", "not one of"),
    ("Replaces the seed's **Order Details**: every order of the day. Write mode: **partition replace**.",
     "no SP-API operation"),
    ("Replaces the seed's **Order Details**: every order created in the day (searchOrders).", "write mode"),
    ("Replaces the seed's **Order Details** (searchOrders). Write mode: **overwrite**.", "write mode"),
    ("New, no seed equivalent: derived from the `nothing_here` table. Write mode: **merge**.",
     "not an asset of its marketplace"),
])
def test_a_description_missing_one_fact_is_rejected(description: str, complaint: str) -> None:
    problems = description_problems(description, {"orders"})
    assert len(problems) == 1 and complaint in problems[0], problems


def test_descriptions_of_seed_reports_new_assets_reports_and_derived_assets_are_accepted() -> None:
    assert description_problems(GOOD, {"orders"}) == []
    assert description_problems("The seller's account (getAccount); a new asset with no seed equivalent. "
                                "Write mode: **table replace** on each run.", set()) == []
    report = ("Replaces the seed's **Create and Download Report** for `GET_FBA_STORAGE_FEE_CHARGES_DATA`. "
              "Write mode: **partition replace**.")
    assert description_problems(report, set()) == []
    assert description_problems("The latest row per order, derived from the `orders` snapshot (seed report: "
                                "**Order Details**). Write mode: **merge** by order id.", {"orders"}) == []


def test_the_seed_report_list_is_the_seeds() -> None:
    """Contract with the seed document (in ../shared, absent from a bare clone)."""
    if not SEED_FILE.is_file():
        pytest.skip(f"the seed document is not at {SEED_FILE} (the ../shared folder is absent on this machine)")
    text = SEED_FILE.read_text(encoding="utf-8")
    assert [name for name in SEED_REPORTS if f"\n {name}\n" not in text] == []


def test_one_group_per_marketplace_and_every_asset_has_the_duckdb_kind(project: ProjectConfig,
                                                                       graph: dg.AssetGraph) -> None:
    for key in graph.materializable_asset_keys:
        node = graph.get(key)
        assert "duckdb" in node.kinds, key
        assert node.group_name == ("marts" if key.path[0] == "marts" else f"amazon_{key.path[0]}"), key
    assert {graph.get(k).group_name for k in graph.materializable_asset_keys} == {
        f"amazon_{code}" for code in codes(project)} | {"marts"}


def test_every_asset_has_a_check_and_every_partitioned_asset_a_backfill_policy(graph: dg.AssetGraph) -> None:
    checked = {check.asset_key for check in graph.asset_check_keys}
    assert sorted(k.to_user_string() for k in graph.materializable_asset_keys - checked) == []
    partitioned = [k for k in graph.materializable_asset_keys if graph.get(k).partitions_def is not None]
    assert partitioned
    assert [k.to_user_string() for k in partitioned if graph.get(k).backfill_policy is None] == []


def tick_time(entry: MarketplaceConfig) -> datetime:
    """Today's scheduled moment in the marketplace's zone (at least ``days_back`` days after the start)."""
    zone = ZoneInfo(entry.timezone)
    day = max(datetime.now(zone).date(), entry.start_date + timedelta(days=entry.days_back))
    return datetime(day.year, day.month, day.day, entry.schedule_hour, tzinfo=zone)


def evaluate(definitions: dg.Definitions, entry: MarketplaceConfig, moment: datetime) -> list[dg.RunRequest]:
    repository = definitions.get_repository_def()
    schedule = repository.get_schedule_def(f"{entry.code}_daily")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.execution_timezone == entry.timezone
    assert schedule.cron_schedule == f"0 {entry.schedule_hour} * * *"
    context = dg.build_schedule_context(scheduled_execution_time=moment, repository_def=repository)
    return list(schedule.evaluate_tick(context).run_requests or [])


def assert_tick_covers_last_days(definitions: dg.Definitions, graph: dg.AssetGraph, entry: MarketplaceConfig) -> None:
    moment = tick_time(entry)
    requests = evaluate(definitions, entry, moment)
    by_job: dict[str, list[dg.RunRequest]] = {}
    for request in requests:
        by_job.setdefault(request.job_name or "", []).append(request)
    today = moment.date()
    expected = [(today - timedelta(days=n)).isoformat() for n in range(entry.days_back - 1, -1, -1)]
    assert [r.partition_key for r in by_job[f"{entry.code}_rolling_job"]] == expected
    assert [r.partition_key for r in by_job[f"{entry.code}_snapshot_job"]] == [None]  # unpartitioned: today
    assert [r.partition_key for r in by_job[f"{entry.code}_unpartitioned_job"]] == [None]
    assert set(by_job) == {f"{entry.code}_{kind}_job" for kind in ("rolling", "snapshot", "unpartitioned")}
    assert len({r.run_key for r in requests}) == len(requests)  # a tick never asks twice for the same run
    # The three jobs together select every asset of the marketplace, and every requested key exists.
    selected: set[dg.AssetKey] = set()
    for name in by_job:
        job = definitions.resolve_job_def(name)
        keys = set(job.asset_layer.selected_asset_keys)
        assert keys, f"{name} selects no asset"
        selected |= keys
        for key in keys:
            partitions = graph.get(key).partitions_def
            existing = set(partitions.get_partition_keys(current_time=moment)) if partitions else {None}
            missing = [r.partition_key for r in by_job[name] if r.partition_key not in existing]
            assert missing == [], f"{name}: {key.to_user_string()} has no partition {missing}"
    assert selected == assets_of(graph, entry.code)


def test_each_marketplace_schedule_requests_the_last_days_back_days(project: ProjectConfig,
                                                                    definitions: dg.Definitions,
                                                                    graph: dg.AssetGraph) -> None:
    for entry in project.marketplaces:
        assert_tick_covers_last_days(definitions, graph, entry)


def test_a_seed_style_today_minus_7_schedule_in_utc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``days_back: 8`` is the seed's "today-7"; partitions in UTC days, the tick at 23:00 UTC."""
    config = tmp_path / "marketplaces.yaml"
    start = (datetime.now().date() - timedelta(days=30)).isoformat()
    config.write_text(f"defaults:\n  start_date: {start}\n  days_back: 8\n  timezone: UTC\n  schedule_hour: 23\n"
                      "marketplaces:\n  uk: {}\n", encoding="utf-8")
    monkeypatch.setenv("SP_ASSETS_CONFIG", str(config))
    definitions = load_defs()
    dg.Definitions.validate_loadable(definitions)
    entry = load_config().get("uk")
    assert entry.timezone == "UTC" and entry.days_back == 8
    graph = definitions.resolve_asset_graph()
    assert {key.path[0] for key in graph.materializable_asset_keys} == {"uk", "marts"}
    assert_tick_covers_last_days(definitions, graph, entry)
