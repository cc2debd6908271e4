"""Catalog Items per marketplace: the categories of each SKU, a keyword search of the catalog, their checks.

=======================  ==========================================  =====================================
asset                    the seed's report                           write
=======================  ==========================================  =====================================
``product_categories``   Products - Product Categories for SKU       replace today's ``snapshot_date`` rows
                         (Catalog 2022-04-01 classifications; v0     (earlier days kept)
                         listCatalogCategories with
                         ``catalog_categories_api: v0``)
``catalog_matches``      Products - List Matching Products           replace today's ``snapshot_date`` rows
                         (searchCatalogItems with the configured     (earlier days kept)
                         ``catalog_keywords``, the seed's "Query")
=======================  ==========================================  =====================================

``product_categories`` takes its SKUs and handles invalid ones like the pricing assets (see there).
With no ``catalog_keywords`` configured, ``catalog_matches`` makes no call and writes an empty day
(so a search from earlier today does not linger), with ``skipped_reason`` in its metadata: the
asset exists for every marketplace, and a marketplace without a query is a normal configuration,
not an error. Both are point-in-time, unpartitioned snapshots (``SNAPSHOT``): each run snapshots
today, a past ``snapshot_date`` in the run config is refused (history: ``merchant_listings``).
"""

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import dagster as dg

from sp_assets.defs.checks import (
    ChecksByTable,
    in_step,
    materialized_then_checked,
    primary_key,
    separate_steps,
    specs_of,
)
from sp_assets.defs.common import SNAPSHOT, asset_kwargs, describe, fail_fast, local_dates, sp_client
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.rest_support import (
    REPLACE_PARTITION,
    SKU_HISTORY_ASSET,
    build_sku_snapshot_asset,
    fetch_staged,
    history_asset,
    snapshot_day,
    utc_now,
    write_frame,
)
from sp_assets.lib.catalog import (
    CATALOG_MATCHES,
    PRODUCT_CATEGORIES,
    fetch_catalog_match_rows,
    fetch_category_rows,
)
from sp_assets.lib.spapi.http import SPAPIClient

DESCRIPTIONS = {
    "product_categories": describe(
        "The browse categories of each of the seller's SKUs on each snapshot day, one row per SKU and category.",
        "Products - Product Categories for SKU",
        "Catalog 2022-04-01 classifications (SKUs resolved to ASINs with getPricing) or, with "
        "`catalog_categories_api: v0`, listCatalogCategories. SKUs: `sku_selection` all (the active SKUs of "
        "today's merchant_listings report) or advanced (`skus`); invalid SKUs: `on_invalid_sku` skip (WARN "
        "check) or warn (run fails). Point-in-time: each run snapshots today (history: the merchant_listings "
        "report). Write mode: **partition replace** by snapshot_date."),
    "catalog_matches": describe(
        "Amazon catalog items matching the configured keywords on each snapshot day, one row per item.",
        "Products - List Matching Products",
        "searchCatalogItems with `catalog_keywords` (Domo's comma-delimited Query). Without keywords no call is "
        "made and the day is written empty, with skipped_reason in the metadata. Point-in-time: only today's "
        "partition. Write mode: **partition replace** by snapshot_date."),
}


def build_catalog_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """``product_categories`` and ``catalog_matches`` of one marketplace, each running its checks in its
    step (``checks_in_step=False``: without, for the old layout's separate check steps)."""
    history = history_asset(entry, SKU_HISTORY_ASSET)
    checks = in_step(catalog_table_checks(entry), checks_in_step)
    match_checks = checks.get(CATALOG_MATCHES.name, [])

    def fetch_categories(client: SPAPIClient, skus: list[str], day: date, snapshot_time: datetime
                         ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        found = fetch_category_rows(client, entry.marketplace_id, skus, entry.catalog_categories_api, day,
                                    snapshot_time)
        return found.rows, {"invalid": found.invalid, "without_categories": found.without_categories}

    product_categories = build_sku_snapshot_asset(
        entry, PRODUCT_CATEGORIES, family="catalog", description=DESCRIPTIONS["product_categories"],
        checks=checks, fetch=fetch_categories, api=entry.catalog_categories_api,
        side_metadata=lambda side: {
            "catalog_categories_api": entry.catalog_categories_api,
            "skus_without_categories": dg.MetadataValue.json(side["without_categories"])})

    @dg.asset(check_specs=specs_of(match_checks),
              **asset_kwargs(entry, CATALOG_MATCHES.name, "catalog", SNAPSHOT, DESCRIPTIONS["catalog_matches"],
                                   table=CATALOG_MATCHES))
    @fail_fast(entry)
    def catalog_matches(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        day = snapshot_day(context, entry, history)
        start, end = utc_window(context)
        client = sp_client(context, entry)
        extra: dict[str, Any] = {"keywords": ",".join(entry.catalog_keywords)}
        if not entry.catalog_keywords:
            extra["skipped_reason"] = (f"{entry.path}.catalog_keywords is empty: no search was made "
                                       "(set a comma-delimited list of words, Domo's Query)")
            context.log.info(extra["skipped_reason"])
        frame, _, api, stage = fetch_staged(context, entry, CATALOG_MATCHES, client, lambda: (
            fetch_catalog_match_rows(client, entry.marketplace_id, entry.catalog_keywords, day, utc_now())
            if entry.catalog_keywords else [], {}))
        result = write_frame(context, entry, CATALOG_MATCHES, frame, mode=REPLACE_PARTITION, window=(start, end),
                             api=api, days=local_dates(entry, start, end), **extra, **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, match_checks)

    return [product_categories, catalog_matches]


# ------------------------------------------------------------------------------------------ checks
def catalog_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The checks of each catalog table, by table name (``product_categories_valid_skus`` is the asset's own)."""
    return {spec.name: [primary_key(entry, spec)] for spec in (PRODUCT_CATEGORIES, CATALOG_MATCHES)}


def build_catalog_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their assets' steps (all of them with ``checks_in_step=False``)."""
    return separate_steps(catalog_table_checks(entry), checks_in_step)
