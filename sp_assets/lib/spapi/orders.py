"""Orders API: v0 (getOrders, getOrderItems, getOrder) and v2026-01-01 (searchOrders, getOrder).

The time rule: Amazon refuses ``CreatedBefore``/``LastUpdatedBefore`` later than now minus 2 minutes
with a vague 400 (selling-partner-api-docs#326). Every "before" is therefore clamped to now minus
``client.orders_before_margin`` (default 15 minutes, never under 2), a missing "before" becomes that
clamped value (so the caller knows exactly which window was read), and a window that is empty after
clamping is not requested at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .http import MIN_ORDERS_BEFORE_MARGIN, SPAPIClient, path_segment
from .pages import ORDERS_2026, ORDERS_V0, iter_records, payload_list, top_list
from .redaction import get_logger

log = get_logger(__name__)

ORDERS_V0_PATH = "/orders/v0/orders"
ORDERS_2026_PATH = "/orders/2026-01-01/orders"
MAX_MARKETPLACE_IDS = 50

ORDER_STATUSES = ("PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped",
                  "InvoiceUnconfirmed", "Canceled", "Unfulfillable")
FULFILLMENT_STATUSES_2026 = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED",
                             "CANCELLED", "UNFULFILLABLE")


def clamp_before(before: datetime | None, margin: timedelta, now: datetime | None = None) -> datetime:
    """``min(before, now - margin)``; ``now - margin`` when ``before`` is None. Margin must be >= 2 min."""
    if margin < MIN_ORDERS_BEFORE_MARGIN:
        raise ValueError(f"the orders safety margin must be at least {MIN_ORDERS_BEFORE_MARGIN}, got {margin}")
    current = now or datetime.now(UTC)
    _require_aware("now", current)
    latest = current - margin
    if before is None:
        return latest
    _require_aware("before", before)
    return min(before, latest)


def orders_window(
    after: datetime, before: datetime | None, margin: timedelta, now: datetime | None = None
) -> tuple[datetime, datetime] | None:
    """The window actually requested, ``(after, clamped before)``, or None when it is empty."""
    _require_aware("after", after)
    clamped = clamp_before(before, margin, now)
    return (after, clamped) if clamped > after else None


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")


def _marketplace_list(marketplace_ids: str | Sequence[str]) -> list[str]:
    ids = [marketplace_ids] if isinstance(marketplace_ids, str) else list(marketplace_ids)
    if not ids or len(ids) > MAX_MARKETPLACE_IDS:
        raise ValueError(f"marketplace_ids must hold 1 to {MAX_MARKETPLACE_IDS} ids, got {len(ids)}")
    return ids


def _check_values(name: str, values: Sequence[str] | None, allowed: Sequence[str]) -> list[str] | None:
    if values is None:
        return None
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"{name} has unknown value(s) {bad}; allowed: {', '.join(allowed)}")
    return list(values)


def _window_params(
    created_after: datetime | None,
    created_before: datetime | None,
    last_updated_after: datetime | None,
    last_updated_before: datetime | None,
    margin: timedelta,
    now: datetime | None,
    names: tuple[str, str, str, str],
) -> dict[str, datetime] | None:
    """Validate the exclusive created/last-updated windows and clamp the "before"; None = empty window."""
    if (created_after is None) == (last_updated_after is None):
        raise ValueError("give exactly one of created_after or last_updated_after")
    if created_after is not None and last_updated_before is not None:
        raise ValueError("last_updated_before cannot be combined with created_after")
    if last_updated_after is not None and created_before is not None:
        raise ValueError("created_before cannot be combined with last_updated_after")
    after, before = (created_after, created_before) if created_after else (last_updated_after, last_updated_before)
    assert after is not None
    window = orders_window(after, before, margin, now)
    if window is None:
        return None
    after_name, before_name = (names[0], names[1]) if created_after else (names[2], names[3])
    return {after_name: window[0], before_name: window[1]}


def get_orders(
    client: SPAPIClient,
    marketplace_ids: str | Sequence[str],
    *,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    last_updated_after: datetime | None = None,
    last_updated_before: datetime | None = None,
    order_statuses: Sequence[str] | None = None,
    fulfillment_channels: Sequence[str] | None = None,
    max_results_per_page: int = 100,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every order (``payload.Orders``) of a created or a last-updated window, all pages.

    Exactly one of ``created_after``/``last_updated_after``; the matching "before" is clamped (module
    docstring). Nothing is requested when the clamped window is empty.
    """
    window = _window_params(created_after, created_before, last_updated_after, last_updated_before,
                            client.orders_before_margin, now,
                            ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore"))
    if window is None:
        log.debug("getOrders skipped: the window is empty once clamped to now - %s", client.orders_before_margin)
        return
    if not 1 <= max_results_per_page <= 100:
        raise ValueError(f"max_results_per_page must be 1..100, got {max_results_per_page}")
    params: dict[str, Any] = {
        "MarketplaceIds": _marketplace_list(marketplace_ids),
        **window,
        "OrderStatuses": _check_values("order_statuses", order_statuses, ORDER_STATUSES),
        "FulfillmentChannels": _check_values("fulfillment_channels", fulfillment_channels, ("AFN", "MFN")),
        "MaxResultsPerPage": max_results_per_page,
    }
    yield from iter_records(client, "getOrders", ORDERS_V0_PATH, params, ORDERS_V0, payload_list("Orders"))


def get_order_items(client: SPAPIClient, order_id: str) -> list[dict[str, Any]]:
    """All items of one order (``payload.OrderItems`` over every page)."""
    path = f"{ORDERS_V0_PATH}/{path_segment(order_id)}/orderItems"
    return list(iter_records(client, "getOrderItems", path, None, ORDERS_V0, payload_list("OrderItems")))


def get_order(client: SPAPIClient, order_id: str) -> dict[str, Any] | None:
    """One order (v0 ``payload``)."""
    body = client.request("getOrder", "GET", f"{ORDERS_V0_PATH}/{path_segment(order_id)}")
    return body.get("payload") if isinstance(body, dict) else None


def search_orders(
    client: SPAPIClient,
    marketplace_ids: str | Sequence[str] | None = None,
    *,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    last_updated_after: datetime | None = None,
    last_updated_before: datetime | None = None,
    fulfillment_statuses: Sequence[str] | None = None,
    fulfilled_by: Sequence[str] | None = None,
    included_data: Sequence[str] | None = None,
    max_results_per_page: int = 100,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Orders v2026-01-01 ``searchOrders``: yield every order of the window (same clamping rule)."""
    window = _window_params(created_after, created_before, last_updated_after, last_updated_before,
                            client.orders_before_margin, now,
                            ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore"))
    if window is None:
        log.debug("searchOrders skipped: the window is empty once clamped")
        return
    if not 1 <= max_results_per_page <= 100:
        raise ValueError(f"max_results_per_page must be 1..100, got {max_results_per_page}")
    params: dict[str, Any] = {
        **window,
        "marketplaceIds": _marketplace_list(marketplace_ids) if marketplace_ids else None,
        "fulfillmentStatuses": _check_values("fulfillment_statuses", fulfillment_statuses,
                                             FULFILLMENT_STATUSES_2026),
        "fulfilledBy": _check_values("fulfilled_by", fulfilled_by, ("MERCHANT", "AMAZON")),
        "includedData": list(included_data) if included_data else None,
        "maxResultsPerPage": max_results_per_page,
    }
    yield from iter_records(client, "searchOrders", ORDERS_2026_PATH, params, ORDERS_2026, top_list("orders"))


def get_order_2026(
    client: SPAPIClient, order_id: str, included_data: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """Orders v2026-01-01 ``getOrder``: the ``order`` object, items always included."""
    body = client.request("getOrder2026", "GET", f"{ORDERS_2026_PATH}/{path_segment(order_id)}",
                          params={"includedData": list(included_data) if included_data else None})
    return body.get("order") if isinstance(body, dict) else None

