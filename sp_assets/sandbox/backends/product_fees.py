"""Product Fees v0 (getMyFeesEstimates): what Amazon would charge for a listing at a given price.

An estimate applies the very rule the sandbox charges in settlements (``report_documents.item_fees``:
Commission on the item price, and for FBA a per-unit fulfilment fee) to one unit at the requested
``ListingPrice``, so an estimate and the settlement posting of a sale at that price agree to the cent.
Amazon names the same fees differently in estimates (``ReferralFee``, ``FBAFees``) and always lists a
``VariableClosingFee`` and a ``PerItemFee``, zero for this seller (a professional seller selling no
media). Shipping and points are echoed but charged nothing, as the settlement rule charges nothing on
them. ``IsAmazonFulfilled`` of the request decides whether FBA fees apply (it is the "what if" the
operation answers), not the listing's current channel.

A request for an identifier the catalog does not know, or priced in another currency than the
marketplace's, gets Amazon's per-item error inside the 200 answer: ``Status: ClientError`` with an
``Error {Type: Sender, Code: InvalidParameterValue, Message, Detail}``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sp_assets.lib.marketplaces import by_id
from sp_assets.sandbox.backends.pricing import money
from sp_assets.sandbox.backends.sellers import seller_id
from sp_assets.sandbox.operations import iso
from sp_assets.sandbox.report_documents import item_fees
from sp_assets.sandbox.seller import Product, SyntheticSeller

ID_TYPES = ("ASIN", "SellerSKU")
FULFILLMENT_PROGRAMS = ("FBA_CORE", "FBA_SNL", "FBA_EFN")
MAX_REQUESTS = 20
# The settlement's fee type -> the name Amazon gives the same fee in an estimate.
ESTIMATE_FEE_TYPES = {"Commission": "ReferralFee", "FBAPerUnitFulfillmentFee": "FBAFees"}
# Fees Amazon lists in every estimate that this seller is never charged.
ZERO_FEE_TYPES = ("VariableClosingFee", "PerItemFee")


def estimated_fees(price: Decimal, amazon_fulfilled: bool, currency: str) -> dict[str, Decimal]:
    """The fees (positive, by the estimate's fee type) of one unit sold at ``price``: the settlement rule."""
    channel = "AFN" if amazon_fulfilled else "MFN"
    charged = {ESTIMATE_FEE_TYPES[name]: -amount for name, amount in item_fees(price, price, 1, channel, currency)}
    ordered = {"ReferralFee": charged["ReferralFee"], **dict.fromkeys(ZERO_FEE_TYPES, Decimal(0))}
    if "FBAFees" in charged:
        ordered["FBAFees"] = charged["FBAFees"]
    return ordered


class ProductFeesBackend:
    def __init__(self, seller: SyntheticSeller) -> None:
        self.seller = seller
        self.seller_id = seller_id(seller.seed)

    def lookup(self, marketplace_id: str, id_type: str, id_value: str) -> Product | None:
        if id_type == "SellerSKU":
            return self.seller.product(marketplace_id, id_value)
        return self.seller.product_by_asin(marketplace_id, id_value)

    def estimate(self, item: dict[str, Any], as_of: datetime) -> dict[str, Any]:
        """One FeesEstimateResult for one validated FeesEstimateByIdRequest."""
        request = item["FeesEstimateRequest"]
        marketplace_id = request["MarketplaceId"]
        fulfilled = bool(request.get("IsAmazonFulfilled", False))
        identifier: dict[str, Any] = {
            "MarketplaceId": marketplace_id, "SellerId": self.seller_id, "IdType": item["IdType"],
            "IdValue": item["IdValue"], "IsAmazonFulfilled": fulfilled,
            "PriceToEstimateFees": request["PriceToEstimateFees"], "SellerInputIdentifier": request["Identifier"],
        }
        if request.get("OptionalFulfillmentProgram"):
            identifier["OptionalFulfillmentProgram"] = request["OptionalFulfillmentProgram"]
        product = self.lookup(marketplace_id, item["IdType"], item["IdValue"])
        currency = by_id(marketplace_id).currency
        listing = request["PriceToEstimateFees"]["ListingPrice"]
        if product is None:
            return _client_error(identifier, f"The {item['IdType']} {item['IdValue']!r} is not a valid listing of "
                                             f"this seller in marketplace {marketplace_id}.")
        if listing.get("CurrencyCode") != currency:
            return _client_error(identifier, f"ListingPrice.CurrencyCode must be {currency}, the currency of "
                                             f"marketplace {marketplace_id}; got {listing.get('CurrencyCode')!r}.")
        fees = estimated_fees(Decimal(str(listing["Amount"])), fulfilled, currency)
        details = [{"FeeType": fee_type, "FeeAmount": money(amount, currency),
                    "FeePromotion": money(Decimal(0), currency), "TaxAmount": money(Decimal(0), currency),
                    "FinalFee": money(amount, currency)}
                   for fee_type, amount in fees.items()]
        return {
            "Status": "Success",
            "FeesEstimateIdentifier": identifier,
            "FeesEstimate": {"TimeOfFeesEstimation": iso(as_of),
                             "TotalFeesEstimate": money(sum(fees.values(), Decimal(0)), currency),
                             "FeeDetailList": details},
        }


def _client_error(identifier: dict[str, Any], message: str) -> dict[str, Any]:
    return {"Status": "ClientError", "FeesEstimateIdentifier": identifier,
            "Error": {"Type": "Sender", "Code": "InvalidParameterValue", "Message": message, "Detail": []}}
