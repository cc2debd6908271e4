"""FBA Outbound 2020-07-01: ``listAllFulfillmentOrders`` (multi-channel fulfillment orders)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from .http import SPAPIClient
from .pages import OUTBOUND_2020, iter_records, payload_list

FULFILLMENT_ORDERS_PATH = "/fba/outbound/2020-07-01/fulfillmentOrders"


def list_all_fulfillment_orders(client: SPAPIClient, query_start_date: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Yield fulfillment orders last updated at or after ``query_start_date``, all pages.

    Status values have been seen in upper case (the 2022 sandbox), so compare them case-insensitively.
    """
    params = {"queryStartDate": query_start_date}
    yield from iter_records(client, "listAllFulfillmentOrders", FULFILLMENT_ORDERS_PATH, params, OUTBOUND_2020,
                            payload_list("fulfillmentOrders"))
