"""API pages to records for the orders domain: plain functions the assets call before writing.

Nothing here touches DuckDB: the assets fetch everything first and take the write lock only for
the single write at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sp_assets.lib.spapi import orders as orders_api
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tables.orders import order_item_row_v0, order_row_v0

# getOrderItems allows 0.5 calls/s with a burst of 30: a few threads hide the network latency so the
# client runs at the bucket's rate instead of at one round trip per order.
ITEM_THREADS = 4


def fetch_order_rows(client: SPAPIClient, marketplace_id: str, timezone: str, start: datetime, end: datetime,
                     *, by: str = "created", statuses: Sequence[str] = (), include_pii: bool = False
                     ) -> list[dict[str, Any]]:
    """Every order of the window as ``orders`` rows; ``by`` is "created" or "last_updated"."""
    window = ({"created_after": start, "created_before": end} if by == "created"
              else {"last_updated_after": start, "last_updated_before": end})
    records = orders_api.get_orders(client, [marketplace_id], order_statuses=list(statuses) or None, **window)
    day_field = "PurchaseDate" if by == "created" else "LastUpdateDate"
    return [order_row_v0(record, timezone, include_pii, day_field) for record in records]


def fetch_item_rows(client: SPAPIClient, order_rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of each order (one getOrderItems call per order, all pages), as ``order_items`` rows."""
    orders = list(order_rows)

    def items_of(order: dict[str, Any]) -> list[dict[str, Any]]:
        return [order_item_row_v0(order, item) for item in orders_api.get_order_items(client, order["amazon_order_id"])]

    with ThreadPoolExecutor(max_workers=ITEM_THREADS, thread_name_prefix="order-items") as pool:
        return [row for rows in pool.map(items_of, orders) for row in rows]
