"""Product Pricing v0 (getPricing, getCompetitivePricing): the seller's own offers and the buy box.

My price is the catalog price (``product.price``) and never moves; the competitive (buy box) price,
the number of offers and the sales ranks move daily (seeded by marketplace, ASIN and UTC day).
Amounts are JSON numbers here (Orders v0 uses strings). An identifier the catalog does not know gets
its own entry ``{"status": "ClientError", "SellerSKU": ...}`` inside the 200 answer, as Amazon answers
for bad SKUs, and the answer's top-level ``errors`` (which GetPricingResponse declares beside
``payload``) names each one; see :func:`client_errors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sp_assets.sandbox.backends.catalog import CatalogBackend
from sp_assets.sandbox.backends.sellers import seller_id
from sp_assets.sandbox.seller import Product, SyntheticSeller

ITEM_TYPES = ("Asin", "Sku")
ITEM_CONDITIONS = ("New", "Used", "Collectible", "Refurbished", "Club")
OFFER_TYPES = ("B2C", "B2B")
CUSTOMER_TYPES = ("Consumer", "Business")
MAX_IDENTIFIERS = 20
# Standard shipping an MFN seller charges, in USD, converted like the seller's orders convert it.
_MFN_SHIPPING_USD = Decimal("4.99")


def money(amount: Decimal, currency: str) -> dict[str, Any]:
    """Pricing's MoneyType: ``Amount`` is a number (whole for JPY)."""
    exponent = Decimal("1") if currency == "JPY" else Decimal("0.01")
    value = amount.quantize(exponent, rounding=ROUND_HALF_UP)
    return {"CurrencyCode": currency, "Amount": int(value) if currency == "JPY" else float(value)}


@dataclass(frozen=True)
class CompetitiveSnapshot:
    """The buy box and offer counts of one product on one UTC day."""

    listing_price: Decimal
    shipping: Decimal
    new_offers: int
    used_offers: int
    used_listing_price: Decimal | None
    belongs_to_requester: bool

    @property
    def landed_price(self) -> Decimal:
        return self.listing_price + self.shipping


class PricingBackend:
    def __init__(self, seller: SyntheticSeller, catalog: CatalogBackend) -> None:
        self.seller = seller
        self.catalog = catalog
        self.seller_id = seller_id(seller.seed)

    # ------------------------------------------------------------------------------ ground truth
    def lookup(self, marketplace_id: str, item_type: str, identifier: str) -> Product | None:
        if item_type == "Sku":
            return self.seller.product(marketplace_id, identifier)
        return self.seller.product_by_asin(marketplace_id, identifier)

    def shipping(self, product: Product) -> Decimal:
        """What the seller charges for standard shipping: nothing for FBA, a flat fee for MFN."""
        if product.fulfillment_channel == "AFN":
            return Decimal(0)
        fx = self.seller.fx_rate(product.currency)
        return _round(_MFN_SHIPPING_USD * fx, product.currency)

    def competitive(self, marketplace_id: str, product: Product, as_of: datetime) -> CompetitiveSnapshot:
        rng = self.seller.rng("buybox", marketplace_id, product.asin, as_of.date().toordinal())
        ours = rng.random() < 0.55  # the seller holds the buy box on about half the days
        listing = product.price if ours else _round(product.price * Decimal(str(rng.uniform(0.88, 0.99))),
                                                    product.currency)
        used = rng.random() < 0.3
        return CompetitiveSnapshot(
            listing_price=listing, shipping=self.shipping(product) if ours else Decimal(0),
            new_offers=rng.randint(1, 14), used_offers=rng.randint(1, 4) if used else 0,
            used_listing_price=_round(listing * Decimal("0.72"), product.currency) if used else None,
            belongs_to_requester=ours,
        )

    # -------------------------------------------------------------------------------- rendering
    def pricing_entries(self, marketplace_id: str, item_type: str, identifiers: Sequence[str],
                        item_condition: str | None, offer_type: str) -> list[dict[str, Any]]:
        """getPricing's payload: one entry per requested identifier, in request order."""
        out = []
        for identifier in identifiers:
            product = self.lookup(marketplace_id, item_type, identifier)
            if product is None:
                out.append(self._client_error(marketplace_id, item_type, identifier))
                continue
            offers = [] if item_condition not in (None, product.condition) else [self._offer(product, offer_type)]
            entry = self._entry(marketplace_id, item_type, identifier, product)
            entry["Product"]["Offers"] = offers
            out.append(entry)
        return out

    def competitive_entries(self, marketplace_id: str, item_type: str, identifiers: Sequence[str],
                            customer_type: str, as_of: datetime) -> list[dict[str, Any]]:
        """getCompetitivePricing's payload: buy box prices, offer counts and sales ranks per identifier."""
        out = []
        for identifier in identifiers:
            product = self.lookup(marketplace_id, item_type, identifier)
            if product is None:
                out.append(self._client_error(marketplace_id, item_type, identifier))
                continue
            entry = self._entry(marketplace_id, item_type, identifier, product)
            entry["Product"]["CompetitivePricing"] = self._competitive_pricing(
                marketplace_id, product, customer_type, as_of)
            ranks = self.catalog.sales_ranks(marketplace_id, product, as_of.date())
            group = self.catalog.display_group(product)
            entry["Product"]["SalesRankings"] = [
                {"ProductCategoryId": group, "Rank": ranks.display_group_rank},
                {"ProductCategoryId": product.category_id, "Rank": ranks.classification_rank},
            ]
            out.append(entry)
        return out

    def _entry(self, marketplace_id: str, item_type: str, identifier: str, product: Product) -> dict[str, Any]:
        identifiers: dict[str, Any] = {"MarketplaceASIN": {"MarketplaceId": marketplace_id, "ASIN": product.asin}}
        if item_type == "Sku":
            identifiers["SKUIdentifier"] = {"MarketplaceId": marketplace_id, "SellerId": self.seller_id,
                                            "SellerSKU": product.sku}
        key = "SellerSKU" if item_type == "Sku" else "ASIN"
        return {"status": "Success", key: identifier, "Product": {"Identifiers": identifiers}}

    def _client_error(self, marketplace_id: str, item_type: str, identifier: str) -> dict[str, Any]:
        name = "SellerSKU" if item_type == "Sku" else "ASIN"
        return {"status": "ClientError", name: identifier}

    def _offer(self, product: Product, offer_type: str) -> dict[str, Any]:
        currency, ship = product.currency, self.shipping(product)
        offer: dict[str, Any] = {
            "offerType": offer_type,
            "BuyingPrice": {"ListingPrice": money(product.price, currency),
                            "LandedPrice": money(product.price + ship, currency),
                            "Shipping": money(ship, currency)},
            "RegularPrice": money(product.price, currency),
            "FulfillmentChannel": "Amazon" if product.fulfillment_channel == "AFN" else "Merchant",
            "ItemCondition": product.condition, "ItemSubCondition": product.condition,
            "SellerSKU": product.sku,
        }
        if offer_type == "B2B":
            offer["businessPrice"] = money(product.price * Decimal("0.95"), currency)
            offer["quantityDiscountPrices"] = [
                {"quantityTier": 5, "quantityDiscountType": "QUANTITY_DISCOUNT",
                 "listingPrice": money(product.price * Decimal("0.90"), currency)}]
        return offer

    def _competitive_pricing(self, marketplace_id: str, product: Product, customer_type: str,
                             as_of: datetime) -> dict[str, Any]:
        snap, currency = self.competitive(marketplace_id, product, as_of), product.currency
        offer_type = "B2B" if customer_type == "Business" else "B2C"
        prices = [{"CompetitivePriceId": "1", "condition": "New", "subcondition": "New", "offerType": offer_type,
                   "belongsToRequester": snap.belongs_to_requester,
                   "Price": {"LandedPrice": money(snap.landed_price, currency),
                             "ListingPrice": money(snap.listing_price, currency),
                             "Shipping": money(snap.shipping, currency)}}]
        counts = [{"condition": "New", "Count": snap.new_offers}]
        if snap.used_listing_price is not None:
            prices.append({"CompetitivePriceId": "2", "condition": "Used", "subcondition": "VeryGood",
                           "offerType": offer_type, "belongsToRequester": False,
                           "Price": {"LandedPrice": money(snap.used_listing_price, currency),
                                     "ListingPrice": money(snap.used_listing_price, currency),
                                     "Shipping": money(Decimal(0), currency)}})
            counts.append({"condition": "Used", "Count": snap.used_offers})
        counts.append({"condition": "Any", "Count": snap.new_offers + snap.used_offers})
        return {"CompetitivePrices": prices, "NumberOfOfferListings": counts}


def client_errors(marketplace_id: str, item_type: str, entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer's top-level ``errors``: one Error per entry that is not a Success, naming the identifier.

    The 200 answer carries them beside ``payload`` (GetPricingResponse has both); entries stay as Amazon
    shapes them (``status`` plus the identifier, no Product).
    """
    name = "SellerSKU" if item_type == "Sku" else "ASIN"
    return [{"code": "InvalidInput", "message": f"{entry[name]} is an invalid {name} for marketplace {marketplace_id}",
             "details": f"{name}={entry[name]}"}
            for entry in entries if entry.get("status") != "Success"]


def _round(value: Decimal, currency: str) -> Decimal:
    exponent = Decimal("1") if currency == "JPY" else Decimal("0.01")
    return value.quantize(exponent, rounding=ROUND_HALF_UP)
