"""Product Fees v0 by SKU: getMyFeesEstimates at the seller's own current price, rows, spec.

**Amazon calls.** ``getMyFeesEstimates`` (``POST /products/fees/v0/feesEstimate``) takes a JSON array
of up to 20 ``FeesEstimateByIdRequest`` items and answers a bare array, one ``FeesEstimateResult``
per item with its own ``Status``: an unknown SKU is ``ClientError`` with an ``Error {Type, Code,
Message}`` inside the 200, not an HTTP error. The usage plan is 0.5 requests/s, burst 1 (in
``OPERATIONS``), so the client's bucket paces the batches.

**The price.** An estimate needs a price. The SKU's *current own* price is asked of Product Pricing
(``getPricing``, the call ``my_prices`` makes) for each batch of 20 just before its estimate, rather
than read from today's ``my_prices`` table: the asset then needs no other asset to have run today,
the price and its estimate are from the same moment, and the price sent (``price_amount``,
``shipping_amount``, and FBA or not from the offer's channel) is recorded beside the fees. The cost
is one getPricing call per 20 SKUs. A SKU getPricing does not know, or knows without an offer, gets
an error row (``error_code`` ``NoPrice``) and is never sent for an estimate.

**Rows.** One row per SKU and fee type (``ReferralFee``, ``FBAFees``...), money exact as DECIMAL; a
SKU whose estimate failed keeps one row with its ``status``, ``error_code`` and ``error_message`` and
``fee_type`` ``(none)`` (the key has no null), so errors are counted, not dropped.

Reads top to bottom as the data flows: the call, the outcome, the row mapping, the spec, the fetch the
asset calls. Nothing here touches DuckDB or Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sp_assets.lib.pricing import INVALID_SKU_STATUSES, batches, get_pricing
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tablespec import BOOLEAN, DATE, MONEY, TIMESTAMPTZ, VARCHAR, Column, TableSpec

# ------------------------------------------------------------------------------------------------
# Amazon calls
# ------------------------------------------------------------------------------------------------

FEES_ESTIMATE_PATH = "/products/fees/v0/feesEstimate"
MAX_BATCH = 20
ID_TYPE = "SellerSKU"


@dataclass(frozen=True)
class FeeRequest:
    """What one SKU's estimate is asked for: its price, shipping, currency and whether Amazon fulfils it."""

    sku: str
    marketplace_id: str
    listing_price: Decimal
    shipping: Decimal | None
    currency: str
    is_amazon_fulfilled: bool
    asin: str | None = None

    def body(self) -> dict[str, Any]:
        """The ``FeesEstimateByIdRequest`` (``Identifier`` is the SKU: it correlates the answer)."""
        price: dict[str, Any] = {"ListingPrice": _money(self.listing_price, self.currency)}
        if self.shipping is not None:
            price["Shipping"] = _money(self.shipping, self.currency)
        return {"IdType": ID_TYPE, "IdValue": self.sku, "FeesEstimateRequest": {
            "MarketplaceId": self.marketplace_id, "IsAmazonFulfilled": self.is_amazon_fulfilled,
            "PriceToEstimateFees": price, "Identifier": self.sku}}


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    """MoneyType with a JSON number (whole amounts as integers, so yen stay whole)."""
    number: int | float = int(amount) if amount == amount.to_integral_value() else float(amount)
    return {"CurrencyCode": currency, "Amount": number}


@dataclass(frozen=True)
class FeeOutcome:
    """Amazon's answer for one SKU: ``status`` ``Success`` with ``estimate``, or an error. ``request`` is
    ``None`` when no estimate could be asked for (getPricing gave no own price)."""

    sku: str
    request: FeeRequest | None
    status: str
    estimate: dict[str, Any] = field(default_factory=dict, repr=False)
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "Success"


def get_my_fees_estimates(client: SPAPIClient, requests: Sequence[FeeRequest],
                          batch_size: int = MAX_BATCH) -> Iterator[FeeOutcome]:
    """One outcome per request, in order; one call per ``batch_size`` (<= 20) requests."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1..{MAX_BATCH} (getMyFeesEstimates' limit), got {batch_size}")
    for start in range(0, len(requests), batch_size):
        batch = list(requests[start:start + batch_size])
        body = client.request("getMyFeesEstimates", "POST", FEES_ESTIMATE_PATH, json=[r.body() for r in batch])
        yield from fee_outcomes(body, batch)


def fee_outcomes(body: Any, batch: Sequence[FeeRequest]) -> Iterator[FeeOutcome]:
    """Match each result to its request by ``SellerInputIdentifier`` (else ``IdValue``); a request the
    answer lacks is ``NoResult``."""
    by_sku = {r.sku: r for r in batch}
    seen: set[str] = set()
    for result in body if isinstance(body, list) else []:
        if not isinstance(result, dict):
            continue
        ident = result.get("FeesEstimateIdentifier") or {}
        sku = ident.get("SellerInputIdentifier") if ident.get("SellerInputIdentifier") in by_sku else ident.get("IdValue")
        if sku not in by_sku or sku in seen:
            continue
        seen.add(sku)
        status = str(result.get("Status") or "Unknown")
        error = result.get("Error") or {}
        if status == "Success":
            yield FeeOutcome(sku, by_sku[sku], status, result.get("FeesEstimate") or {})
        else:
            yield FeeOutcome(sku, by_sku[sku], status, error_code=error.get("Code") or None,
                             error_message=error.get("Message") or None)
    for request in batch:
        if request.sku not in seen:
            yield FeeOutcome(request.sku, request, "NoResult", error_code="NoResult",
                             error_message="getMyFeesEstimates returned no result for this SKU")


# ------------------------------------------------------------------------------------------------
# Record-to-row mapping
# ------------------------------------------------------------------------------------------------

NO_FEE = "(none)"  # fee_type of a SKU's error row


def _amount(money: Any) -> Any:
    return money.get("Amount") if isinstance(money, dict) else None


def fee_rows(outcome: FeeOutcome, snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
    """One row per fee type of a successful estimate; one ``(none)`` row carrying the error otherwise."""
    request = outcome.request
    base = {
        "snapshot_date": snapshot_date, "sku": outcome.sku, "id_type": ID_TYPE,
        "asin": request.asin if request else None,
        "price_amount": request.listing_price if request else None,
        "shipping_amount": request.shipping if request else None,
        "currency": request.currency if request else None,
        "is_amazon_fulfilled": request.is_amazon_fulfilled if request else None, "status": outcome.status,
        "error_code": outcome.error_code, "error_message": outcome.error_message, "snapshot_time": snapshot_time,
    }
    details = [d for d in outcome.estimate.get("FeeDetailList") or [] if isinstance(d, dict)]
    total = _amount(outcome.estimate.get("TotalFeesEstimate"))
    if not outcome.ok or not details:
        return [{**base, "fee_type": NO_FEE, "fee_amount": None, "fee_promotion": None, "final_fee": None,
                 "total_fees_estimate": total}]
    return [{**base, "fee_type": str(d.get("FeeType") or NO_FEE), "fee_amount": _amount(d.get("FeeAmount")),
             "fee_promotion": _amount(d.get("FeePromotion")), "final_fee": _amount(d.get("FinalFee")),
             "total_fees_estimate": total}
            for d in details]


# ------------------------------------------------------------------------------------------------
# Table spec
# ------------------------------------------------------------------------------------------------

FEE_ESTIMATES = TableSpec(
    name="fee_estimates",
    columns=(
        Column("snapshot_date", DATE, nullable=False, description="the seller's local day of the snapshot"),
        Column("sku", VARCHAR, nullable=False),
        Column("asin", VARCHAR, description="from getPricing, when it knows the SKU"),
        Column("id_type", VARCHAR, description="SellerSKU"),
        Column("price_amount", MONEY, description="the SKU's own listing price the estimate is for (getPricing)"),
        Column("shipping_amount", MONEY, description="the shipping it charges (getPricing)"),
        Column("currency", VARCHAR),
        Column("is_amazon_fulfilled", BOOLEAN, description="FBA: the offer's fulfillment channel is Amazon"),
        Column("fee_type", VARCHAR, nullable=False,
               description="Amazon's FeeType (ReferralFee, FBAFees...); (none) on a SKU's error row"),
        Column("fee_amount", MONEY),
        Column("fee_promotion", MONEY),
        Column("final_fee", MONEY, description="fee_amount minus fee_promotion"),
        Column("total_fees_estimate", MONEY, description="the SKU's total, repeated on each of its rows"),
        Column("status", VARCHAR, nullable=False, description="Success, or the SKU's error status (ClientError...)"),
        Column("error_code", VARCHAR, description="Amazon's Error.Code (InvalidParameterValue...); NoPrice when "
                                                  "getPricing gave no own price to estimate on"),
        Column("error_message", VARCHAR),
        Column("snapshot_time", TIMESTAMPTZ, nullable=False, description="when the API was asked (UTC)"),
    ),
    primary_key=("snapshot_date", "sku", "fee_type"),
    partition_column="snapshot_date",
    description="Amazon's fee estimate per SKU at its own current price (getMyFeesEstimates after getPricing): "
                "one row per SKU and fee type per snapshot day; a SKU whose estimate failed keeps one row with "
                "its status and error.",
)


# ------------------------------------------------------------------------------------------------
# Fetch: the SKUs' prices, then their estimates, to rows
# ------------------------------------------------------------------------------------------------

class FeeEstimateItemError(RuntimeError):
    """Amazon answered a SKU with a status that is neither Success nor an invalid-SKU error."""


@dataclass
class FeeEstimates:
    """Every outcome by SKU (requested order), and the invalid SKUs with their status."""

    outcomes: list[FeeOutcome] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """SKUs without an estimate (invalid SKUs, SKUs without a price)."""
        return sum(1 for o in self.outcomes if not o.ok)

    def rows(self, snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
        return [row for o in self.outcomes for row in fee_rows(o, snapshot_date, snapshot_time)]


def fee_request(sku: str, marketplace_id: str, record: dict[str, Any]) -> FeeRequest | None:
    """The estimate request for a SKU from its getPricing entry: its own offer's price, shipping and
    channel; ``None`` when the entry has no offer with a listing price."""
    product = record.get("Product") or {}
    offers = [o for o in product.get("Offers") or [] if isinstance(o, dict)]
    offer = next((o for o in offers if o.get("SellerSKU") == sku), offers[0] if offers else None)
    buying = (offer or {}).get("BuyingPrice") or {}
    listing = buying.get("ListingPrice") or {}
    if offer is None or listing.get("Amount") is None or not listing.get("CurrencyCode"):
        return None
    shipping = _amount(buying.get("Shipping"))
    asin = ((product.get("Identifiers") or {}).get("MarketplaceASIN") or {}).get("ASIN")
    return FeeRequest(sku=sku, marketplace_id=marketplace_id, listing_price=Decimal(str(listing["Amount"])),
                      shipping=None if shipping is None else Decimal(str(shipping)), currency=listing["CurrencyCode"],
                      is_amazon_fulfilled=str(offer.get("FulfillmentChannel", "")).upper() == "AMAZON", asin=asin)


def _no_price(sku: str, status: str) -> FeeOutcome:
    return FeeOutcome(sku, None, status, error_code="NoPrice",
                      error_message=f"getPricing answered {status} for this SKU: no own price to estimate fees on")


def fetch_fee_estimates(client: SPAPIClient, marketplace_id: str, skus: Sequence[str]) -> FeeEstimates:
    """For each batch of 20 SKUs: their own prices (getPricing), then the estimates at those prices.

    Invalid SKUs (``ClientError``/``NoResult`` from either call) are kept as error rows and listed in
    ``invalid``; any other error status (``ServiceError``) raises, as a retry may cure it.
    """
    out = FeeEstimates()
    for batch in batches(skus, MAX_BATCH):
        requests: list[FeeRequest] = []
        for priced in get_pricing(client, marketplace_id, "Sku", batch):
            if priced.identifier not in batch:
                continue  # an echo Amazon mangled; the SKU itself comes back as NoResult
            request = fee_request(priced.identifier, marketplace_id, priced.record) if priced.ok else None
            if request is not None:
                requests.append(request)
                continue
            status = priced.status if not priced.ok else "NoOffer"
            _judge(status, priced.identifier, "getPricing")
            out.outcomes.append(_no_price(priced.identifier, status))
            if status in INVALID_SKU_STATUSES:
                out.invalid[priced.identifier] = status
        for outcome in get_my_fees_estimates(client, requests):
            if not outcome.ok:
                _judge(outcome.status, outcome.sku, "getMyFeesEstimates")
                out.invalid[outcome.sku] = outcome.status
            out.outcomes.append(outcome)
    order = {sku: i for i, sku in enumerate(dict.fromkeys(skus))}
    out.outcomes.sort(key=lambda o: order[o.sku])
    return out


def _judge(status: str, sku: str, operation: str) -> None:
    if status not in INVALID_SKU_STATUSES and status != "NoOffer":
        raise FeeEstimateItemError(f"{operation} answered SKU {sku!r} with status {status!r} (not Success, not an "
                                   "invalid SKU); nothing was written; retrying may help")
