"""Finances v0 (listFinancialEvents, listFinancialEventGroups): what the seller kept, cut from the settlements.

Every event is built from the postings the settlement report is written from
(``report_documents.settlement_postings``; read here order by order with ``postings_by_order``, the same
set), so by construction:

* a shipment event's ``Principal`` charges are its order items' ``ItemPrice`` as getOrderItems serves them
  (tax, shipping, the promotion discount, Amazon's commission and FBA fee beside them);
* a refund event is one customer return (``plan_returns``): same order, item, quantity and moment;
* a Closed event group is one settlement period of one marketplace (its ``FinancialEventGroupId`` is
  the settlement id), and its ``OriginalTotal`` is the sum of the events posted in the period, which is
  the settlement report's ``total-amount``. The current period's group is Open; its total so far runs
  up to now.

Amazon answers for the whole account of the token's region (there is no marketplace parameter); the
events name their marketplace (``MarketplaceName``), the groups do not. Amounts are ``Currency``
objects whose ``CurrencyAmount`` is a JSON number (whole for JPY). A period's events are computed once
per window and kept (a page token re-reads the same list); a closed period's total never changes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sp_assets.lib.marketplaces import by_id, in_region
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.backends.sellers import seller_id
from sp_assets.sandbox.operations import iso
from sp_assets.sandbox.seller import SyntheticSeller

# How far before the request a window must end (Amazon: "more than two minutes before the time of request").
REQUEST_LAG = timedelta(minutes=2)
# PostedAfter and PostedBefore more than this apart: Amazon answers with an empty list.
MAX_WINDOW = timedelta(days=180)
# Amazon keeps two years of financial events.
HISTORY = timedelta(days=730)
MAX_PAGE_SIZE = 100
EVENTS_PAGE_SIZE = 100
GROUPS_PAGE_SIZE = 10
# The event lists every answer carries (empty where the synthetic seller has no such event).
EVENT_LISTS = ("ShipmentEventList", "RefundEventList", "GuaranteeClaimEventList", "ChargebackEventList",
               "ServiceFeeEventList", "AdjustmentEventList", "RetrochargeEventList", "FBALiquidationEventList",
               "RemovalShipmentEventList", "CouponPaymentEventList", "ProductAdsPaymentEventList",
               "SellerDealPaymentEventList")
_CHARGE_TYPES = {"Principal": "Principal", "Tax": "Tax", "Shipping": "ShippingCharge"}
PROMOTION_TYPE = "PromotionMetaDataDefinitionValue"
_WINDOW_CACHE = 16


def currency(amount: Decimal, code: str) -> dict[str, Any]:
    """Finances' ``Currency``: ``CurrencyAmount`` is a number (BigDecimal), whole for JPY."""
    return {"CurrencyCode": code, "CurrencyAmount": int(amount) if code == "JPY" else float(amount)}


@dataclass(frozen=True)
class FinancialEvent:
    """One event of one list (``ShipmentEventList`` or ``RefundEventList``) and the sum of its amounts."""

    list_name: str
    posted: datetime
    marketplace_id: str
    order_id: str
    amount: Decimal
    body: dict[str, Any]

    @property
    def sort_key(self) -> tuple[datetime, str, str, str]:
        return self.posted, self.list_name, self.order_id, self.marketplace_id


def events_from_postings(postings: Iterable[docs.Posting], marketplace_id: str) -> list[FinancialEvent]:
    """A shipment event per shipped order (its items' charges, fees and promotions), a refund event per return."""
    marketplace = by_id(marketplace_id)
    code = marketplace.currency
    shipments: dict[tuple[str, datetime], dict[str, dict[str, Any]]] = {}
    totals: dict[tuple[str, datetime], Decimal] = {}
    refunds: list[FinancialEvent] = []
    for p in postings:
        if p.transaction_type == "Refund":
            adjustment = {"SellerSKU": p.sku, "OrderItemId": p.order_item_code,
                          "OrderAdjustmentItemId": f"{p.order_item_code}-R{p.posted:%y%m%d%H%M%S}",
                          "QuantityShipped": int(p.quantity),
                          "ItemChargeAdjustmentList": [{"ChargeType": "Principal",
                                                        "ChargeAmount": currency(p.amount, code)}]}
            refunds.append(FinancialEvent("RefundEventList", p.posted, marketplace_id, p.order_id, p.amount, {
                "AmazonOrderId": p.order_id, "MarketplaceName": marketplace.sales_channel,
                "PostedDate": iso(p.posted), "ShipmentItemAdjustmentList": [adjustment]}))
            continue
        key = (p.order_id, p.posted)
        items = shipments.setdefault(key, {})
        item = items.setdefault(p.order_item_code, {"SellerSKU": p.sku, "OrderItemId": p.order_item_code,
                                                    "QuantityShipped": 0, "ItemChargeList": [],
                                                    "ItemFeeList": [], "PromotionList": []})
        totals[key] = totals.get(key, Decimal(0)) + p.amount
        if p.amount_type == "ItemPrice":
            if p.amount_description == "Principal":
                item["QuantityShipped"] = int(p.quantity)
            item["ItemChargeList"].append({"ChargeType": _CHARGE_TYPES[p.amount_description],
                                           "ChargeAmount": currency(p.amount, code)})
        elif p.amount_type == "ItemFees":
            item["ItemFeeList"].append({"FeeType": p.amount_description, "FeeAmount": currency(p.amount, code)})
        else:
            item["PromotionList"].append({"PromotionType": PROMOTION_TYPE, "PromotionId": p.promotion_id,
                                          "PromotionAmount": currency(p.amount, code)})
    events = [FinancialEvent("ShipmentEventList", posted, marketplace_id, order_id, totals[(order_id, posted)], {
        "AmazonOrderId": order_id, "SellerOrderId": order_id, "MarketplaceName": marketplace.sales_channel,
        "PostedDate": iso(posted), "ShipmentItemList": list(items.values())})
        for (order_id, posted), items in shipments.items()]
    return sorted(events + refunds, key=lambda e: e.sort_key)


def render_events(events: Iterable[FinancialEvent]) -> dict[str, list[dict[str, Any]]]:
    """``FinancialEvents``: every list of ``EVENT_LISTS``, the events in theirs."""
    lists: dict[str, list[dict[str, Any]]] = {name: [] for name in EVENT_LISTS}
    for event in events:
        lists[event.list_name].append(event.body)
    return lists


# Finances 2024-06-19 transactions: a financial event as one transaction, its components as breakdowns.
TRANSACTION_STATUSES = ("DEFERRED", "RELEASED", "DEFERRED_RELEASED")
_TRANSACTION_TEXT = {"ShipmentEventList": ("Shipment", "Order Payment"), "RefundEventList": ("Refund", "Refund Order")}
_BREAKDOWN_GROUPS = (("ProductCharges", ("ItemChargeList", "ItemChargeAdjustmentList"), "ChargeType", "ChargeAmount"),
                     ("Promotions", ("PromotionList",), "PromotionType", "PromotionAmount"),
                     ("AmazonFees", ("ItemFeeList",), "FeeType", "FeeAmount"))


def _amount(value: dict[str, Any]) -> Decimal:
    return Decimal(str(value["CurrencyAmount"]))


def _money_2024(amount: Decimal, code: str) -> dict[str, Any]:
    """The 2024-06-19 ``Currency``: lower-case names, a number amount."""
    rendered = currency(amount, code)
    return {"currencyCode": rendered["CurrencyCode"], "currencyAmount": rendered["CurrencyAmount"]}


def _breakdowns(items: list[dict[str, Any]], code: str) -> tuple[list[dict[str, Any]], Decimal]:
    """Two levels: a group (ProductCharges, Promotions, AmazonFees), then one leaf per component type;
    and the total of the leaves."""
    out, total = [], Decimal(0)
    for group, lists, type_key, amount_key in _BREAKDOWN_GROUPS:
        leaves: dict[str, Decimal] = {}
        for item in items:
            for name in lists:
                for component in item.get(name, []):
                    leaves[component[type_key]] = leaves.get(component[type_key], Decimal(0)) + _amount(
                        component[amount_key])
        if leaves:
            subtotal = sum(leaves.values(), Decimal(0))
            total += subtotal
            out.append({"breakdownType": group, "breakdownAmount": _money_2024(subtotal, code),
                        "breakdowns": [{"breakdownType": t, "breakdownAmount": _money_2024(a, code)}
                                       for t, a in leaves.items()]})
    return out, total


class FinancesBackend:
    def __init__(self, seller: SyntheticSeller) -> None:
        self.seller = seller
        self.seller_id = seller_id(seller.seed)
        self._windows: OrderedDict[tuple[str, str, str], list[FinancialEvent]] = OrderedDict()
        self._closed_totals: dict[tuple[str, int], Decimal] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------ ground truth
    def events(self, marketplace_id: str, start: datetime, end: datetime) -> list[FinancialEvent]:
        """The events of one marketplace posted in [start, end)."""
        if end <= start:
            return []
        return events_from_postings(docs.postings_by_order(self.seller, marketplace_id, start, end), marketplace_id)

    def region_events(self, region: str, start: datetime, end: datetime) -> list[FinancialEvent]:
        """The events of every marketplace of ``region`` posted in [start, end), oldest first (kept per window)."""
        key = (region, iso(start), iso(end))
        with self._lock:
            found = self._windows.get(key)
            if found is not None:
                self._windows.move_to_end(key)
                return found
        events = sorted((e for m in in_region(region) for e in self.events(m.marketplace_id, start, end)),
                        key=lambda e: e.sort_key)
        with self._lock:
            self._windows[key] = events
            while len(self._windows) > _WINDOW_CACHE:
                self._windows.popitem(last=False)
        return events

    def total(self, marketplace_id: str, start: datetime, end: datetime) -> Decimal:
        """The sum of a marketplace's postings in [start, end): a settlement period's total when it is one."""
        return sum((p.amount for p in docs.postings_by_order(self.seller, marketplace_id, start, end)), Decimal(0))

    def closed_total(self, marketplace_id: str, index: int) -> Decimal:
        key = (marketplace_id, index)
        with self._lock:
            found = self._closed_totals.get(key)
        if found is None:
            self._compute_closed_totals(marketplace_id, [index])
            with self._lock:
                found = self._closed_totals[key]
        return found

    def _compute_closed_totals(self, marketplace_id: str, indexes: list[int]) -> None:
        """The totals of several closed periods in one pass over their postings (kept: they never change)."""
        with self._lock:
            missing = sorted(i for i in indexes if (marketplace_id, i) not in self._closed_totals)
        if not missing:
            return
        totals = dict.fromkeys(missing, Decimal(0))
        start, end = docs.settlement_period(missing[0])[0], docs.settlement_period(missing[-1])[1]
        for posting in docs.postings_by_order(self.seller, marketplace_id, start, end):
            index = int((posting.posted - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD)
            if index in totals:
                totals[index] += posting.amount
        with self._lock:
            self._closed_totals.update({(marketplace_id, i): total for i, total in totals.items()})

    # ------------------------------------------------------------------------------ event groups
    def group(self, marketplace_id: str, index: int, now: datetime) -> dict[str, Any] | None:
        """The event group of one settlement period, as Amazon shows it at ``now`` (None before it opens)."""
        start, end = docs.settlement_period(index)
        if start > now:
            return None
        code = by_id(marketplace_id).currency
        group: dict[str, Any] = {"FinancialEventGroupId": docs.settlement_id(marketplace_id, index),
                                 "BeginningBalance": currency(Decimal(0), code),
                                 "FinancialEventGroupStart": iso(start)}
        if now < end:
            group.update({"ProcessingStatus": "Open",
                          "OriginalTotal": currency(self.total(marketplace_id, start, now), code)})
            return group
        total = self.closed_total(marketplace_id, index)
        deposit = end + timedelta(days=1)  # the settlement report's deposit-date
        rng = self.seller.rng("event-group", marketplace_id, index)
        group.update({"ProcessingStatus": "Closed",
                      "FundTransferStatus": "Succeeded" if now >= deposit else "Processing",
                      "OriginalTotal": currency(total, code), "ConvertedTotal": currency(total, code),
                      "FundTransferDate": iso(deposit), "TraceId": f"{rng.randrange(10**15, 10**16)}",
                      "AccountTail": f"{rng.randrange(100, 1000)}", "FinancialEventGroupEnd": iso(end)})
        return group

    def groups(self, region: str, started_after: datetime, started_before: datetime,
               now: datetime) -> list[dict[str, Any]]:
        """Groups of every marketplace of ``region`` opened in [started_after, started_before), oldest first."""
        first = max(0, -(-(started_after - docs.SETTLEMENT_ANCHOR) // docs.SETTLEMENT_PERIOD))
        out: list[dict[str, Any]] = []
        last = first
        while docs.settlement_period(last)[0] < started_before:
            last += 1
        closed = [i for i in range(first, last) if docs.settlement_period(i)[1] <= now]
        for marketplace in in_region(region):
            self._compute_closed_totals(marketplace.marketplace_id, closed)
        for index in range(first, last):
            for marketplace in in_region(region):
                group = self.group(marketplace.marketplace_id, index, now)
                if group is not None:
                    out.append(group)
        return out

    # ------------------------------------------------------------------------------ transactions (2024-06-19)
    def transaction(self, event: FinancialEvent) -> dict[str, Any]:
        """One financial event as a ``Transaction``: the same total, its components as breakdowns."""
        marketplace = by_id(event.marketplace_id)
        code = marketplace.currency
        transaction_type, description = _TRANSACTION_TEXT[event.list_name]
        items = event.body.get("ShipmentItemList") or event.body.get("ShipmentItemAdjustmentList") or []
        index = int((event.posted - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD)
        digest = hashlib.blake2b(f"{event.list_name}:{event.order_id}:{iso(event.posted)}".encode(),
                                 digest_size=12).hexdigest().upper()
        rendered_items = []
        for item in items:
            product = self.seller.product(event.marketplace_id, item["SellerSKU"])
            context: dict[str, Any] = {"contextType": "ProductContext", "sku": item["SellerSKU"],
                                       "quantityShipped": item["QuantityShipped"]}
            if product is not None:
                context.update({"asin": product.asin, "fulfillmentNetwork": product.fulfillment_channel})
            breakdowns, item_total = _breakdowns([item], code)
            rendered_item: dict[str, Any] = {
                "description": product.title if product is not None else item["SellerSKU"],
                "totalAmount": _money_2024(item_total, code), "breakdowns": breakdowns, "contexts": [context]}
            if item.get("OrderAdjustmentItemId"):
                rendered_item["relatedIdentifiers"] = [{"itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                                                        "itemRelatedIdentifierValue": item["OrderAdjustmentItemId"]}]
            rendered_items.append(rendered_item)
        return {
            "sellingPartnerMetadata": {"sellingPartnerId": self.seller_id, "accountType": "Standard Orders",
                                       "marketplaceId": event.marketplace_id},
            "relatedIdentifiers": [
                {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": event.order_id},
                {"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID",
                 "relatedIdentifierValue": docs.settlement_id(event.marketplace_id, index)}],
            "transactionType": transaction_type, "transactionId": f"T{digest}", "transactionStatus": "RELEASED",
            "description": description, "postedDate": iso(event.posted),
            "totalAmount": _money_2024(event.amount, code),
            "marketplaceDetails": {"marketplaceId": event.marketplace_id, "marketplaceName": marketplace.sales_channel},
            "items": rendered_items, "breakdowns": _breakdowns(items, code)[0],
        }

    def transactions(self, region: str, start: datetime, end: datetime,
                     marketplace_id: str | None = None) -> list[dict[str, Any]]:
        """Transactions posted in [start, end) in ``region`` (one marketplace when given), oldest first."""
        return [self.transaction(e) for e in self.region_events(region, start, end)
                if marketplace_id is None or e.marketplace_id == marketplace_id]
