"""Product Fees v0: getMyFeesEstimates ``POST /products/fees/v0/feesEstimate`` (0.5/s, burst 1).

The body is a JSON array of 1 to 20 ``FeesEstimateByIdRequest`` items; the answer is a bare JSON
array (no ``payload`` envelope) with one ``FeesEstimateResult`` per item, in request order. A malformed
body, more than 20 items, or a marketplace the token may not use is a 400 (403) for the whole call;
an identifier the seller does not list is that item's ``Status: ClientError`` inside the 200.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from sp_assets.sandbox.backends.product_fees import (
    FULFILLMENT_PROGRAMS,
    ID_TYPES,
    MAX_REQUESTS,
    ProductFeesBackend,
)
from sp_assets.sandbox.operations import ApiRequest, ApiResult, Operation, api_route, invalid
from sp_assets.sandbox.state import SandboxState

GET_MY_FEES_ESTIMATES = Operation("getMyFeesEstimates", 0.5, 1)
PATH = "/products/fees/v0/feesEstimate"


def build(state: SandboxState) -> list[Route]:
    state.backends["product_fees"] = ProductFeesBackend(state.seller)
    return [api_route("POST", PATH, GET_MY_FEES_ESTIMATES, get_my_fees_estimates, state)]


def get_my_fees_estimates(req: ApiRequest, state: SandboxState) -> ApiResult:
    items = req.json()
    if not isinstance(items, list) or not items:
        raise invalid(f"The body of getMyFeesEstimates must be a JSON array of 1 to {MAX_REQUESTS} "
                      "FeesEstimateByIdRequest items")
    if len(items) > MAX_REQUESTS:
        raise invalid(f"getMyFeesEstimates accepts at most {MAX_REQUESTS} FeesEstimateByIdRequest items per call, "
                      f"got {len(items)}")
    for index, item in enumerate(items):
        _validate(req, item, f"[{index}]")
    backend: ProductFeesBackend = state.backends["product_fees"]
    now = state.seller.now()
    return ApiResult([backend.estimate(item, now) for item in items])


def _validate(req: ApiRequest, item: Any, where: str) -> None:
    """One FeesEstimateByIdRequest as the model requires it; a 400 names the field and what is allowed."""
    if not isinstance(item, dict):
        raise invalid(f"{where} must be a FeesEstimateByIdRequest object")
    if item.get("IdType") not in ID_TYPES:
        raise invalid(f"{where}.IdType must be one of {', '.join(ID_TYPES)}, got {item.get('IdType')!r}")
    if not isinstance(item.get("IdValue"), str) or not item["IdValue"]:
        raise invalid(f"{where}.IdValue is required (the ASIN or SellerSKU)")
    request = item.get("FeesEstimateRequest")
    if not isinstance(request, dict):
        raise invalid(f"{where}.FeesEstimateRequest is required (MarketplaceId, PriceToEstimateFees, Identifier)")
    for name in ("MarketplaceId", "Identifier"):
        if not isinstance(request.get(name), str) or not request[name]:
            raise invalid(f"{where}.FeesEstimateRequest.{name} is required")
    req.check_marketplace(request["MarketplaceId"])
    if not isinstance(request.get("IsAmazonFulfilled", False), bool):
        raise invalid(f"{where}.FeesEstimateRequest.IsAmazonFulfilled must be true or false")
    program = request.get("OptionalFulfillmentProgram")
    if program is not None and program not in FULFILLMENT_PROGRAMS:
        raise invalid(f"{where}.FeesEstimateRequest.OptionalFulfillmentProgram must be one of "
                      f"{', '.join(FULFILLMENT_PROGRAMS)}, got {program!r}")
    price = request.get("PriceToEstimateFees")
    listing = price.get("ListingPrice") if isinstance(price, dict) else None
    if not isinstance(listing, dict) or not _is_amount(listing.get("Amount")) or not listing.get("CurrencyCode"):
        raise invalid(f"{where}.FeesEstimateRequest.PriceToEstimateFees.ListingPrice is required: "
                      "{CurrencyCode, Amount} with a number Amount >= 0")
    shipping = price.get("Shipping")  # type: ignore[union-attr]  # a dict: ListingPrice was read from it
    if shipping is not None and not (isinstance(shipping, dict) and _is_amount(shipping.get("Amount"))):
        raise invalid(f"{where}.FeesEstimateRequest.PriceToEstimateFees.Shipping must be "
                      "{CurrencyCode, Amount} with a number Amount >= 0")


def _is_amount(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
