"""API answer to rows for Sellers v1: plain functions the asset calls before writing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sp_assets.lib.spapi import sellers as sellers_api
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tables.sellers import participation_row


def fetch_participation_rows(client: SPAPIClient, fetched_at: datetime) -> list[dict[str, Any]]:
    """Every marketplace of the credential's region, with the seller's participation in it."""
    return [participation_row(entry, fetched_at) for entry in sellers_api.get_marketplace_participations(client)]
