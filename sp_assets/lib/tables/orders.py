"""Orders and order items: table specs and the mapping from Amazon's records to rows.

One schema whatever the API version: a column means the same thing from Orders v0 and from
v2026-01-01. Money is DECIMAL (Amazon sends v0 amounts as strings, and they are kept exact);
timestamps are TIMESTAMPTZ in UTC. ``partition_date`` is the seller's local day the row belongs to
(the day of the purchase in the marketplace's time zone), which is what a partition replaces.

Buyer details (``buyer_email``, ``buyer_name``) are personal data: they stay null unless the
marketplace's configuration sets ``include_pii: true``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sp_assets.lib.tables.base import Column, TableSpec

MONEY = "DECIMAL(18,2)"

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
