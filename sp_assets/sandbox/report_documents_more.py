"""More flat-file report documents: the seller reports other connectors offer (issue 14).

One generator per type, registered in ``MORE_FLAT_FILE_GENERATORS``, which this module adds to
``report_documents.FLAT_FILE_GENERATORS`` once defined (``report_documents`` imports it last: it
reuses its helpers; either module may be imported first). Each type's header is its catalog row's ``columns``; every row is derived from the same
synthetic seller as the orders, returns, inventory and settlement data, so the reports agree:

- FBA shipments, promotions and replacements are the AFN orders shipped in the window, with the
  shipment ids the settlement report posts and the fulfillment centers the ledger uses;
- the ledger detail lists the shipments and customer returns the ledger summary counts;
- reimbursements pay for carrier-damaged customer returns and a few units lost or damaged in the
  warehouse; removal orders and their shipments are one plan, cut at the request moment;
- the fee preview uses the storage fee report's dimensions and the settlement's fee rates
  (15% referral, 12% fulfilment); inventory planning, restock and stranded inventory use the FBA
  quantities of the inventory reports (``fba_levels``) and the units actually shipped;
- the listings reports filter the all-listings rows by status; stranded inventory is the FBA
  listings that are inactive or suppressed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TextIO

from sp_assets.lib.marketplaces import Marketplace
from sp_assets.lib.reports import catalog
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.report_documents import (
    DocumentSpec,
    FlatFileGenerator,
    TsvSink,
    day_start,
    days_between,
    fba_levels,
    hash_index,
    header,
    money,
    plans_purchased,
    report_time,
    returns_between,
    shipped_at,
    window_has_history,
)
from sp_assets.sandbox.seller import OrderItem, OrderPlan, Product, SyntheticSeller

_CARRIERS = ("UPS", "USPS", "FedEx", "AMZN_US")
_EU = ("uk", "de", "fr", "it", "es", "se")


def _centers(marketplace: Marketplace) -> tuple[str, ...]:
    return docs._FULFILLMENT_CENTERS[marketplace.region]


def _center_of(order_id: str, marketplace: Marketplace) -> str:
    """The fulfillment center an FBA order ships from (the ledger's rule)."""
    centers = _centers(marketplace)
    return centers[hash_index(order_id, len(centers))]


def _afn_products(seller: SyntheticSeller, marketplace_id: str) -> list[Product]:
    return [p for p in seller.products(marketplace_id) if p.fulfillment_channel == "AFN"]


def _digits(seller: SyntheticSeller, n: int, *parts: object) -> str:
    return str(seller.rng(*parts).randrange(10 ** (n - 1), 10**n))


def _shipped_in(seller: SyntheticSeller, spec: DocumentSpec, marketplace_id: str, channel: str,
                start: datetime | None = None) -> Iterator[tuple[OrderPlan, datetime]]:
    """Plans of ``channel`` shipped in [start, end of window), shipped by the request moment."""
    start = spec.data_start if start is None else start
    end = min(spec.end_exclusive, spec.as_of)
    for plan in plans_purchased(seller, marketplace_id, start - docs._SHIP_HORIZON, end):
        shipped = shipped_at(plan)
        if plan.fulfillment_channel == channel and shipped is not None and start <= shipped < end:
            yield plan, shipped


def _shipment_id(seller: SyntheticSeller, plan: OrderPlan) -> str:
    """The id the settlement report posts for this order's shipment."""
    return f"D{seller.rng('shipment', plan.amazon_order_id).randrange(10**8, 10**9)}"


def _shipment_item_id(seller: SyntheticSeller, item: OrderItem) -> str:
    return f"D{_digits(seller, 9, 'shipment-item', item.order_item_id)}"


def _write(report_type: str, out: TextIO, rows: Iterator[dict[str, str]]) -> int:
    sink = TsvSink(out, header(report_type))
    for values in rows:
        sink.mapping(values)
    sink.flush()
    return sink.rows


def _event_rows(spec: DocumentSpec, rows: Iterator[dict[str, str]]) -> Iterator[dict[str, str]]:
    """Event reports have no rows for windows outside the history Amazon keeps (the type's
    ``history_days`` when its catalog row has one, else the two years of every order report)."""
    days = catalog.lookup(spec.report_type).history_days
    if window_has_history(spec) and (days is None or spec.data_end >= spec.as_of - timedelta(days=days)):
        yield from rows


# ------------------------------------------------------------------------------------------ reimbursements
_REIMBURSE_DELAY = timedelta(days=2)


def write_reimbursements(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FBA_REIMBURSEMENTS_DATA: approvals in the window. Carrier-damaged customer returns are
    reimbursed two days after the return; about 2% of FBA SKUs a day have units lost or damaged in
    the warehouse."""
    return _write("GET_FBA_REIMBURSEMENTS_DATA", out, _event_rows(spec, _reimbursement_rows(seller, spec)))


def _reimbursement_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    end = min(spec.end_exclusive, spec.as_of)
    for marketplace in spec.marketplaces:
        mp, cur = marketplace.marketplace_id, marketplace.currency
        for event in returns_between(seller, mp, spec.data_start - _REIMBURSE_DELAY, end, spec.as_of):
            approved = event.at + _REIMBURSE_DELAY
            if event.disposition != "CARRIER_DAMAGED" or not spec.data_start <= approved < end:
                continue
            product = seller.product(mp, event.item.sku)
            unit = event.item.item_price / event.item.quantity
            yield _reimbursement(seller, approved, "CustomerReturn", event.plan.amazon_order_id, product, event.item.sku,
                                 event.item.asin, event.item.title, unit, event.quantity, cash=True, currency=cur)
        for day in days_between(spec.data_start, end):
            for product in _afn_products(seller, mp):
                rng = seller.rng("reimburse-warehouse", mp, product.sku, day.toordinal())
                if rng.random() >= 0.02:
                    continue
                approved = day_start(day) + timedelta(seconds=rng.randrange(86400))
                if not spec.data_start <= approved < end:
                    continue
                reason = rng.choice(("Lost_Warehouse", "Damaged_Warehouse"))
                yield _reimbursement(seller, approved, reason, "", product, product.sku, product.asin, product.title,
                                     product.price * Decimal("0.85"), rng.randint(1, 3), cash=rng.random() < 0.7,
                                     currency=cur)


def _reimbursement(seller: SyntheticSeller, approved: datetime, reason: str, order_id: str, product: Product | None,
                   sku: str, asin: str, title: str, unit: Decimal, quantity: int, cash: bool,
                   currency: str) -> dict[str, str]:
    rid = _digits(seller, 10, "reimbursement-id", sku, approved.isoformat())
    return {
        "approval-date": report_time(approved), "reimbursement-id": rid,
        "case-id": _digits(seller, 10, "case-id", rid) if reason == "CustomerReturn" else "",
        "amazon-order-id": order_id, "reason": reason, "sku": sku, "fnsku": product.fnsku if product else "",
        "asin": asin, "product-name": title, "condition": "New", "currency-unit": currency,
        "amount-per-unit": money(unit, currency) if cash else "0.00",
        "amount-total": money(unit * quantity, currency) if cash else "0.00",
        "quantity-reimbursed-cash": str(quantity if cash else 0),
        "quantity-reimbursed-inventory": str(0 if cash else quantity),
        "quantity-reimbursed-total": str(quantity), "original-reimbursement-id": "", "original-reimbursement-type": "",
    }


# ------------------------------------------------------------------------------------------ MFN returns
_MFN_RETURN_HORIZON = timedelta(days=35)


@dataclass(frozen=True)
class _MfnReturn:
    at: datetime
    plan: OrderPlan
    item: OrderItem
    quantity: int
    rma: str
    reason: str


def _mfn_returns(seller: SyntheticSeller, plan: OrderPlan) -> list[_MfnReturn]:
    """About 5% of shipped seller-fulfilled items are returned 1 to 25 days after shipping."""
    shipped = shipped_at(plan)
    if shipped is None or plan.fulfillment_channel != "MFN":
        return []
    rng = seller.rng("mfn-returns", plan.amazon_order_id)
    out = []
    for item in plan.items:
        if rng.random() < 0.05:
            at = (shipped + timedelta(days=rng.uniform(1, 25))).replace(microsecond=0)
            out.append(_MfnReturn(at, plan, item, rng.randint(1, item.quantity), f"D{rng.randrange(10**8, 10**9)}",
                                  rng.choice(docs._RETURN_REASONS)))
    return out


def write_mfn_returns(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE: seller-fulfilled returns requested in the window."""
    return _write("GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", out, _event_rows(spec, _mfn_return_rows(seller, spec)))


def _mfn_return_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    end = min(spec.end_exclusive, spec.as_of)
    for marketplace in spec.marketplaces:
        cur = marketplace.currency
        for plan in plans_purchased(seller, marketplace.marketplace_id, spec.data_start - _MFN_RETURN_HORIZON, end):
            for event in _mfn_returns(seller, plan):
                if not spec.data_start <= event.at < end:
                    continue
                delivered = event.at + timedelta(days=5)
                unit = event.item.item_price / event.item.quantity
                refunded = money(unit * event.quantity, cur) if delivered <= spec.as_of else ""
                yield {
                    "Order ID": plan.amazon_order_id, "Order date": plan.purchase_date.date().isoformat(),
                    "Return request date": report_time(event.at),
                    "Return request status": "Closed" if refunded else "Approved", "Amazon RMA ID": event.rma,
                    "Label type": "AmazonPrePaidLabel", "Label cost": money(Decimal("5.49"), cur),
                    "Currency code": cur, "Return carrier": "UPS", "Tracking ID": f"1Z{event.rma[1:]}",
                    "Label to be paid by": "Customer" if event.reason == "UNWANTED_ITEM" else "Seller",
                    "A-to-Z Claim": "N", "Is prime": "Y" if plan.is_prime else "N", "ASIN": event.item.asin,
                    "Merchant SKU": event.item.sku, "Item Name": event.item.title,
                    "Return quantity": str(event.quantity), "Return Reason": event.reason, "In policy": "Y",
                    "Return type": "C-Returns", "Resolution": "StandardRefund",
                    "Return delivery date": delivered.date().isoformat() if refunded else "",
                    "Order Amount": money(event.item.item_price, cur), "Order quantity": str(event.item.quantity),
                    "Refunded Amount": refunded,
                }


# ------------------------------------------------------------------------------------------ ledger detail
def write_ledger_detail(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_LEDGER_DETAIL_VIEW_DATA: the FBA shipments and customer returns the ledger summary counts,
    one row per event (shipments negative), Date month first as the summary writes it."""
    return _write("GET_LEDGER_DETAIL_VIEW_DATA", out, _event_rows(spec, _ledger_detail_rows(seller, spec)))


def _ledger_detail_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    end = min(spec.end_exclusive, spec.as_of)
    for marketplace in spec.marketplaces:
        mp = marketplace.marketplace_id
        for plan, shipped in _shipped_in(seller, spec, mp, "AFN"):
            for item in plan.items:
                yield _ledger_event(seller, marketplace, shipped, item.sku, "Shipments", _shipment_id(seller, plan),
                                    -item.quantity, _center_of(plan.amazon_order_id, marketplace), "SELLABLE")
        for event in returns_between(seller, mp, spec.data_start, end, spec.as_of):
            yield _ledger_event(seller, marketplace, event.at, event.item.sku, "CustomerReturns",
                                event.plan.amazon_order_id, event.quantity, event.fulfillment_center,
                                event.disposition, event.reason)


def _ledger_event(seller: SyntheticSeller, marketplace: Marketplace, at: datetime, sku: str, event_type: str,
                  reference: str, quantity: int, center: str, disposition: str, reason: str = "") -> dict[str, str]:
    product = seller.product(marketplace.marketplace_id, sku)
    return {"Date": at.astimezone(UTC).strftime("%m/%d/%Y"), "FNSKU": product.fnsku if product else "",
            "ASIN": product.asin if product else "", "MSKU": sku, "Title": product.title if product else "",
            "Event Type": event_type, "Reference ID": reference, "Quantity": str(quantity),
            "Fulfillment Center": center, "Disposition": disposition, "Reason": reason,
            "Country": marketplace.country_code, "Reconciled Quantity": "", "Unreconciled Quantity": "",
            "Date and Time": report_time(at)}


# ------------------------------------------------------------------------------------------ fee preview
_SIZE_BANDS = ("Small standard-size", "Large standard-size", "Large bulky")


def _dimensions(seller: SyntheticSeller, marketplace_id: str, sku: str) -> tuple[list[float], float, str]:
    """Sides (longest first, inches), weight (pounds) and size tier: the storage fee report's draws."""
    shape = seller.rng("storage-shape", marketplace_id, sku)
    sides = sorted((round(shape.uniform(2, 18), 2) for _ in range(3)), reverse=True)
    weight = shape.uniform(0.1, 12)
    band = _SIZE_BANDS[0] if sides[0] < 12 else _SIZE_BANDS[1] if sides[0] < 17 else _SIZE_BANDS[2]
    return sides, weight, band


def write_fee_preview(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA: every FBA SKU's estimated fees at its current price, with
    the settlement's rates (15% referral, 12% fulfilment); the EFN columns only in Europe."""
    return _write("GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA", out, _fee_preview_rows(seller, spec))


def _fee_preview_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    for marketplace in spec.marketplaces:
        mp, cur = marketplace.marketplace_id, marketplace.currency
        for product in _afn_products(seller, mp):
            sides, weight, band = _dimensions(seller, mp, product.sku)
            referral = product.price * Decimal("0.15")
            fulfilment = product.price * Decimal("0.12")
            row = {
                "sku": product.sku, "fnsku": product.fnsku, "asin": product.asin, "product-name": product.title,
                "product-group": product.category_name, "brand": product.brand, "fulfilled-by": "Amazon",
                "has-local-inventory": "Y", "your-price": money(product.price, cur),
                "sales-price": money(product.price, cur), "longest-side": f"{sides[0]:.2f}",
                "median-side": f"{sides[1]:.2f}", "shortest-side": f"{sides[2]:.2f}",
                "length-and-girth": f"{sides[0] + 2 * (sides[1] + sides[2]):.2f}", "unit-of-dimension": "inches",
                "item-package-weight": f"{weight:.2f}", "unit-of-weight": "pounds", "product-size-weight-band": band,
                "currency": cur, "estimated-fee-total": money(referral + fulfilment, cur),
                "estimated-referral-fee-per-unit": money(referral, cur),
                "estimated-variable-closing-fee": money(Decimal(0), cur),
                "expected-domestic-fulfilment-fee-per-unit": money(fulfilment, cur),
            }
            if marketplace.code in _EU:
                for country in _EU:
                    if country != marketplace.code:
                        row[f"expected-efn-fulfilment-fee-per-unit-{country}"] = money(
                            product.price * Decimal("0.14"), cur)
            yield row


# ------------------------------------------------------------------------------------------ FBA shipments
def write_fba_shipments(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL: FBA items shipped in the window (no buyer PII)."""
    return _write("GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL", out, _event_rows(spec, _fba_shipment_rows(seller, spec)))


def _fba_shipment_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    for marketplace in spec.marketplaces:
        for plan, shipped in _shipped_in(seller, spec, marketplace.marketplace_id, "AFN"):
            rng = seller.rng("fba-shipment", plan.amazon_order_id)
            carrier = rng.choice(_CARRIERS)
            tracking = f"1Z{rng.randrange(10**15, 10**16)}"
            for item in plan.items:
                cur = item.currency
                yield {
                    "amazon-order-id": plan.amazon_order_id, "shipment-id": _shipment_id(seller, plan),
                    "shipment-item-id": _shipment_item_id(seller, item), "amazon-order-item-id": item.order_item_id,
                    "purchase-date": report_time(plan.purchase_date), "payments-date": report_time(plan.purchase_date),
                    "shipment-date": report_time(shipped), "reporting-date": report_time(shipped + timedelta(hours=1)),
                    "sku": item.sku, "product-name": item.title, "quantity-shipped": str(item.quantity),
                    "currency": cur, "item-price": money(item.item_price, cur), "item-tax": money(item.item_tax, cur),
                    "shipping-price": money(item.shipping_price, cur), "shipping-tax": money(item.shipping_tax, cur),
                    "gift-wrap-price": money(Decimal(0), cur), "gift-wrap-tax": money(Decimal(0), cur),
                    "ship-service-level": plan.ship_service_level, "ship-city": plan.ship_city,
                    "ship-state": plan.ship_state, "ship-postal-code": plan.ship_postal_code,
                    "ship-country": plan.ship_country, "item-promotion-discount": money(-item.promotion_discount, cur),
                    "ship-promotion-discount": money(Decimal(0), cur), "carrier": carrier, "tracking-number": tracking,
                    "estimated-arrival-date": report_time(shipped + timedelta(days=3)),
                    "fulfillment-center-id": _center_of(plan.amazon_order_id, marketplace),
                    "fulfillment-channel": "AFN", "sales-channel": plan.sales_channel,
                }


def write_fba_promotions(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA: promotions on FBA items shipped in the window."""
    return _write("GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA", out,
                  _event_rows(spec, _promotion_rows(seller, spec)))


def _promotion_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    for marketplace in spec.marketplaces:
        for plan, shipped in _shipped_in(seller, spec, marketplace.marketplace_id, "AFN"):
            for item in plan.items:
                if item.promotion_discount and item.promotion_id:
                    yield {"shipment-date": report_time(shipped), "currency": item.currency,
                           "item-promotion-discount": money(-item.promotion_discount, item.currency),
                           "item-promotion-id": item.promotion_id, "description": f"Promotion {item.promotion_id}",
                           "promotion-rule-value": "PercentageOff", "amazon-order-id": plan.amazon_order_id,
                           "shipment-id": _shipment_id(seller, plan),
                           "shipment-item-id": _shipment_item_id(seller, item)}


_REPLACEMENT_AFTER = (2.0, 8.0)  # days after the original shipment
_REPLACEMENT_REASONS = ("DEFECTIVE", "DAMAGED_IN_TRANSIT", "WRONG_ITEM", "LOST_IN_TRANSIT")


def write_fba_replacements(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_REPLACEMENT_DATA: replacements shipped in the window for
    about 5% of FBA orders, 2 to 8 days after the original shipment."""
    return _write("GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_REPLACEMENT_DATA", out,
                  _event_rows(spec, _replacement_rows(seller, spec)))


def _replacement_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    end = min(spec.end_exclusive, spec.as_of)
    for marketplace in spec.marketplaces:
        since = spec.data_start - timedelta(days=_REPLACEMENT_AFTER[1])
        for plan, shipped in _shipped_in(seller, spec, marketplace.marketplace_id, "AFN", start=since):
            rng = seller.rng("replacement", plan.amazon_order_id)
            if rng.random() >= 0.05:
                continue
            at = (shipped + timedelta(days=rng.uniform(*_REPLACEMENT_AFTER))).replace(microsecond=0)
            if not spec.data_start <= at < end:
                continue
            item = plan.items[0]
            prefix = plan.amazon_order_id.split("-")[0]
            yield {"shipment-date": report_time(at), "sku": item.sku, "asin": item.asin,
                   "fulfillment-center-id": rng.choice(_centers(marketplace)),
                   "original-fulfillment-center-id": _center_of(plan.amazon_order_id, marketplace),
                   "quantity": "1", "replacement-reason-code": rng.choice(_REPLACEMENT_REASONS),
                   "replacement-amazon-order-id": f"{prefix}-{rng.randrange(10**6, 10**7)}-{rng.randrange(10**6, 10**7)}",
                   "original-amazon-order-id": plan.amazon_order_id}


# ------------------------------------------------------------------------------------------ removals
@dataclass(frozen=True)
class _Removal:
    order_id: str
    order_type: str  # Return (shipped back to the seller) or Disposal
    requested: datetime
    product: Product
    disposition: str
    quantity: int

    @property
    def done(self) -> datetime:
        """When Amazon shipped (Return) or disposed of (Disposal) the units."""
        return self.requested + timedelta(days=3)


def _removals_requested(seller: SyntheticSeller, marketplace_id: str, day: date) -> list[_Removal]:
    """About two removal orders a week per marketplace, of one to three FBA SKUs."""
    rng = seller.rng("removal-orders", marketplace_id, day.toordinal())
    products = _afn_products(seller, marketplace_id)
    if rng.random() >= 0.3 or not products:
        return []
    order_id = f"R{rng.randrange(10**9, 10**10)}"
    order_type = rng.choice(("Return", "Disposal"))
    requested = day_start(day) + timedelta(seconds=rng.randrange(86400))
    return [_Removal(order_id, order_type, requested, product, rng.choice(("Sellable", "Unsellable")),
                     rng.randint(1, 12)) for product in rng.sample(products, rng.randint(1, min(3, len(products))))]


def _removals_between(seller: SyntheticSeller, marketplace_id: str, start: datetime,
                      end: datetime) -> Iterator[_Removal]:
    for day in days_between(start, end):
        yield from _removals_requested(seller, marketplace_id, day)


def write_removal_orders(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA: removal orders requested in the window, with
    their state at the request moment."""
    return _write("GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA", out,
                  _event_rows(spec, _removal_order_rows(seller, spec)))


def _removal_order_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    end = min(spec.end_exclusive, spec.as_of)
    for marketplace in spec.marketplaces:
        cur = marketplace.currency
        fee = Decimal("100") if cur == "JPY" else Decimal("0.97")
        for removal in _removals_between(seller, marketplace.marketplace_id, spec.data_start, end):
            if not spec.data_start <= removal.requested < end:
                continue
            done = removal.done <= spec.as_of
            shipped = removal.quantity if done and removal.order_type == "Return" else 0
            disposed = removal.quantity if done and removal.order_type == "Disposal" else 0
            yield {
                "request-date": report_time(removal.requested), "order-id": removal.order_id,
                "order-type": removal.order_type, "service-speed": "Standard",
                "order-status": "Completed" if done else "Pending",
                "last-updated-date": report_time(removal.done if done else removal.requested),
                "sku": removal.product.sku, "fnsku": removal.product.fnsku, "disposition": removal.disposition,
                "requested-quantity": str(removal.quantity), "cancelled-quantity": "0",
                "disposed-quantity": str(disposed), "shipped-quantity": str(shipped),
                "in-process-quantity": str(removal.quantity - shipped - disposed),
                "removal-fee": money(fee * removal.quantity, cur), "currency": cur,
            }


def write_removal_shipments(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA: the Return removal orders shipped in the window."""
    return _write("GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA", out,
                  _event_rows(spec, _removal_shipment_rows(seller, spec)))


def _removal_shipment_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    end = min(spec.end_exclusive, spec.as_of)
    for marketplace in spec.marketplaces:
        since = spec.data_start - timedelta(days=4)
        for removal in _removals_between(seller, marketplace.marketplace_id, since, end):
            if removal.order_type != "Return" or not spec.data_start <= removal.done < end:
                continue
            rng = seller.rng("removal-shipment", removal.order_id)
            yield {"request-date": report_time(removal.requested), "order-id": removal.order_id,
                   "shipment-date": report_time(removal.done), "sku": removal.product.sku,
                   "fnsku": removal.product.fnsku, "disposition": removal.disposition,
                   "shipped-quantity": str(removal.quantity), "carrier": rng.choice(_CARRIERS[:3]),
                   "tracking-number": f"1Z{rng.randrange(10**15, 10**16)}", "removal-order-type": "Return"}


# ------------------------------------------------------------------------------------------ FBA inventory
@dataclass
class _Sold:
    units: int = 0
    sales: Decimal = Decimal(0)


def _shipped_by_sku(seller: SyntheticSeller, spec: DocumentSpec, marketplace_id: str,
                    days: tuple[int, ...]) -> dict[str, dict[int, _Sold]]:
    """FBA units and sales shipped in the last N days before the request, per SKU and N."""
    out: dict[str, dict[int, _Sold]] = defaultdict(lambda: {n: _Sold() for n in days})
    since = spec.as_of - timedelta(days=max(days))
    for plan in plans_purchased(seller, marketplace_id, since - docs._SHIP_HORIZON, spec.as_of):
        shipped = shipped_at(plan)
        if plan.fulfillment_channel != "AFN" or shipped is None or not since <= shipped <= spec.as_of:
            continue
        for item in plan.items:
            for n in days:
                if shipped >= spec.as_of - timedelta(days=n):
                    sold = out[item.sku][n]
                    sold.units += item.quantity
                    sold.sales += item.item_price
    return out


_PLANNING_DAYS = (7, 30, 60, 90)


def write_inventory_planning(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FBA_INVENTORY_PLANNING_DATA: per FBA SKU, the inventory reports' quantities split by age,
    the units and sales actually shipped in the last 7/30/60/90 days, and the supply they imply."""
    return _write("GET_FBA_INVENTORY_PLANNING_DATA", out, _planning_rows(seller, spec))


def _planning_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    today = spec.as_of.date().isoformat()
    for marketplace in spec.marketplaces:
        mp, cur = marketplace.marketplace_id, marketplace.currency
        levels = fba_levels(seller, spec, mp)
        sold = _shipped_by_sku(seller, spec, mp, _PLANNING_DAYS)
        for product in _afn_products(seller, mp):
            inv = levels.get(product.sku)
            if inv is None:
                continue
            rng = seller.rng("planning", mp, product.sku, spec.as_of.date().toordinal())
            ages = _split(inv.fulfillable, rng.random(), rng.random())
            units = {n: sold[product.sku][n].units for n in _PLANNING_DAYS}
            sales = {n: sold[product.sku][n].sales for n in _PLANNING_DAYS}
            daily = units[30] / 30
            supply = round(inv.fulfillable / daily) if daily else 365
            sides, _, _ = _dimensions(seller, mp, product.sku)
            volume = round(sides[0] * sides[1] * sides[2] / 1728, 4)
            excess = max(0, inv.fulfillable - round(daily * 90))
            yield {
                "snapshot-date": today, "sku": product.sku, "fnsku": product.fnsku, "asin": product.asin,
                "product-name": product.title, "condition": product.condition, "available": str(inv.fulfillable),
                "pending-removal-quantity": "0", "inv-age-0-to-90-days": str(ages[0]),
                "inv-age-91-to-180-days": str(ages[1]), "inv-age-181-to-270-days": str(ages[2]),
                "inv-age-271-to-365-days": "0", "inv-age-365-plus-days": "0", "currency": cur,
                **{f"units-shipped-t{n}": str(units[n]) for n in _PLANNING_DAYS},
                "alert": "Low inventory" if supply < 14 else "", "your-price": money(product.price, cur),
                "sales-price": money(product.price, cur), "lowest-price-new-plus-shipping": money(product.price, cur),
                "lowest-price-used": "", "recommended-action": "Create removal order" if excess else "No action required",
                "healthy-inventory-level": str(round(daily * 90)), "recommended-sales-price": "",
                "recommended-sale-duration-days": "", "recommended-removal-quantity": str(excess),
                "estimated-cost-savings-of-recommended-actions": money(Decimal(excess) * Decimal("0.10"), cur),
                "sell-through": f"{units[90] / max(1, inv.fulfillable):.2f}", "item-volume": f"{volume:.4f}",
                "volume-unit-measurement": "cubic feet", "storage-type": "Standard",
                "storage-volume": f"{volume * inv.fulfillable:.4f}", "marketplace": marketplace.country_code,
                "product-group": product.category_name, "sales-rank": str(rng.randint(100, 90000)),
                "days-of-supply": str(supply), "estimated-excess-quantity": str(excess),
                "weeks-of-cover-t30": f"{supply / 7:.2f}",
                "weeks-of-cover-t90": f"{inv.fulfillable / (units[90] / 90) / 7:.2f}" if units[90] else "52.14",
                "featuredoffer-price": money(product.price, cur),
                **{f"sales-shipped-last-{n}-days": money(sales[n], cur) for n in _PLANNING_DAYS},
                "inv-age-0-to-30-days": str(_split(ages[0], rng.random(), rng.random())[0]),
                "inv-age-31-to-60-days": "", "inv-age-61-to-90-days": "", "inv-age-181-to-330-days": str(ages[2]),
                "inv-age-331-to-365-days": "0",
                "estimated-storage-cost-next-month": money(Decimal(str(volume * inv.fulfillable)) * Decimal("0.78"),
                                                           cur),
                "inbound-quantity": str(inv.inbound_working + inv.inbound_shipped + inv.inbound_receiving),
                "inbound-working": str(inv.inbound_working), "inbound-shipped": str(inv.inbound_shipped),
                "inbound-received": str(inv.inbound_receiving), "no-sale-last-6-months": "0" if units[90] else "",
                "reserved-quantity": str(inv.reserved), "unfulfillable-quantity": str(inv.unsellable),
            }


def _split(total: int, first: float, second: float) -> tuple[int, int, int]:
    """``total`` in three parts, most of it young: fractions from two draws."""
    young = round(total * (0.6 + 0.4 * first))
    middle = round((total - young) * second)
    return young, middle, total - young - middle


def write_restock(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT: per FBA SKU, the inventory reports' quantities,
    the last 30 days' shipped units and sales, and a replenishment for 60 days of supply."""
    return _write("GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT", out, _restock_rows(seller, spec))


def _restock_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    for marketplace in spec.marketplaces:
        mp, cur = marketplace.marketplace_id, marketplace.currency
        levels = fba_levels(seller, spec, mp)
        sold = _shipped_by_sku(seller, spec, mp, (30,))
        for product in _afn_products(seller, mp):
            inv = levels.get(product.sku)
            if inv is None:
                continue
            last30 = sold[product.sku][30]
            daily = last30.units / 30
            inbound = inv.inbound_working + inv.inbound_shipped + inv.inbound_receiving
            at_amazon = round(inv.fulfillable / daily) if daily else 365
            total_supply = round((inv.fulfillable + inbound) / daily) if daily else 365
            replenish = max(0, round(daily * 60) - inv.fulfillable - inbound)
            customer_order = min(inv.reserved, last30.units // 10)
            alert = "out_of_stock" if inv.fulfillable == 0 else "reorder_now" if replenish else ""
            yield {
                "Country": marketplace.country_code, "Product Name": product.title, "FNSKU": product.fnsku,
                "Merchant SKU": product.sku, "ASIN": product.asin, "Condition": product.condition,
                "Currency code": cur, "Price": money(product.price, cur), "Sales last 30 days": money(last30.sales, cur),
                "Units Sold Last 30 Days": str(last30.units), "Total Units": str(inv.total), "Inbound": str(inbound),
                "Available": str(inv.fulfillable), "FC transfer": str(inv.reserved - customer_order),
                "FC Processing": "0", "Customer Order": str(customer_order), "Unfulfillable": str(inv.unsellable),
                "Working": str(inv.inbound_working), "Shipped": str(inv.inbound_shipped),
                "Receiving": str(inv.inbound_receiving), "Fulfilled by": "Amazon",
                "Total Days of Supply (including units from open shipments)": str(total_supply),
                "Days of Supply at Amazon Fulfillment Network": str(at_amazon), "Alert": alert,
                "Recommended replenishment qty": str(replenish),
                "Recommended ship date": spec.as_of.date().isoformat() if replenish else "",
                "Recommended action": "Create shipping plan" if replenish else "No action required",
                "Unit storage size": "Standard-size",
            }


def listing_suppressed(seller: SyntheticSeller, marketplace_id: str, sku: str) -> bool:
    """About 10% of the active listings are search-suppressed (the FYP report)."""
    return (not docs.listing_inactive(seller, marketplace_id, sku)
            and seller.rng("listing-suppressed", marketplace_id, sku).random() < 0.10)


def write_stranded(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_STRANDED_INVENTORY_UI_DATA: FBA SKUs with units in a fulfillment center and no buyable
    listing: the inactive listings and the suppressed ones."""
    return _write("GET_STRANDED_INVENTORY_UI_DATA", out, _stranded_rows(seller, spec))


def _stranded_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    for marketplace in spec.marketplaces:
        mp, cur = marketplace.marketplace_id, marketplace.currency
        levels = fba_levels(seller, spec, mp)
        for product in _afn_products(seller, mp):
            inv = levels.get(product.sku)
            inactive = docs.listing_inactive(seller, mp, product.sku)
            if inv is None or not (inactive or listing_suppressed(seller, mp, product.sku)):
                continue
            since = spec.as_of.date() - timedelta(days=seller.rng("stranded-since", mp, product.sku).randint(1, 60))
            yield {
                "primary-action": "Relist" if inactive else "Fix listing", "date-stranded": since.isoformat(),
                "Date-to-take-auto-removal": (since + timedelta(days=90)).isoformat(),
                "status-primary": "Stranded", "status-secondary": "Inactive" if inactive else "Search suppressed",
                "error-message": "" if inactive else "Missing required attribute",
                "stranded-reason": "Inactive listing" if inactive else "Suppressed listing",
                "asin": product.asin, "sku": product.sku, "fnsku": product.fnsku, "product-name": product.title,
                "condition": product.condition, "fulfilled-by": "Amazon", "fulfillable-qty": str(inv.fulfillable),
                "your-price": money(product.price, cur), "unfulfillable-qty": str(inv.unsellable),
                "reserved-quantity": str(inv.reserved), "inbound-shipped-qty": str(inv.inbound_shipped),
            }


def write_afn_by_country(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_AFN_INVENTORY_DATA_BY_COUNTRY: each FBA SKU's fulfillable units in each requested country."""
    return _write("GET_AFN_INVENTORY_DATA_BY_COUNTRY", out, _afn_by_country_rows(seller, spec))


def _afn_by_country_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    for marketplace in spec.marketplaces:
        levels = fba_levels(seller, spec, marketplace.marketplace_id)
        for product in _afn_products(seller, marketplace.marketplace_id):
            inv = levels.get(product.sku)
            if inv is not None:
                yield {"seller-sku": product.sku, "fulfillment-channel-sku": product.fnsku, "asin": product.asin,
                       "condition-type": "NewItem", "country": marketplace.country_code,
                       "quantity-for-local-fulfillment": str(inv.fulfillable)}


# ------------------------------------------------------------------------------------------ orders
_UNSHIPPED_LOOKBACK = timedelta(days=4)
_PROMISE = timedelta(days=3)


def write_unshipped_orders(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING: the seller-fulfilled items not yet shipped at the
    request moment (the orders getOrders shows Unshipped or PartiallyShipped); no buyer PII."""
    return _write("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", out, _unshipped_rows(seller, spec))


def _unshipped_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    for mp in spec.marketplace_ids:
        for plan in plans_purchased(seller, mp, spec.as_of - _UNSHIPPED_LOOKBACK, spec.as_of):
            order = plan.at(spec.as_of)
            if plan.fulfillment_channel != "MFN" or order is None or order.status not in ("Unshipped",
                                                                                         "PartiallyShipped"):
                continue
            promise = plan.purchase_date + _PROMISE
            for index, item in enumerate(plan.items):
                shipped = item.quantity if order.status == "PartiallyShipped" and index == 0 else 0
                yield {
                    "order-id": plan.amazon_order_id, "order-item-id": item.order_item_id,
                    "purchase-date": report_time(plan.purchase_date), "payments-date": report_time(plan.purchase_date),
                    "reporting-date": report_time(plan.purchase_date + timedelta(minutes=30)),
                    "promise-date": report_time(promise), "days-past-promise": str((spec.as_of - promise).days),
                    "sku": item.sku, "product-name": item.title, "quantity-purchased": str(item.quantity),
                    "quantity-shipped": str(shipped), "quantity-to-ship": str(item.quantity - shipped),
                    "ship-service-level": plan.ship_service_level, "ship-city": plan.ship_city,
                    "ship-state": plan.ship_state, "ship-postal-code": plan.ship_postal_code,
                    "ship-country": plan.ship_country, "is-business-order": "true" if plan.is_business_order else "false",
                    "price-designation": "BusinessPrice" if plan.is_business_order else "",
                    "is-prime": "true" if plan.is_prime else "false",
                }


def write_archived_orders(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE: the all-orders file's columns and rows for
    the window (Amazon moves orders to the archive as they age; the sandbox keeps one order history)."""
    return docs.write_all_orders(docs.orders_by_order_date(seller, spec), out, with_cpf=True)


# ------------------------------------------------------------------------------------------ listings
def _listings(report_type: str, keep: str) -> FlatFileGenerator:
    """A listings report: the all-listings rows whose status is ``keep`` (Active or Inactive)."""

    def write(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
        return _write(report_type, out, (row for row in docs.merchant_listing_rows(seller, spec)
                                         if row["status"] == keep))

    write.__doc__ = f"{report_type}: the all-listings rows whose status is {keep}."
    return write


def write_suppressed_listings(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_MERCHANTS_LISTINGS_FYP_REPORT: the search-suppressed listings and why."""
    return _write("GET_MERCHANTS_LISTINGS_FYP_REPORT", out, _suppressed_rows(seller, spec))


def _suppressed_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    for marketplace in spec.marketplaces:
        mp = marketplace.marketplace_id
        for product in seller.products(mp):
            if listing_suppressed(seller, mp, product.sku):
                since = spec.as_of.date() - timedelta(days=seller.rng("stranded-since", mp, product.sku).randint(1, 60))
                yield {"Status": "Search Suppressed", "Reason": "Missing information", "SKU": product.sku,
                       "ASIN": product.asin, "Product name": product.title, "Condition": product.condition,
                       "Status Change Date": since.isoformat(),
                       "Issue Description": "The main image is missing or does not meet the image requirements"}


# ------------------------------------------------------------------------------------------ feedback
_FEEDBACK_HORIZON = timedelta(days=30)
_FEEDBACK = ((5, "Great seller, fast shipping"), (5, "Exactly as described"), (4, "Good, arrived a day late"),
             (3, "OK"), (2, "Box was damaged"), (1, "Item never worked"))


def write_seller_feedback(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_SELLER_FEEDBACK_DATA: feedback left in the window on about 5% of shipped orders, 1 to 30
    days after shipping; Date written month first with a two-digit year, as Amazon's file does."""
    return _write("GET_SELLER_FEEDBACK_DATA", out, _event_rows(spec, _feedback_rows(seller, spec)))


def _feedback_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    end = min(spec.end_exclusive, spec.as_of)
    for mp in spec.marketplace_ids:
        for plan in plans_purchased(seller, mp, spec.data_start - _FEEDBACK_HORIZON - docs._SHIP_HORIZON, end):
            shipped = shipped_at(plan)
            rng = seller.rng("feedback", plan.amazon_order_id)
            if shipped is None or rng.random() >= 0.05:
                continue
            at = shipped + timedelta(days=rng.uniform(1, _FEEDBACK_HORIZON.days))
            if not spec.data_start <= at < end:
                continue
            rating, comment = rng.choice(_FEEDBACK)
            yield {"Date": at.astimezone(UTC).strftime("%m/%d/%y"), "Rating": str(rating), "Comments": comment,
                   "Response": "", "Order ID": plan.amazon_order_id, "Rater Email": plan.buyer_email}


# ------------------------------------------------------------------------------------------ registry
MORE_FLAT_FILE_GENERATORS: dict[str, FlatFileGenerator] = {
    "GET_FBA_REIMBURSEMENTS_DATA": write_reimbursements,
    "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE": write_mfn_returns,
    "GET_LEDGER_DETAIL_VIEW_DATA": write_ledger_detail,
    "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA": write_fee_preview,
    "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL": write_fba_shipments,
    "GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA": write_removal_orders,
    "GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA": write_removal_shipments,
    "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA": write_fba_promotions,
    "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_REPLACEMENT_DATA": write_fba_replacements,
    "GET_FBA_INVENTORY_PLANNING_DATA": write_inventory_planning,
    "GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT": write_restock,
    "GET_STRANDED_INVENTORY_UI_DATA": write_stranded,
    "GET_AFN_INVENTORY_DATA_BY_COUNTRY": write_afn_by_country,
    "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING": write_unshipped_orders,
    "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE": write_archived_orders,
    "GET_MERCHANT_LISTINGS_DATA": _listings("GET_MERCHANT_LISTINGS_DATA", "Active"),
    "GET_MERCHANT_LISTINGS_INACTIVE_DATA": _listings("GET_MERCHANT_LISTINGS_INACTIVE_DATA", "Inactive"),
    # Closing a listing makes it Inactive: the sandbox's inactive listings are the cancelled ones.
    "GET_MERCHANT_CANCELLED_LISTINGS_DATA": _listings("GET_MERCHANT_CANCELLED_LISTINGS_DATA", "Inactive"),
    "GET_MERCHANTS_LISTINGS_FYP_REPORT": write_suppressed_listings,
    "GET_SELLER_FEEDBACK_DATA": write_seller_feedback,
}
_UNKNOWN = sorted(set(MORE_FLAT_FILE_GENERATORS) - {row.name for row in catalog.CATALOG.values() if row.columns})
if _UNKNOWN:
    raise ValueError(f"report generators without a catalog row that declares their columns: {_UNKNOWN}")
docs.FLAT_FILE_GENERATORS.update(MORE_FLAT_FILE_GENERATORS)
