"""Helpers for the REST-API asset tests (inventory, pricing, catalog, shipments, sellers)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.reports.assets import build_report_assets
from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.seller import SyntheticSeller

# Marketplaces whose time zones are spread around the clock (no gap between them is over 6 hours).
SPREAD_CODES = ("us", "br", "uk", "de", "ae", "in", "jp", "au")


def latest_local_day(codes: tuple[str, ...] = SPREAD_CODES) -> str:
    """The marketplace whose local day is furthest along now (at least ~18 hours in).

    Inventory summaries "changed since the partition's start" grow over the day; with the day mostly
    gone, most FBA SKUs have changed, so tests compare many rows instead of sometimes none.
    """
    def elapsed(code: str) -> float:
        local = datetime.now(ZoneInfo(by_code(code).timezone))
        return local.hour * 3600 + local.minute * 60 + local.second
    return max(codes, key=elapsed)


def today(entry: MarketplaceConfig) -> date:
    return datetime.now(ZoneInfo(entry.timezone)).date()


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """``{(asset "us/x", check name): evaluation}`` of a run."""
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every step failure of a run: the error text and a ``dg.Failure``'s description."""
    texts = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            texts.append(data.error.to_string() if data.error else "")
            if data.user_failure_data is not None:
                texts.append(data.user_failure_data.description or "")
    return "\n".join(texts)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def report_asset(entry: MarketplaceConfig, table: str) -> list[dg.AssetsDefinition]:
    """The report asset of ``entry`` writing exactly ``table`` (as a list, to splice into a selection)."""
    return [asset for asset in build_report_assets(entry) if [key.path[-1] for key in asset.keys] == [table]]


def active_listings(seller: SyntheticSeller, entry: MarketplaceConfig) -> list[str]:
    """The sandbox seller's active listings today (FBA and merchant-fulfilled), sorted: the rows of its own
    GET_MERCHANT_LISTINGS_ALL_DATA document whose status is Active, read without the project's loader."""
    now = datetime.now(UTC)
    spec = docs.DocumentSpec("GET_MERCHANT_LISTINGS_ALL_DATA", (entry.marketplace_id,), now, now, {}, now)
    out = io.StringIO()
    docs.write_merchant_listings(seller, spec, out)
    rows = csv.DictReader(io.StringIO(out.getvalue()), delimiter="\t", quoting=csv.QUOTE_NONE)
    return sorted(row["seller-sku"] for row in rows if row["status"] == "Active")
