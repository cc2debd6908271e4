"""API pages to rows for the orders domain: plain functions the assets call before writing.

Nothing here touches DuckDB: the assets fetch everything first and take the write lock only for the
single write at the end. Two API versions give the same rows (``sp_assets/lib/tables/orders.py``):

* **Orders v0**: getOrders for the window, then one getOrderItems call per order.
* **Orders v2026-01-01**: searchOrders returns the items inside each order, so one paged pass over the
  window yields both the order rows and the item rows, and Amazon is never asked twice for a window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sp_assets.lib.spapi import orders as orders_api
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tables.orders import order_item_row_v0, order_item_rows_2026, order_row_2026, order_row_v0

# getOrderItems allows 0.5 calls/s with a burst of 30: a few threads hide the network latency so the
# client runs at the bucket's rate instead of at one round trip per order.
ITEM_THREADS = 4
V2026_INCLUDED_DATA = ("FULFILLMENT", "PROCEEDS", "RECIPIENT", "PROMOTION")
V2026_STATUSES = {"Pending": "PENDING", "PendingAvailability": "PENDING_AVAILABILITY", "Unshipped": "UNSHIPPED",
                  "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "Canceled": "CANCELLED",
                  "Unfulfillable": "UNFULFILLABLE"}


def _window(by: str, start: datetime, end: datetime) -> dict[str, datetime]:
    if by == "created":
        return {"created_after": start, "created_before": end}
    return {"last_updated_after": start, "last_updated_before": end}


def _day_field(by: str, api: str) -> str:
    if api == "v0":
        return "PurchaseDate" if by == "created" else "LastUpdateDate"
    return "createdTime" if by == "created" else "lastUpdatedTime"


def fetch_order_rows(client: SPAPIClient, marketplace_id: str, timezone: str, start: datetime, end: datetime,
                     *, by: str = "created", statuses: Sequence[str] = (), include_pii: bool = False
                     ) -> list[dict[str, Any]]:
    """Orders v0: every order of the window as ``orders`` rows; ``by`` is "created" or "last_updated"."""
    records = orders_api.get_orders(client, [marketplace_id], order_statuses=list(statuses) or None,
                                    **_window(by, start, end))
    return [order_row_v0(record, timezone, include_pii, _day_field(by, "v0")) for record in records]


def fetch_item_rows(client: SPAPIClient, order_rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Orders v0: the items of each order (one getOrderItems call per order, all pages)."""
    orders = list(order_rows)

    def items_of(order: dict[str, Any]) -> list[dict[str, Any]]:
        return [order_item_row_v0(order, item) for item in orders_api.get_order_items(client, order["amazon_order_id"])]

    with ThreadPoolExecutor(max_workers=ITEM_THREADS, thread_name_prefix="order-items") as pool:
        return [row for rows in pool.map(items_of, orders) for row in rows]


def fetch_orders_with_items_2026(client: SPAPIClient, marketplace_id: str, timezone: str, start: datetime,
                                 end: datetime, *, by: str = "created", statuses: Sequence[str] = (),
                                 include_pii: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Orders v2026-01-01: one searchOrders pass over the window gives order rows and item rows."""
    included = V2026_INCLUDED_DATA + (("BUYER",) if include_pii else ())
    records = orders_api.search_orders(
        client, [marketplace_id], included_data=included,
        fulfillment_statuses=[V2026_STATUSES[s] for s in statuses if s in V2026_STATUSES] or None,
        **_window(by, start, end))
    orders: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for record in records:
        row = order_row_2026(record, timezone, include_pii, _day_field(by, "2026-01-01"))
        orders.append(row)
        items.extend(order_item_rows_2026(row, record))
    return orders, items
