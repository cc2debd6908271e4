"""Sellers v1 getMarketplaceParticipations: the marketplaces the account can sell in (spec and mapping).

Not partitioned: the table is replaced on each run, so it always shows the current list. Amazon answers
for every marketplace of the credential's region, so each marketplace's table lists the whole region.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sp_assets.lib.tables.base import BOOLEAN, TIMESTAMPTZ, VARCHAR, Column, TableSpec

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
