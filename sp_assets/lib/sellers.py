"""Sellers v1 getMarketplaceParticipations: the marketplaces the account can sell in (call, row, spec).

**Amazon call.** Sellers v1: ``getMarketplaceParticipations`` (which marketplaces the account sells in).

Not partitioned: the table is replaced on each run, so it always shows the current list. Amazon answers
for every marketplace of the credential's region, so each marketplace's table lists the whole region.

The module reads top to bottom as the data flows: the Amazon calls, the record-to-row mapping, the table
specs, then the fetch functions the assets call (pages -> records -> rows). Nothing here touches
DuckDB or Dagster.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tablespec import BOOLEAN, TIMESTAMPTZ, VARCHAR, Column, TableSpec

# ------------------------------------------------------------------------------------------------
# Amazon calls
# ------------------------------------------------------------------------------------------------

PARTICIPATIONS_PATH = "/sellers/v1/marketplaceParticipations"


def get_marketplace_participations(client: SPAPIClient) -> list[dict[str, Any]]:
    """``[{marketplace{id, name, countryCode, ...}, participation{...}, storeName}]``; no pagination.

    Works with a credential of any marketplace of the region; the quota is tiny (0.016/s, burst 15).
    """
    body = client.request("getMarketplaceParticipations", "GET", PARTICIPATIONS_PATH)
    payload = body.get("payload") if isinstance(body, dict) else None
    return payload if isinstance(payload, list) else []


# ------------------------------------------------------------------------------------------------
# Record-to-row mapping
# ------------------------------------------------------------------------------------------------

def participation_row(entry: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    """One ``{marketplace, participation, storeName}`` entry as a ``marketplace_participations`` row."""
    marketplace = entry.get("marketplace") or {}
    participation = entry.get("participation") or {}
    return {
        "marketplace_id": marketplace.get("id"),
        "marketplace_name": marketplace.get("name"),
        "country_code": marketplace.get("countryCode"),
        "default_currency_code": marketplace.get("defaultCurrencyCode"),
        "default_language_code": marketplace.get("defaultLanguageCode"),
        "domain_name": marketplace.get("domainName"),
        "is_participating": participation.get("isParticipating"),
        "has_suspended_listings": participation.get("hasSuspendedListings"),
        "store_name": entry.get("storeName"),
        "fetched_at": fetched_at,
    }


# ------------------------------------------------------------------------------------------------
# Table specs
# ------------------------------------------------------------------------------------------------

MARKETPLACE_PARTICIPATIONS = TableSpec(
    name="marketplace_participations",
    columns=(
        Column("marketplace_id", VARCHAR, nullable=False),
        Column("marketplace_name", VARCHAR),
        Column("country_code", VARCHAR),
        Column("default_currency_code", VARCHAR),
        Column("default_language_code", VARCHAR),
        Column("domain_name", VARCHAR),
        Column("is_participating", BOOLEAN),
        Column("has_suspended_listings", BOOLEAN),
        Column("store_name", VARCHAR),
        Column("fetched_at", TIMESTAMPTZ, nullable=False, description="when the API was asked (UTC)"),
    ),
    primary_key=("marketplace_id",),
    description="The marketplaces the seller's account can sell in (the seed's Marketplace Participations); "
                "replaced on each run.",
)


# ------------------------------------------------------------------------------------------------
# Fetch: Amazon's pages to rows
# ------------------------------------------------------------------------------------------------

def fetch_participation_rows(client: SPAPIClient, fetched_at: datetime) -> list[dict[str, Any]]:
    """Every marketplace of the credential's region, with the seller's participation in it."""
    return [participation_row(entry, fetched_at) for entry in get_marketplace_participations(client)]
