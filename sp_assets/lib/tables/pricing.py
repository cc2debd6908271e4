"""Product Pricing v0 by SKU: the seller's own offer (getPricing) and the buy box (getCompetitivePricing).

Both tables are point-in-time snapshots: one row per SKU per snapshot day (the marketplace's local
day), the day replaced on each run. Pricing's ``Amount`` is a JSON number; it is kept exact as
DECIMAL (``12.5`` becomes ``12.50``, yen stay whole). Entries Amazon answers with a status other
than ``Success`` (an invalid SKU) never reach these functions: the asset decides what to do with them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sp_assets.lib.tables.base import (
    BIGINT,
    BOOLEAN,
    DATE,
    JSON,
    MONEY,
    TIMESTAMPTZ,
    VARCHAR,
    Column,
    TableSpec,
)

_SNAPSHOT_COLUMNS = (
    Column("snapshot_date", DATE, nullable=False, description="the seller's local day of the snapshot"),
    Column("seller_sku", VARCHAR, nullable=False),
    Column("asin", VARCHAR),
)

MY_PRICES = TableSpec(
    name="my_prices",
    columns=(
        *_SNAPSHOT_COLUMNS,
        Column("seller_id", VARCHAR),
        Column("offer_count", BIGINT, description="offers Amazon returned for the SKU (0: listed, no offer)"),
        Column("item_condition", VARCHAR),
        Column("item_sub_condition", VARCHAR),
        Column("fulfillment_channel", VARCHAR, description="Amazon or Merchant"),
        Column("offer_type", VARCHAR, description="B2C or B2B"),
        Column("listing_price", MONEY),
        Column("shipping_price", MONEY),
        Column("landed_price", MONEY, description="listing price + shipping - points"),
        Column("regular_price", MONEY),
        Column("business_price", MONEY),
        Column("points_number", BIGINT),
        Column("points_value", MONEY),
        Column("currency", VARCHAR),
        Column("snapshot_time", TIMESTAMPTZ, nullable=False, description="when the API was asked (UTC)"),
    ),
    primary_key=("snapshot_date", "seller_sku"),
    partition_column="snapshot_date",
    description="The seller's own offer per SKU (the seed's My Price for SKU: getPricing, ItemType=Sku); "
                "one row per SKU per snapshot day.",
)

COMPETITIVE_PRICES = TableSpec(
    name="competitive_prices",
    columns=(
        *_SNAPSHOT_COLUMNS,
        Column("new_buy_box_listing_price", MONEY, description="CompetitivePriceId 1 (New buy box)"),
        Column("new_buy_box_shipping", MONEY),
        Column("new_buy_box_landed_price", MONEY),
        Column("new_buy_box_is_mine", BOOLEAN, description="belongsToRequester of the New buy box"),
        Column("used_buy_box_listing_price", MONEY, description="CompetitivePriceId 2 (Used buy box)"),
        Column("used_buy_box_shipping", MONEY),
        Column("used_buy_box_landed_price", MONEY),
        Column("new_offer_count", BIGINT),
        Column("used_offer_count", BIGINT),
        Column("any_offer_count", BIGINT),
        Column("currency", VARCHAR),
        Column("sales_rank", BIGINT, description="the first of SalesRankings"),
        Column("sales_rank_category_id", VARCHAR),
        Column("sales_rankings", JSON, description="every SalesRankings entry"),
        Column("competitive_prices", JSON, description="every CompetitivePrices entry"),
        Column("snapshot_time", TIMESTAMPTZ, nullable=False, description="when the API was asked (UTC)"),
    ),
    primary_key=("snapshot_date", "seller_sku"),
    partition_column="snapshot_date",
    description="Buy box prices, offer counts and sales ranks per SKU (the seed's Competitive Prices By SKU: "
                "getCompetitivePricing, ItemType=Sku); one row per SKU per snapshot day.",
)


def _amount(money: Any) -> Any:
    return money.get("Amount") if isinstance(money, dict) else None


def _currency(*moneys: Any) -> str | None:
    return next((m.get("CurrencyCode") for m in moneys if isinstance(m, dict) and m.get("CurrencyCode")), None)


def _channel(value: Any) -> str | None:
    """Amazon documents Amazon/Merchant; its sandbox has sent MERCHANT. One spelling in the table."""
    if not isinstance(value, str) or not value:
        return None
    return {"AMAZON": "Amazon", "MERCHANT": "Merchant"}.get(value.upper(), value)


def _asin(product: dict[str, Any]) -> str | None:
    return ((product.get("Identifiers") or {}).get("MarketplaceASIN") or {}).get("ASIN")


def my_price_row(sku: str, record: dict[str, Any], snapshot_date: date, snapshot_time: datetime) -> dict[str, Any]:
    """A successful getPricing entry for ``sku`` as a ``my_prices`` row (the SKU's own offer)."""
    product = record.get("Product") or {}
    offers = [o for o in product.get("Offers") or [] if isinstance(o, dict)]
    offer = next((o for o in offers if o.get("SellerSKU") == sku), offers[0] if offers else {})
    buying = offer.get("BuyingPrice") or {}
    points = buying.get("Points") or {}
    sku_identifier = (product.get("Identifiers") or {}).get("SKUIdentifier") or {}
    return {
        "snapshot_date": snapshot_date,
        "seller_sku": sku,
        "asin": _asin(product),
        "seller_id": sku_identifier.get("SellerId") or None,
        "offer_count": len(offers),
        "item_condition": offer.get("ItemCondition"),
        "item_sub_condition": offer.get("ItemSubCondition"),
        "fulfillment_channel": _channel(offer.get("FulfillmentChannel")),
        "offer_type": offer.get("offerType"),
        "listing_price": _amount(buying.get("ListingPrice")),
        "shipping_price": _amount(buying.get("Shipping")),
        "landed_price": _amount(buying.get("LandedPrice")),
        "regular_price": _amount(offer.get("RegularPrice")),
        "business_price": _amount(offer.get("businessPrice")),
        "points_number": points.get("PointsNumber"),
        "points_value": _amount(points.get("PointsMonetaryValue")),
        "currency": _currency(buying.get("ListingPrice"), offer.get("RegularPrice"), buying.get("LandedPrice")),
        "snapshot_time": snapshot_time,
    }


def _buy_box(prices: list[dict[str, Any]], price_id: str) -> dict[str, Any]:
    return next((p for p in prices if str(p.get("CompetitivePriceId")) == price_id), {})


def _offer_count(listings: list[Any], condition: str) -> int | None:
    """Amazon lists a count per condition that has offers: when it sent the list, a missing condition is 0."""
    counts = [c.get("Count") for c in listings
              if isinstance(c, dict) and str(c.get("condition", "")).lower() == condition]
    if counts:
        return counts[0]
    return 0 if listings else None


def competitive_price_row(sku: str, record: dict[str, Any], snapshot_date: date,
                          snapshot_time: datetime) -> dict[str, Any]:
    """A successful getCompetitivePricing entry for ``sku`` as a ``competitive_prices`` row."""
    product = record.get("Product") or {}
    pricing = product.get("CompetitivePricing") or {}
    prices = [p for p in pricing.get("CompetitivePrices") or [] if isinstance(p, dict)]
    listings = pricing.get("NumberOfOfferListings") or []
    ranks = [r for r in product.get("SalesRankings") or [] if isinstance(r, dict)]
    new, used = _buy_box(prices, "1"), _buy_box(prices, "2")
    new_price, used_price = new.get("Price") or {}, used.get("Price") or {}
    return {
        "snapshot_date": snapshot_date,
        "seller_sku": sku,
        "asin": _asin(product),
        "new_buy_box_listing_price": _amount(new_price.get("ListingPrice")),
        "new_buy_box_shipping": _amount(new_price.get("Shipping")),
        "new_buy_box_landed_price": _amount(new_price.get("LandedPrice")),
        "new_buy_box_is_mine": new.get("belongsToRequester"),
        "used_buy_box_listing_price": _amount(used_price.get("ListingPrice")),
        "used_buy_box_shipping": _amount(used_price.get("Shipping")),
        "used_buy_box_landed_price": _amount(used_price.get("LandedPrice")),
        "new_offer_count": _offer_count(listings, "new"),
        "used_offer_count": _offer_count(listings, "used"),
        "any_offer_count": _offer_count(listings, "any"),
        "currency": _currency(new_price.get("ListingPrice"), used_price.get("ListingPrice")),
        "sales_rank": ranks[0].get("Rank") if ranks else None,
        "sales_rank_category_id": ranks[0].get("ProductCategoryId") if ranks else None,
        "sales_rankings": ranks,
        "competitive_prices": prices,
        "snapshot_time": snapshot_time,
    }
