"""Product Pricing v0 by SKU: getPricing (own offer) and getCompetitivePricing (buy box), rows, specs.

**Amazon calls.** Product Pricing v0: ``getPricing`` (own offers) and ``getCompetitivePricing``, by SKU or ASIN.

Amazon answers a batch of up to 20 identifiers with HTTP 200 and one entry per identifier, each with
its own ``status``; an unknown or malformed SKU is ``status: ClientError`` inside a 200, not an HTTP
error. So each entry comes back as a ``PricedItem`` or an ``InvalidItem`` and the caller decides
whether an invalid SKU is skipped or fails the run. SKUs travel percent-encoded (space, quotes,
``+``, ``/``, ``#`` included) by ``encode_query``.

**Rows.** Both tables are point-in-time snapshots: one row per SKU per snapshot day (the marketplace's local
day), the day replaced on each run. Pricing's ``Amount`` is a JSON number; it is kept exact as
DECIMAL (``12.5`` becomes ``12.50``, yen stay whole). Entries Amazon answers with a status other
than ``Success`` (an invalid SKU) never reach these functions: the asset decides what to do with them.

**Fetch.** ``fetch_priced`` sorts Amazon's entries into the valid records and the invalid SKUs (with
Amazon's status), and the asset applies the seed's "Continue on Invalid SKU Error" option to them.

The module reads top to bottom as the data flows: the Amazon calls, the record-to-row mapping, the table
specs, then the fetch functions the assets call (pages -> records -> rows). Nothing here touches
DuckDB or Dagster.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tablespec import (
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

# ------------------------------------------------------------------------------------------------
# Amazon calls
# ------------------------------------------------------------------------------------------------

PRICE_PATH = "/products/pricing/v0/price"
COMPETITIVE_PRICE_PATH = "/products/pricing/v0/competitivePrice"
MAX_BATCH = 20

ItemType = Literal["Sku", "Asin"]
ITEM_CONDITIONS = ("New", "Used", "Collectible", "Refurbished", "Club")


@dataclass(frozen=True)
class PricedItem:
    """An entry with ``status == "Success"``; ``record`` is Amazon's whole entry (``Product`` etc.)."""

    identifier: str
    item_type: str
    record: dict[str, Any] = field(repr=False)
    status: str = "Success"

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True)
class InvalidItem:
    """An identifier Amazon could not price: ``status`` is ``ClientError`` (unknown/invalid SKU or
    ASIN), ``ServerError``, or ``NoResult`` when the answer had no entry for it at all."""

    identifier: str
    item_type: str
    status: str
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return False


PricingOutcome = PricedItem | InvalidItem


def get_pricing(
    client: SPAPIClient,
    marketplace_id: str,
    item_type: ItemType,
    identifiers: Sequence[str],
    *,
    item_condition: str | None = None,
    offer_type: Literal["B2C", "B2B"] | None = None,
    batch_size: int = MAX_BATCH,
) -> Iterator[PricingOutcome]:
    """The seller's own offers for each SKU/ASIN; one outcome per identifier, batches of <= 20."""
    if item_condition is not None and item_condition not in ITEM_CONDITIONS:
        raise ValueError(f"item_condition must be one of {', '.join(ITEM_CONDITIONS)}, got {item_condition!r}")
    extra = {"ItemCondition": item_condition, "OfferType": offer_type}
    yield from _priced(client, "getPricing", PRICE_PATH, marketplace_id, item_type, identifiers, extra, batch_size)


def get_competitive_pricing(
    client: SPAPIClient,
    marketplace_id: str,
    item_type: ItemType,
    identifiers: Sequence[str],
    *,
    customer_type: Literal["Consumer", "Business"] | None = None,
    batch_size: int = MAX_BATCH,
) -> Iterator[PricingOutcome]:
    """Competitive prices (Buy Box, offer counts, sales ranks) for each SKU/ASIN, batches of <= 20."""
    extra = {"CustomerType": customer_type}
    yield from _priced(client, "getCompetitivePricing", COMPETITIVE_PRICE_PATH, marketplace_id, item_type,
                       identifiers, extra, batch_size)


def batches(identifiers: Sequence[str], size: int = MAX_BATCH) -> list[list[str]]:
    """Split into batches of at most ``size`` (<= 20), duplicates removed, order kept."""
    if not 1 <= size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1..{MAX_BATCH} (Amazon's limit), got {size}")
    unique = list(dict.fromkeys(identifiers))
    return [unique[i:i + size] for i in range(0, len(unique), size)]


def _priced(
    client: SPAPIClient,
    operation: str,
    path: str,
    marketplace_id: str,
    item_type: ItemType,
    identifiers: Sequence[str],
    extra: dict[str, Any],
    batch_size: int,
) -> Iterator[PricingOutcome]:
    if item_type not in ("Sku", "Asin"):
        raise ValueError(f"item_type must be 'Sku' or 'Asin', got {item_type!r}")
    if isinstance(identifiers, str):
        raise TypeError("identifiers must be a sequence of SKUs/ASINs, not one string")
    list_param = "Skus" if item_type == "Sku" else "Asins"
    for batch in batches(identifiers, batch_size):
        params = {"MarketplaceId": marketplace_id, "ItemType": item_type, list_param: batch, **extra}
        body = client.request(operation, "GET", path, params=params)
        yield from outcomes(body, item_type, batch)


def outcomes(body: Any, item_type: str, requested: Sequence[str]) -> Iterator[PricingOutcome]:
    """Turn one answer into one outcome per entry, plus ``NoResult`` for requested ids it lacks."""
    entries = body.get("payload") if isinstance(body, dict) else None
    wanted = set(requested)
    seen: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        identifier = _identifier_of(entry, item_type, wanted)
        seen.add(identifier)
        status = str(entry.get("status", ""))
        if status == "Success":
            yield PricedItem(identifier, item_type, entry)
        else:
            yield InvalidItem(identifier, item_type, status or "Unknown", entry)
    for identifier in requested:
        if identifier not in seen:
            yield InvalidItem(identifier, item_type, "NoResult")


def _identifier_of(entry: dict[str, Any], item_type: str, wanted: set[str]) -> str:
    """The requested identifier an entry answers; Amazon has echoed SKUs HTML-escaped (docs#3510)."""
    key = "SellerSKU" if item_type == "Sku" else "ASIN"
    raw = entry.get(key)
    if raw is None:
        identifiers = (entry.get("Product") or {}).get("Identifiers") or {}
        raw = (identifiers.get("SKUIdentifier") or {}).get("SellerSKU") if item_type == "Sku" else \
            (identifiers.get("MarketplaceASIN") or {}).get("ASIN")
    text = str(raw or "")
    if text in wanted:
        return text
    for candidate in (html.unescape(text), html.unescape(text).replace('\\"', '"')):
        if candidate in wanted:
            return candidate
    return text


# ------------------------------------------------------------------------------------------------
# Record-to-row mapping
# ------------------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------------------
# Table specs
# ------------------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------------------
# Fetch: Amazon's pages to rows
# ------------------------------------------------------------------------------------------------

# Per-item statuses that mean "Amazon does not know this SKU" (NoResult: no entry came back for it at
# all). Anything else that is not Success (ServerError) is an error worth a retry.
INVALID_SKU_STATUSES = frozenset({"ClientError", "NoResult"})

PricingCall = Callable[..., Iterator[PricingOutcome]]


class PricingItemError(RuntimeError):
    """Amazon answered a SKU with a status that is neither Success nor an invalid-SKU status."""


@dataclass
class PricedSkus:
    """What Amazon answered for the requested SKUs: records by SKU, and invalid SKUs with their status."""

    valid: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)


def fetch_priced(client: SPAPIClient, marketplace_id: str, skus: Sequence[str], call: PricingCall) -> PricedSkus:
    """Ask ``call`` (``get_pricing`` or ``get_competitive_pricing``) about ``skus``, batches of 20."""
    out = PricedSkus()
    wanted = set(skus)
    for outcome in call(client, marketplace_id, "Sku", list(skus)):
        if outcome.identifier not in wanted:
            continue  # an echo Amazon mangled beyond recognition; the SKU itself comes back as NoResult
        if outcome.ok:
            out.valid[outcome.identifier] = outcome.record
        elif outcome.status in INVALID_SKU_STATUSES:
            out.invalid[outcome.identifier] = outcome.status
        else:
            raise PricingItemError(f"getPricing answered SKU {outcome.identifier!r} with status {outcome.status!r} "
                                   "(not Success, not an invalid SKU); retrying may help")
    return out


def my_price_rows(priced: PricedSkus, snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
    return [my_price_row(sku, record, snapshot_date, snapshot_time) for sku, record in sorted(priced.valid.items())]


def competitive_price_rows(priced: PricedSkus, snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
    return [competitive_price_row(sku, record, snapshot_date, snapshot_time)
            for sku, record in sorted(priced.valid.items())]
