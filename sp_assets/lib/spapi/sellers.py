"""Sellers v1: ``getMarketplaceParticipations`` (which marketplaces the account sells in)."""

from __future__ import annotations

from typing import Any

from .http import SPAPIClient

PARTICIPATIONS_PATH = "/sellers/v1/marketplaceParticipations"


def get_marketplace_participations(client: SPAPIClient) -> list[dict[str, Any]]:
    """``[{marketplace{id, name, countryCode, ...}, participation{...}, storeName}]``; no pagination.

    Works with a credential of any marketplace of the region; the quota is tiny (0.016/s, burst 15).
    """
    body = client.request("getMarketplaceParticipations", "GET", PARTICIPATIONS_PATH)
    payload = body.get("payload") if isinstance(body, dict) else None
    return payload if isinstance(payload, list) else []
