"""Sellers: getMarketplaceParticipations answers for the credential's whole region."""

from __future__ import annotations

from sp_assets.lib.sellers import get_marketplace_participations
from sp_assets_tests.lib.spapi.support import client_for


def test_marketplace_participations(sandbox) -> None:
    with client_for(sandbox, "EU") as client:
        participations = get_marketplace_participations(client)
    assert participations and all(p["marketplace"]["id"] for p in participations)
    assert "DE" in {p["marketplace"]["countryCode"] for p in participations}
