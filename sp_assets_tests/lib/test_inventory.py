"""FBA Inventory: getInventorySummaries pages (pagination.nextToken, startDateTime sent again) and SKU batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sp_assets.lib.inventory import get_inventory_summaries
from sp_assets_tests.lib.spapi.support import US, client_for


def test_inventory_pages_with_start_date_time(sandbox_factory) -> None:
    # Speed 50, not 1000: Amazon's nextToken lives 30 s, scaled by the speed; 30 ms would be shorter
    # than a loaded test machine's round trip.
    sb = sandbox_factory(speed=50.0, extra={"page_sizes": {"inventory": 7}})
    since = datetime.now(UTC) - timedelta(days=30)
    with client_for(sb) as client:
        everything = list(get_inventory_summaries(client, US, details=True))
        changed = list(get_inventory_summaries(client, US, start_date_time=since))
    skus = [s["sellerSku"] for s in everything]
    assert len(skus) > 7 and len(set(skus)) == len(skus)
    assert "inventoryDetails" in everything[0]
    assert changed and {s["sellerSku"] for s in changed} <= set(skus)
    expected_pages = -(-len(everything) // 7) + -(-len(changed) // 7)
    assert sb.stats.get("getInventorySummaries.served") == expected_pages


def test_inventory_by_seller_skus(sandbox) -> None:
    wanted = [p.sku for p in sandbox.seller.products(US)][:60]
    with client_for(sandbox) as client:
        found = list(get_inventory_summaries(client, US, seller_skus=wanted, details=False))
    assert {s["sellerSku"] for s in found} <= set(wanted)
    with pytest.raises(ValueError, match="start_date_time"):
        list(get_inventory_summaries(client, US, seller_skus=wanted, start_date_time=datetime.now(UTC)))
