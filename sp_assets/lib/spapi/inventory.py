"""FBA Inventory v1: ``getInventorySummaries`` (marketplace granularity, optional details)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from .http import SPAPIClient
from .pages import FBA_INVENTORY, iter_records, payload_list

SUMMARIES_PATH = "/fba/inventory/v1/summaries"
MAX_SELLER_SKUS = 50


def get_inventory_summaries(
    client: SPAPIClient,
    marketplace_id: str,
    *,
    details: bool = True,
    start_date_time: datetime | None = None,
    seller_skus: Sequence[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every inventory summary of one marketplace, all pages.

    ``start_date_time`` returns only summaries changed since then (Amazon: no earlier than 18 months
    ago; inbound quantity changes are not detected) and is sent again with every ``nextToken``, as
    Amazon requires. ``seller_skus`` restricts to those SKUs, in batches of 50 (Amazon's maximum); it
    cannot be combined with ``start_date_time`` because Amazon would silently ignore the SKUs.
    Tokens expire 30 s after they are issued, so consume the generator without long pauses.
    """
    if start_date_time is not None and seller_skus:
        raise ValueError("seller_skus cannot be combined with start_date_time (Amazon ignores the SKUs then)")
    base: dict[str, Any] = {
        "granularityType": "Marketplace",
        "granularityId": marketplace_id,
        "marketplaceIds": [marketplace_id],
        "details": details,
        "startDateTime": start_date_time,
    }
    if seller_skus is None:
        batches: list[list[str] | None] = [None]
    else:
        skus = list(dict.fromkeys(seller_skus))
        batches = [skus[i:i + MAX_SELLER_SKUS] for i in range(0, len(skus), MAX_SELLER_SKUS)]
    for batch in batches:
        params = {**base, "sellerSkus": batch}
        yield from iter_records(client, "getInventorySummaries", SUMMARIES_PATH, params, FBA_INVENTORY,
                                payload_list("inventorySummaries"))
