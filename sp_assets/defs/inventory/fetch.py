"""API pages to rows for FBA inventory: plain functions the assets call before writing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sp_assets.lib.spapi import inventory as inventory_api
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tables.inventory import inventory_supply_row


def fetch_inventory_supply_rows(client: SPAPIClient, marketplace_id: str, changed_since: datetime,
                                snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
    """Every FBA SKU whose summary changed since ``changed_since`` (details included), as rows.

    The pages are read back to back: Amazon's nextToken expires 30 s after it is issued.
    """
    summaries = inventory_api.get_inventory_summaries(client, marketplace_id, details=True,
                                                      start_date_time=changed_since)
    return [inventory_supply_row(summary, snapshot_date, snapshot_time) for summary in summaries]
