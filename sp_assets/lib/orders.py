"""Orders and order items: the Orders API calls, the record-to-row mapping, the table specs, the fetch.

**Amazon calls.** Orders API: v0 (getOrders, getOrderItems, getOrder) and v2026-01-01 (searchOrders, getOrder).

The time rule: Amazon refuses ``CreatedBefore``/``LastUpdatedBefore`` later than now minus 2 minutes
with a vague 400 (selling-partner-api-docs#326). Every "before" is therefore clamped to now minus
``client.orders_before_margin`` (default 15 minutes, never under 2), a missing "before" becomes that
clamped value (so the caller knows exactly which window was read), and a window that is empty after
clamping is not requested at all.

**Fetch.** Nothing here touches DuckDB: the assets fetch everything first and take the write lock only for the
single write at the end. Two API versions give the same rows (the mapping below):

* **Orders v0**: getOrders for the window, then one getOrderItems call per order.
* **Orders v2026-01-01**: searchOrders returns the items inside each order, so one paged pass over the
  window yields both the order rows and the item rows, and Amazon is never asked twice for a window.

**Rows.** One schema whatever the API version: a column means the same thing from Orders v0 and from
v2026-01-01. Money is DECIMAL (Amazon sends amounts as strings in both versions, and they are kept
exact); timestamps are TIMESTAMPTZ in UTC. ``partition_date`` is the seller's local day the row
belongs to (the day of the purchase in the marketplace's time zone), which is what a partition
replaces.

Buyer details (``buyer_email``, ``buyer_name``) are personal data: they stay null unless the
marketplace's configuration sets ``include_pii: true``.

v0 rows come from ``order_row_v0`` (getOrders) and ``order_item_row_v0`` (getOrderItems), or, with
``order_items_source: report``, from ``order_items_from_report_sql`` (the all-orders flat file, in DuckDB); v2026 rows
from ``order_row_2026`` and ``order_item_rows_2026`` (searchOrders or getOrder; items are inside the
order). v2026 returns most blocks only when ``includedData`` asks for them, so call it with
``includedData=FULFILLMENT,PROCEEDS,RECIPIENT,PROMOTION`` (plus ``BUYER`` with ``include_pii``).
``order_row_2026`` refuses an order without its ``fulfillment`` block (``order_status`` cannot be
null). Every column not listed below has the same value from both versions; statuses and other
enums are written in v0's vocabulary (``SHIPPED`` -> ``Shipped``, ``AMAZON`` -> ``AFN``,
``SECOND_DAY`` -> ``SecondDay``, ``NEW`` -> ``New``) so that a table does not change meaning when a
marketplace migrates.

================================== ==================================== ==============================================
column                             v0 source                            v2026-01-01 source / difference
================================== ==================================== ==============================================
orders.source_api                  ``"v0"``                             ``"2026-01-01"``
orders.order_status                OrderStatus                          fulfillment.fulfillmentStatus (FULFILLMENT).
                                                                        v0's InvoiceUnconfirmed has no v2026 status.
orders.fulfillment_channel         FulfillmentChannel                   fulfillment.fulfilledBy (FULFILLMENT)
orders.sales_channel               SalesChannel                         salesChannel.marketplaceName
orders.order_channel               OrderChannel                         **null**: v2026 has no such field
orders.ship_service_level          ShipServiceLevel                     **null**: v2026 only has the category
orders.shipment_service_level_...  ShipmentServiceLevelCategory         fulfillment.fulfillmentServiceLevel
orders.order_type                  OrderType                            **null**: v2026 has no order type
orders.order_total_amount/currency OrderTotal                           proceeds.grandTotal (PROCEEDS). Amazon defines
                                                                        it as the seller's proceeds, which can differ
                                                                        from OrderTotal where Amazon withholds tax;
                                                                        the sandbox makes them equal.
orders.number_of_items_(un)shipped NumberOfItemsShipped/Unshipped       sum of the items' fulfillment.quantityFulfilled
                                                                        / quantityUnfulfilled (FULFILLMENT)
orders.payment_method              PaymentMethod (COD, CVS, Other)      payment.paymentExecutions[0].paymentMethod
                                                                        (PAYMENT; CashOnDelivery -> COD,
                                                                        ConvenienceStore -> CVS, other -> Other);
                                                                        **null** without payment executions, which
                                                                        Amazon (and the sandbox) give for few orders
orders.is_business_order/is_prime  IsBusinessOrder, IsPrime, ...        programs: AMAZON_BUSINESS, PRIME, PREMIUM,
  is_premium_order, is_ispu                                             IN_STORE_PICK_UP
orders.is_replacement_order        IsReplacementOrder                   associatedOrders has REPLACEMENT_ORIGINAL_ID
orders.is_global_express_enabled   IsGlobalExpressEnabled               **null**: no v2026 field
orders.is_sold_by_ab               IsSoldByAB                           **null**: no v2026 field
orders.is_access_point_order       IsAccessPointOrder                   **null**: no v2026 field
orders.earliest/latest_ship_date   EarliestShipDate, LatestShipDate     fulfillment.shipByWindow (FULFILLMENT)
orders.ship_city, ship_state_...   ShippingAddress (no RDT needed)      recipient.deliveryAddress (RECIPIENT)
orders.buyer_email                 BuyerInfo.BuyerEmail                 buyer.buyerEmail (BUYER). **Differs**: Amazon
                                                                        gives it for merchant-fulfilled orders only,
                                                                        so it is null for AFN orders.
orders.buyer_name                  BuyerInfo.BuyerName (needs an RDT;   buyer.buyerName (BUYER, role-based). **Differs**:
                                   null from getOrders)                 filled where v0 rows have null.
order_items.source_api             ``"v0"``                             ``"2026-01-01"``
order_items.quantity_shipped       QuantityShipped                      fulfillment.quantityFulfilled (FULFILLMENT)
order_items.item_price_amount      ItemPrice (unit price x quantity)    proceeds ITEM subtotal (PROCEEDS)
order_items.shipping_price_amount  ShippingPrice                        proceeds SHIPPING subtotal
order_items.item_tax_amount        ItemTax                              proceeds TAX, detailed subtype ITEM (the whole
                                                                        TAX subtotal when Amazon sends no detail)
order_items.shipping_tax_amount    ShippingTax                          proceeds TAX, detailed subtype SHIPPING
order_items.promotion_discount_..  PromotionDiscount                    abs(proceeds DISCOUNT, detailed subtype ITEM;
                                                                        the whole DISCOUNT when Amazon sends no detail)
order_items.shipping_discount_...  ShippingDiscount                     abs(proceeds DISCOUNT, detailed SHIPPING)
order_items.promotion_discount_tax PromotionDiscountTax                 abs(proceeds TAX, detailed subtype DISCOUNT)
order_items.currency               the item's money CurrencyCode        the proceeds' (else unitPrice's) currencyCode
order_items.promotion_ids          PromotionIds                         promotion.breakdowns[].promotionId (PROMOTION)
order_items.is_gift                IsGift (null while Pending)          fulfillment.packing.giftOption present
                                                                        (FULFILLMENT). **Differs** while Pending:
                                                                        true/false where v0 gives null.
order_items.condition_id           ConditionId                          product.condition.conditionType
================================== ==================================== ==============================================

v2026 lists only the non-zero proceeds categories of an item: a category that is absent from an
item that has proceeds is a zero amount (written at the scale of the item's ITEM amount, ``"0.00"``
or ``"0"`` for JPY, as v0 writes it). Without PROCEEDS (and while an order is Pending, when neither
version has prices) every amount is null.

The module reads top to bottom as the data flows: the Amazon calls, the record-to-row mapping, the table
specs, then the fetch functions the assets call (pages -> records -> rows). Nothing here touches
DuckDB or Dagster (the all-orders report's items are a SELECT the warehouse runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sp_assets.lib.spapi.http import MIN_ORDERS_BEFORE_MARGIN, SPAPIClient, path_segment
from sp_assets.lib.spapi.pages import ORDERS_2026, ORDERS_V0, iter_records, payload_list, top_list
from sp_assets.lib.spapi.redaction import get_logger
from sp_assets.lib.tablespec import MONEY, TIMESTAMPTZ, Column, TableSpec
from sp_assets.lib.textformats import ISO, TextFormat, failed_sql, parse_sql

# ------------------------------------------------------------------------------------------------
# Amazon calls
# ------------------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------------------
# Record-to-row mapping
# ------------------------------------------------------------------------------------------------

def local_day(timestamp: str | datetime, timezone: str) -> date:
    """The seller's day of an Amazon timestamp (``2026-11-20T07:30:00Z``) in the marketplace's zone."""
    moment = timestamp if isinstance(timestamp, datetime) else datetime.fromisoformat(
        str(timestamp).replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(timezone)).date()


def _amount(money: Any) -> str | None:
    return money.get("Amount") if isinstance(money, dict) else None


def _flag(value: Any) -> bool | None:
    """Amazon sends booleans as JSON booleans, and some (IsGift) as "true"/"false" strings."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    return True if text == "true" else False if text == "false" else None


def order_row_v0(order: dict[str, Any], timezone: str, include_pii: bool = False,
                 day_field: str = "PurchaseDate") -> dict[str, Any]:
    """An Orders v0 ``Order`` as a row of ``orders``.

    ``partition_date`` is the local day of ``day_field``: PurchaseDate for orders queried by creation
    date, LastUpdateDate for orders queried by last update (the seed's "query date type").
    """
    address = order.get("ShippingAddress") or {}
    buyer = order.get("BuyerInfo") or {}
    total = order.get("OrderTotal") or {}
    return {
        "amazon_order_id": order.get("AmazonOrderId"),
        "partition_date": local_day(order[day_field], timezone) if order.get(day_field) else None,
        "marketplace_id": order.get("MarketplaceId"),
        "purchase_date": order.get("PurchaseDate"),
        "last_update_date": order.get("LastUpdateDate"),
        "order_status": order.get("OrderStatus"),
        "fulfillment_channel": order.get("FulfillmentChannel"),
        "sales_channel": order.get("SalesChannel"),
        "order_channel": order.get("OrderChannel"),
        "ship_service_level": order.get("ShipServiceLevel"),
        "shipment_service_level_category": order.get("ShipmentServiceLevelCategory"),
        "order_type": order.get("OrderType"),
        "order_total_amount": total.get("Amount"),
        "order_total_currency": total.get("CurrencyCode"),
        "number_of_items_shipped": order.get("NumberOfItemsShipped"),
        "number_of_items_unshipped": order.get("NumberOfItemsUnshipped"),
        "payment_method": order.get("PaymentMethod"),
        "is_business_order": _flag(order.get("IsBusinessOrder")),
        "is_prime": _flag(order.get("IsPrime")),
        "is_premium_order": _flag(order.get("IsPremiumOrder")),
        "is_global_express_enabled": _flag(order.get("IsGlobalExpressEnabled")),
        "is_replacement_order": _flag(order.get("IsReplacementOrder")),
        "is_sold_by_ab": _flag(order.get("IsSoldByAB")),
        "is_ispu": _flag(order.get("IsISPU")),
        "is_access_point_order": _flag(order.get("IsAccessPointOrder")),
        "earliest_ship_date": order.get("EarliestShipDate"),
        "latest_ship_date": order.get("LatestShipDate"),
        "ship_city": address.get("City"),
        "ship_state_or_region": address.get("StateOrRegion"),
        "ship_postal_code": address.get("PostalCode"),
        "ship_country_code": address.get("CountryCode"),
        "buyer_email": buyer.get("BuyerEmail") if include_pii else None,
        "buyer_name": buyer.get("BuyerName") if include_pii else None,
        "source_api": "v0",
    }


def order_item_row_v0(order: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """An Orders v0 ``OrderItem`` as a row of ``order_items``; ``order`` is the ``orders`` row it
    belongs to (so items carry their order's partition day, status and LastUpdateDate)."""
    prices = [item.get(k) for k in ("ItemPrice", "ItemTax", "ShippingPrice", "PromotionDiscount")]
    currency = next((m.get("CurrencyCode") for m in prices if isinstance(m, dict)), None)
    return {
        "amazon_order_id": order["amazon_order_id"],
        "order_item_id": item.get("OrderItemId"),
        "partition_date": order["partition_date"],
        "purchase_date": order.get("purchase_date"),
        "last_update_date": order["last_update_date"],
        "order_status": order.get("order_status"),
        "asin": item.get("ASIN"),
        "seller_sku": item.get("SellerSKU"),
        "title": item.get("Title"),
        "quantity_ordered": item.get("QuantityOrdered"),
        "quantity_shipped": item.get("QuantityShipped"),
        "item_price_amount": _amount(item.get("ItemPrice")),
        "item_tax_amount": _amount(item.get("ItemTax")),
        "shipping_price_amount": _amount(item.get("ShippingPrice")),
        "shipping_tax_amount": _amount(item.get("ShippingTax")),
        "shipping_discount_amount": _amount(item.get("ShippingDiscount")),
        "promotion_discount_amount": _amount(item.get("PromotionDiscount")),
        "promotion_discount_tax_amount": _amount(item.get("PromotionDiscountTax")),
        "currency": currency,
        "promotion_ids": ",".join(item.get("PromotionIds") or []) or None,
        "is_gift": _flag(item.get("IsGift")),
        "condition_id": item.get("ConditionId"),
        "source_api": "v0",
    }


# ------------------------------------------------------------------------------------ v2026-01-01
SOURCE_API_2026 = "2026-01-01"
_STATUS_FROM_2026 = {"PENDING_AVAILABILITY": "PendingAvailability", "PENDING": "Pending", "UNSHIPPED": "Unshipped",
                     "PARTIALLY_SHIPPED": "PartiallyShipped", "SHIPPED": "Shipped", "CANCELLED": "Canceled",
                     "UNFULFILLABLE": "Unfulfillable"}
_CHANNEL_FROM_2026: dict[Any, str] = {"AMAZON": "AFN", "MERCHANT": "MFN"}
_PAYMENT_FROM_2026 = {"CashOnDelivery": "COD", "ConvenienceStore": "CVS"}
# day_field accepts v2026's names and, so that one setting serves both versions, v0's.
_DAY_FIELDS_2026 = {"createdTime": "createdTime", "lastUpdatedTime": "lastUpdatedTime",
                    "PurchaseDate": "createdTime", "LastUpdateDate": "lastUpdatedTime"}


def _camel(value: Any) -> str | None:
    """v2026's ``SECOND_DAY`` / ``NEW`` in v0's spelling, ``SecondDay`` / ``New``."""
    if not isinstance(value, str) or not value:
        return None
    return "".join(part[:1].upper() + part[1:].lower() for part in value.split("_"))


def _v0_status(order: dict[str, Any], fulfillment: dict[str, Any]) -> str:
    status = fulfillment.get("fulfillmentStatus")
    if status not in _STATUS_FROM_2026:
        raise ValueError(f"order {order.get('orderId')}: unknown fulfillment.fulfillmentStatus {status!r}; "
                         f"expected one of {', '.join(_STATUS_FROM_2026)}")
    return _STATUS_FROM_2026[status]


def _payment_method(order: dict[str, Any]) -> str | None:
    executions = (order.get("payment") or {}).get("paymentExecutions") or []
    method = next((e.get("paymentMethod") for e in executions if isinstance(e, dict) and e.get("paymentMethod")),
                  None)
    return None if method is None else _PAYMENT_FROM_2026.get(method, "Other")


def _item_quantities(order: dict[str, Any], key: str) -> int | None:
    """The sum of the items' ``fulfillment.<key>``; None when no item has it."""
    values = [((item.get("fulfillment") or {}).get(key)) for item in order.get("orderItems") or []]
    present = [v for v in values if isinstance(v, int)]
    return sum(present) if present else None


def order_row_2026(order: dict[str, Any], timezone: str, include_pii: bool = False,
                   day_field: str = "createdTime") -> dict[str, Any]:
    """An Orders v2026-01-01 ``Order`` as a row of ``orders``, with the meaning ``order_row_v0`` gives.

    ``day_field`` is ``createdTime`` (orders queried by creation) or ``lastUpdatedTime`` (by last
    update); v0's ``PurchaseDate`` / ``LastUpdateDate`` are accepted too. The order must carry its
    ``fulfillment`` block (``includedData=FULFILLMENT``): without it the status is unknown, and a
    row without a status would be wrong rather than incomplete. The module docstring lists what
    differs from v0.
    """
    if day_field not in _DAY_FIELDS_2026:
        raise ValueError(f"day_field must be one of {', '.join(_DAY_FIELDS_2026)}, got {day_field!r}")
    fulfillment = order.get("fulfillment")
    if not isinstance(fulfillment, dict):
        raise ValueError(f"order {order.get('orderId')} has no fulfillment block: call searchOrders/getOrder "
                         "with includedData=FULFILLMENT (order status, channel, ship dates and shipped counts "
                         "come from it)")
    day_value = order.get(_DAY_FIELDS_2026[day_field])
    programs = set(order.get("programs") or [])
    channel = order.get("salesChannel") or {}
    total = (order.get("proceeds") or {}).get("grandTotal") or {}
    address = (order.get("recipient") or {}).get("deliveryAddress") or {}
    buyer = order.get("buyer") or {}
    ship_by = fulfillment.get("shipByWindow") or {}
    associations = {a.get("associationType") for a in order.get("associatedOrders") or [] if isinstance(a, dict)}
    return {
        "amazon_order_id": order.get("orderId"),
        "partition_date": local_day(day_value, timezone) if day_value else None,
        "marketplace_id": channel.get("marketplaceId"),
        "purchase_date": order.get("createdTime"),
        "last_update_date": order.get("lastUpdatedTime"),
        "order_status": _v0_status(order, fulfillment),
        "fulfillment_channel": _CHANNEL_FROM_2026.get(fulfillment.get("fulfilledBy")),
        "sales_channel": channel.get("marketplaceName"),
        "order_channel": None,
        "ship_service_level": None,
        "shipment_service_level_category": _camel(fulfillment.get("fulfillmentServiceLevel")),
        "order_type": None,
        "order_total_amount": total.get("amount"),
        "order_total_currency": total.get("currencyCode"),
        "number_of_items_shipped": _item_quantities(order, "quantityFulfilled"),
        "number_of_items_unshipped": _item_quantities(order, "quantityUnfulfilled"),
        "payment_method": _payment_method(order),
        "is_business_order": "AMAZON_BUSINESS" in programs,
        "is_prime": "PRIME" in programs,
        "is_premium_order": "PREMIUM" in programs,
        "is_global_express_enabled": None,
        "is_replacement_order": "REPLACEMENT_ORIGINAL_ID" in associations,
        "is_sold_by_ab": None,
        "is_ispu": "IN_STORE_PICK_UP" in programs,
        "is_access_point_order": None,
        "earliest_ship_date": ship_by.get("earliestDateTime"),
        "latest_ship_date": ship_by.get("latestDateTime"),
        "ship_city": address.get("city"),
        "ship_state_or_region": address.get("stateOrRegion"),
        "ship_postal_code": address.get("postalCode"),
        "ship_country_code": address.get("countryCode"),
        "buyer_email": buyer.get("buyerEmail") if include_pii else None,
        "buyer_name": buyer.get("buyerName") if include_pii else None,
        "source_api": SOURCE_API_2026,
    }


def _decimal(money: Any) -> Decimal | None:
    if not isinstance(money, dict) or money.get("amount") is None:
        return None
    try:
        return Decimal(str(money["amount"]))
    except InvalidOperation:
        raise ValueError(f"money amount {money.get('amount')!r} is not a decimal number") from None


@dataclass(frozen=True)
class _Proceeds:
    """An item's v2026 proceeds in v0's categories; absent categories are zero at the ITEM scale."""

    item: str | None = None
    item_tax: str | None = None
    shipping: str | None = None
    shipping_tax: str | None = None
    shipping_discount: str | None = None
    promotion_discount: str | None = None
    promotion_discount_tax: str | None = None
    currency: str | None = None

    @classmethod
    def of(cls, proceeds: Any) -> _Proceeds:
        breakdowns = [b for b in (proceeds or {}).get("breakdowns") or [] if isinstance(b, dict)]
        if not breakdowns:
            return cls()
        by_type: dict[str, list[dict[str, Any]]] = {}
        for breakdown in breakdowns:
            by_type.setdefault(str(breakdown.get("type")), []).append(breakdown)
        item = _sum_subtotals(by_type.get("ITEM", []))
        scale = item if item is not None else Decimal("0.00")
        zero = Decimal(0).quantize(scale)

        def amount(kind: str, subtype: str | None = None, whole_if_undetailed: bool = False,
                   magnitude: bool = False) -> str:
            entries = by_type.get(kind, [])
            if subtype is None:
                value = _sum_subtotals(entries)
            else:
                value = _sum_details(entries, subtype, whole_if_undetailed)
            if value is None:
                return str(zero)
            return str(abs(value) if magnitude else value)

        currency = next((b["subtotal"].get("currencyCode") for b in breakdowns
                         if isinstance(b.get("subtotal"), dict)), None)
        return cls(
            item=str(item) if item is not None else str(zero),
            item_tax=amount("TAX", "ITEM", whole_if_undetailed=True),
            shipping=amount("SHIPPING"),
            shipping_tax=amount("TAX", "SHIPPING"),
            shipping_discount=amount("DISCOUNT", "SHIPPING", magnitude=True),
            promotion_discount=amount("DISCOUNT", "ITEM", whole_if_undetailed=True, magnitude=True),
            promotion_discount_tax=amount("TAX", "DISCOUNT", magnitude=True),
            currency=currency,
        )


def _sum_subtotals(entries: list[dict[str, Any]]) -> Decimal | None:
    values = [v for v in (_decimal(e.get("subtotal")) for e in entries) if v is not None]
    return sum(values[1:], values[0]) if values else None


def _sum_details(entries: list[dict[str, Any]], subtype: str, whole_if_undetailed: bool) -> Decimal | None:
    """The ``subtype`` parts of ``entries``; an entry without detail counts whole for ``whole_if_undetailed``."""
    values: list[Decimal] = []
    for entry in entries:
        details = [d for d in entry.get("detailedBreakdowns") or [] if isinstance(d, dict)]
        if not details:
            whole = _decimal(entry.get("subtotal")) if whole_if_undetailed else None
            if whole is not None:
                values.append(whole)
            continue
        values.extend(v for v in (_decimal(d.get("value")) for d in details if d.get("subtype") == subtype)
                      if v is not None)
    return sum(values[1:], values[0]) if values else None


def order_item_rows_2026(order_row: dict[str, Any], order: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``orderItems`` of a v2026 ``Order`` as rows of ``order_items`` (same meaning as v0's).

    ``order_row`` is the order's ``orders`` row (from :func:`order_row_2026`), so that items carry
    their order's partition day, status and last update.
    """
    rows = []
    for item in order.get("orderItems") or []:
        product = item.get("product") or {}
        proceeds = _Proceeds.of(item.get("proceeds"))
        unit_price = (product.get("price") or {}).get("unitPrice") or {}
        fulfillment = item.get("fulfillment")
        promotions: list[Any] = [p.get("promotionId") for p in (item.get("promotion") or {}).get("breakdowns") or []
                                 if isinstance(p, dict) and p.get("promotionId")]
        rows.append({
            "amazon_order_id": order_row["amazon_order_id"],
            "order_item_id": item.get("orderItemId"),
            "partition_date": order_row["partition_date"],
            "purchase_date": order_row.get("purchase_date"),
            "last_update_date": order_row["last_update_date"],
            "order_status": order_row.get("order_status"),
            "asin": product.get("asin"),
            "seller_sku": product.get("sellerSku"),
            "title": product.get("title"),
            "quantity_ordered": item.get("quantityOrdered"),
            "quantity_shipped": fulfillment.get("quantityFulfilled") if isinstance(fulfillment, dict) else None,
            "item_price_amount": proceeds.item,
            "item_tax_amount": proceeds.item_tax,
            "shipping_price_amount": proceeds.shipping,
            "shipping_tax_amount": proceeds.shipping_tax,
            "shipping_discount_amount": proceeds.shipping_discount,
            "promotion_discount_amount": proceeds.promotion_discount,
            "promotion_discount_tax_amount": proceeds.promotion_discount_tax,
            "currency": proceeds.currency or unit_price.get("currencyCode"),
            "promotion_ids": ",".join(promotions) or None,
            "is_gift": ("giftOption" in (fulfillment.get("packing") or {})) if isinstance(fulfillment, dict)
            else None,
            "condition_id": _camel((product.get("condition") or {}).get("conditionType")),
            "source_api": SOURCE_API_2026,
        })
    return rows


# ------------------------------------------------------------------------------------ all-orders report
SOURCE_REPORT = "report"
_REPORT_ORDER_STATUS: dict[Any, str] = {"Cancelled": "Canceled"}  # the flat file's spelling -> the Orders API's


# ------------------------------------------------------------------------------------------------
# Table specs
# ------------------------------------------------------------------------------------------------

_ORDER_COLUMNS = (
    Column("amazon_order_id", "VARCHAR", nullable=False, description="Amazon's order id (3-7-7)"),
    Column("partition_date", "DATE", nullable=False, description="the seller's local day of the purchase"),
    Column("marketplace_id", "VARCHAR"),
    Column("purchase_date", "TIMESTAMPTZ", nullable=False),
    Column("last_update_date", "TIMESTAMPTZ", nullable=False),
    Column("order_status", "VARCHAR", nullable=False),
    Column("fulfillment_channel", "VARCHAR", description="AFN (fulfilled by Amazon) or MFN (by the seller)"),
    Column("sales_channel", "VARCHAR"),
    Column("order_channel", "VARCHAR"),
    Column("ship_service_level", "VARCHAR"),
    Column("shipment_service_level_category", "VARCHAR"),
    Column("order_type", "VARCHAR"),
    Column("order_total_amount", MONEY, description="null while the order is Pending (Amazon sends no total)"),
    Column("order_total_currency", "VARCHAR"),
    Column("number_of_items_shipped", "INTEGER"),
    Column("number_of_items_unshipped", "INTEGER"),
    Column("payment_method", "VARCHAR"),
    Column("is_business_order", "BOOLEAN"),
    Column("is_prime", "BOOLEAN"),
    Column("is_premium_order", "BOOLEAN"),
    Column("is_global_express_enabled", "BOOLEAN"),
    Column("is_replacement_order", "BOOLEAN"),
    Column("is_sold_by_ab", "BOOLEAN"),
    Column("is_ispu", "BOOLEAN"),
    Column("is_access_point_order", "BOOLEAN"),
    Column("earliest_ship_date", "TIMESTAMPTZ"),
    Column("latest_ship_date", "TIMESTAMPTZ"),
    Column("ship_city", "VARCHAR"),
    Column("ship_state_or_region", "VARCHAR"),
    Column("ship_postal_code", "VARCHAR"),
    Column("ship_country_code", "VARCHAR"),
    Column("buyer_email", "VARCHAR", description="personal data: null unless include_pii"),
    Column("buyer_name", "VARCHAR", description="personal data: null unless include_pii"),
    Column("source_api", "VARCHAR", description="the Orders API version the row came from (v0 or 2026-01-01)"),
)

_ITEM_COLUMNS = (
    Column("amazon_order_id", "VARCHAR", nullable=False),
    Column("order_item_id", "VARCHAR", nullable=False),
    Column("partition_date", "DATE", nullable=False, description="the order's partition day"),
    Column("purchase_date", "TIMESTAMPTZ"),
    Column("last_update_date", "TIMESTAMPTZ", nullable=False, description="the order's LastUpdateDate"),
    Column("order_status", "VARCHAR"),
    Column("asin", "VARCHAR"),
    Column("seller_sku", "VARCHAR"),
    Column("title", "VARCHAR"),
    Column("quantity_ordered", "INTEGER"),
    Column("quantity_shipped", "INTEGER"),
    Column("item_price_amount", MONEY, description="unit price x quantity; null while Pending"),
    Column("item_tax_amount", MONEY),
    Column("shipping_price_amount", MONEY),
    Column("shipping_tax_amount", MONEY),
    Column("shipping_discount_amount", MONEY),
    Column("promotion_discount_amount", MONEY),
    Column("promotion_discount_tax_amount", MONEY),
    Column("currency", "VARCHAR"),
    Column("promotion_ids", "VARCHAR", description="comma-separated"),
    Column("is_gift", "BOOLEAN"),
    Column("condition_id", "VARCHAR"),
    Column("source_api", "VARCHAR"),
)

ORDERS = TableSpec(
    name="orders",
    columns=_ORDER_COLUMNS,
    primary_key=("amazon_order_id",),
    partition_column="partition_date",
    version_column="last_update_date",
    description="Orders created in each day (the seed's Order Details); a partition is replaced on each run.",
)
ORDER_ITEMS = TableSpec(
    name="order_items",
    columns=_ITEM_COLUMNS,
    primary_key=("amazon_order_id", "order_item_id"),
    partition_column="partition_date",
    version_column="last_update_date",
    description="Items of the orders of each day (the seed's Order Items); a partition is replaced on each run.",
)
ORDERS_UPSERT = TableSpec(
    name="orders_upsert",
    columns=_ORDER_COLUMNS,
    primary_key=("amazon_order_id",),
    partition_column=None,
    version_column="last_update_date",
    description="Orders updated in each window, merged by order id, never regressing to an older update.",
)
ORDER_ITEMS_UPSERT = TableSpec(
    name="order_items_upsert",
    columns=_ITEM_COLUMNS,
    primary_key=("amazon_order_id", "order_item_id"),
    partition_column=None,
    version_column="last_update_date",
    description="Items of the orders updated in each window, merged by (order id, item id).",
)


# ------------------------------------------------------------------------------------------------
# The all-orders report inside DuckDB
# ------------------------------------------------------------------------------------------------

# The flat file's columns each ``order_items`` column comes from (snake_cased headers), in table order;
# None: not in the report (null). ``quantity_shipped``, ``order_item_id``, ``partition_date`` and
# ``source_api`` are derived (see ``order_items_from_report_sql``).
_REPORT_SOURCES: dict[str, str | None] = {
    "amazon_order_id": "amazon_order_id", "purchase_date": "purchase_date", "last_update_date": "last_updated_date",
    "order_status": "order_status", "asin": "asin", "seller_sku": "sku", "title": "product_name",
    "quantity_ordered": "quantity", "item_price_amount": "item_price", "item_tax_amount": "item_tax",
    "shipping_price_amount": "shipping_price", "shipping_tax_amount": "shipping_tax",
    "shipping_discount_amount": "ship_promotion_discount", "promotion_discount_amount": "item_promotion_discount",
    "promotion_discount_tax_amount": None, "currency": "currency", "promotion_ids": "promotion_ids",
    "is_gift": None, "condition_id": None,
}
_REPORT_READS = (*dict.fromkeys(c for c in _REPORT_SOURCES.values() if c), "item_status")


@dataclass(frozen=True)
class ReportFileSql:
    """One all-orders flat file as DuckDB reads it: a ``label`` for messages (its name), its
    snake_cased ``columns`` and the ``relation`` (a ``read_csv(...)`` expression, every column text)."""

    label: str
    columns: tuple[str, ...]
    relation: str


def order_items_from_report_sql(files: Sequence[ReportFileSql], timezone: str,
                                text_format: TextFormat = ISO) -> str:
    """A DuckDB SELECT giving the ``order_items`` rows of all-orders flat files, with the meaning of
    the table below, computed while DuckDB reads the files.

    This is the ``order_items_source: report`` path: a 500k-row report is never held as Python
    rows (``Warehouse.replace_partition_from_sql`` inserts the SELECT's rows straight into the table).
    Each file's rows are numbered in file order (``row_number() OVER ()`` under DuckDB's preserved
    insertion order), so a SKU repeated in one order gets ``#2``, ``#3`` in the order of its lines.
    Typed values are read by ``text_format`` (``textformats.parse_sql``, as the report loader reads
    them); a value that does not read, or a row without amazon-order-id or purchase-date, fails the
    statement with a message naming the file, the row and the column, so nothing is written.

    The report is the bulk alternative to one getOrderItems call per order (``order_items_source:
    report``): one createReport for a day instead of thousands of calls. One row per order item.
    Columns that differ from the API path (``order_item_row_v0``):

    =================================  ==================================================================
    column                             from the report
    =================================  ==================================================================
    ``order_item_id``                  **synthesized**: the report has no OrderItemId. ``sku:<sku>``,
                                       with ``#2``, ``#3`` for a SKU repeated in one order (stable
                                       across runs as long as Amazon keeps the row order); it is
                                       not Amazon's id and does not join with getOrderItems rows
    ``quantity_shipped``               derived from ``item-status``: the quantity when ``Shipped``, 0
                                       when ``Unshipped`` or ``Cancelled``; **null** for a
                                       ``PartiallyShipped`` order (the report does not say which
                                       units left)
    ``promotion_discount_tax_amount``  **null**: not in the report
    ``is_gift``                        **null**: not in the report
    ``condition_id``                   **null**: not in the report
    ``promotion_ids``                  ``promotion-ids``; the report lists them while the order is
                                       Pending, when getOrderItems omits them
    ``order_status``                   ``order-status``, with the flat file's ``Cancelled`` written as
                                       the API's ``Canceled``
    ``source_api``                     ``"report"``
    =================================  ==================================================================

    Every other column has the API's value: ``partition_date`` is the local day of ``purchase-date``
    (as ``orders`` with ``query_date_type: created``), ``last_update_date`` is ``last-updated-date``,
    ``title`` is ``product-name``, ``quantity_ordered`` is ``quantity``, the amounts are ``item-price``
    (unit price x quantity, as ItemPrice), ``item-tax``, ``shipping-price``, ``shipping-tax``,
    ``ship-promotion-discount`` (ShippingDiscount) and ``item-promotion-discount``
    (PromotionDiscount), all empty (null) while the order is Pending, as the API's.
    """
    if not files:  # every day CANCELLED (no data): no rows, and the write still clears the days
        return ("SELECT " + ", ".join(f"CAST(NULL AS {column.type}) AS {_sql_name(column.name)}"
                                      for column in _ITEM_COLUMNS) + " WHERE false")
    for file in files:
        if not file.columns:
            raise ValueError(f"all-orders report {file.label} has no header row; nothing was written")
    types = {column.name: column.type for column in _ITEM_COLUMNS}
    labels = "[" + ", ".join(_sql_text(file.label) for file in files) + "]"

    def fail(message_sql: str) -> str:
        return (f"error('all-orders report ' || {labels}[_sp_file + 1] || ' row ' || _sp_row || {message_sql} || "
                f"'; nothing was written')")

    def read(source: str, sql_type: str) -> str:
        """The typed value of a text column; a value that is there but does not read fails the statement."""
        text = _sql_name(source)
        if parse_sql(sql_type, text, text_format) is None:
            return text
        message = _sql_text(f": {source} ") + f" || {text} || " + _sql_text(f" does not read as {sql_type}")
        return f"CASE WHEN {failed_sql(text, '_sp_' + source)} THEN {fail(message)} ELSE _sp_{source} END"

    typed = [source for target, source in _REPORT_SOURCES.items()
             if source and parse_sql(types[target], "x", text_format) is not None]
    parses = ", ".join(f"{parse_sql(types[target], _sql_name(source), text_format)} AS _sp_{source}"
                       for target, source in _REPORT_SOURCES.items() if source in typed)

    def numbered_rows(reads: Sequence[str]) -> str:
        """Every file's rows numbered in file order, with the ``reads`` columns (NULL where a file lacks one)."""
        return " UNION ALL ".join(
            f"SELECT {index} AS _sp_file, row_number() OVER () AS _sp_row, "
            + ", ".join(_sql_name(name) if name in file.columns else f"CAST(NULL AS VARCHAR) AS {_sql_name(name)}"
                        for name in reads)
            + f" FROM {file.relation}"
            for index, file in enumerate(files))

    renamed = {status: _sql_text(api) for status, api in _REPORT_ORDER_STATUS.items()}
    status = ("CASE " + " ".join(f"WHEN order_status = {_sql_text(s)} THEN {api}" for s, api in renamed.items())
              + " ELSE order_status END")
    quantity = read("quantity", types["quantity_ordered"])
    columns = {
        "amazon_order_id": (f"CASE WHEN amazon_order_id IS NULL OR purchase_date IS NULL THEN "
                            f"{fail(_sql_text(' has no amazon-order-id or purchase-date'))} ELSE amazon_order_id END"),
        "order_item_id": "'sku:' || coalesce(sku, '') || CASE WHEN _sp_n > 1 THEN '#' || _sp_n ELSE '' END",
        "partition_date": f"CAST(timezone({_sql_text(timezone)}, {read('purchase_date', TIMESTAMPTZ)}) AS DATE)",
        "order_status": status,
        "quantity_shipped": (f"CASE WHEN order_status = 'PartiallyShipped' THEN NULL "
                             f"WHEN item_status = 'Shipped' THEN {quantity} ELSE 0 END"),
        "source_api": _sql_text(SOURCE_REPORT),
    }
    selects = []
    for column in _ITEM_COLUMNS:
        source = _REPORT_SOURCES.get(column.name)
        expression = columns.get(column.name) or (read(source, column.type) if source else "NULL")
        selects.append(f"CAST({expression} AS {column.type}) AS {_sql_name(column.name)}")
    # The numbering of repeated SKUs reads the files twice: once for the keys alone, numbered by a window
    # whose sort holds three narrow columns (a window over whole rows spills most of the document to
    # disk under the memory limit: 2.7x slower at 2.2M rows), keeping only the repeats (few: usually
    # none); then once for the rows, streaming, joined with those repeats by file and row number.
    repeats = (f"SELECT _sp_file, _sp_row, _sp_n FROM (SELECT _sp_file, _sp_row, row_number() OVER (PARTITION BY "
               f"_sp_file, amazon_order_id, coalesce(sku, '') ORDER BY _sp_row) AS _sp_n FROM "
               f"({numbered_rows(('amazon_order_id', 'sku'))})) WHERE _sp_n > 1")
    return (f"WITH _sp_repeats AS ({repeats}), "
            f"_sp_numbered AS (SELECT _sp_src.*, coalesce(_sp_repeats._sp_n, 1) AS _sp_n, {parses} "
            f"FROM ({numbered_rows(_REPORT_READS)}) AS _sp_src "
            f"LEFT JOIN _sp_repeats USING (_sp_file, _sp_row)) "
            f"SELECT {', '.join(selects)} FROM _sp_numbered")


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------------------------------------
# Fetch: Amazon's pages to rows
# ------------------------------------------------------------------------------------------------

# getOrderItems allows 0.5 calls/s with a burst of 30: a few threads hide the network latency so the
# client runs at the bucket's rate instead of at one round trip per order.
ITEM_THREADS = 4
V2026_INCLUDED_DATA = ("FULFILLMENT", "PROCEEDS", "RECIPIENT", "PROMOTION")
V2026_STATUSES = {"Pending": "PENDING", "PendingAvailability": "PENDING_AVAILABILITY", "Unshipped": "UNSHIPPED",
                  "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "Canceled": "CANCELLED",
                  "Unfulfillable": "UNFULFILLABLE"}


def _window(by: str, start: datetime, end: datetime) -> dict[str, Any]:
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
    records = get_orders(client, [marketplace_id], order_statuses=list(statuses) or None,
                         **_window(by, start, end))
    return [order_row_v0(record, timezone, include_pii, _day_field(by, "v0")) for record in records]


def _item_rows_of(client: SPAPIClient, order: dict[str, Any]) -> list[dict[str, Any]]:
    return [order_item_row_v0(order, item) for item in get_order_items(client, order["amazon_order_id"])]


def fetch_item_rows(client: SPAPIClient, order_rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Orders v0: the items of each order (one getOrderItems call per order, all pages)."""
    orders = list(order_rows)
    with ThreadPoolExecutor(max_workers=ITEM_THREADS, thread_name_prefix="order-items") as pool:
        return [row for rows in pool.map(lambda order: _item_rows_of(client, order), orders) for row in rows]


def fetch_orders_with_items_v0(client: SPAPIClient, marketplace_id: str, timezone: str, start: datetime,
                               end: datetime, *, by: str = "created", statuses: Sequence[str] = (),
                               include_pii: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Orders v0: order rows and item rows, each order's getOrderItems started as soon as its page is in.

    getOrders (0.0167/s, burst 20) and getOrderItems (0.5/s, burst 30) are separate buckets. Reading
    every page first and the items after makes a pass take the SUM of both buckets' times; overlapping
    them makes it take the slower one's (issue 20: 28 s instead of 35 s for 14,000 orders at speed
    1000, about 2 h less on Amazon). Items come out in the orders' order, as ``fetch_item_rows``'s do.
    A failure on either side cancels the item calls not yet started and is raised.
    """
    orders: list[dict[str, Any]] = []
    futures: list[Future[list[dict[str, Any]]]] = []
    with ThreadPoolExecutor(max_workers=ITEM_THREADS, thread_name_prefix="order-items") as pool:
        try:
            for record in get_orders(client, [marketplace_id], order_statuses=list(statuses) or None,
                                     **_window(by, start, end)):
                row = order_row_v0(record, timezone, include_pii, _day_field(by, "v0"))
                orders.append(row)
                futures.append(pool.submit(_item_rows_of, client, row))
            items = [item for future in futures for item in future.result()]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return orders, items


def fetch_orders_with_items_2026(client: SPAPIClient, marketplace_id: str, timezone: str, start: datetime,
                                 end: datetime, *, by: str = "created", statuses: Sequence[str] = (),
                                 include_pii: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Orders v2026-01-01: one searchOrders pass over the window gives order rows and item rows."""
    included = V2026_INCLUDED_DATA + (("BUYER",) if include_pii else ())
    records = search_orders(
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
