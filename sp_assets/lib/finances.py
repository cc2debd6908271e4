"""Finances v0: what the seller kept. Financial events as one row per money component, and event groups.

**Amazon calls.** Finances v0: ``listFinancialEvents`` (events posted in a window) and
``listFinancialEventGroups`` (the settlement periods, Open or Closed). Pages continue with
``payload.NextToken`` sent with the original filters, under the operation's token bucket (0.5/s, burst 30).
Finances 2024-06-19: ``listTransactions`` (the same money as transactions with nested breakdowns, by
``marketplaceId``; ``payload.nextToken``, 0.5/s, burst 10).
Amazon refuses a window that ends less than two minutes before the request, so the end is clamped to
``now - REQUEST_LAG``; it answers for the whole account of the credential's region (no marketplace
parameter).

**Rows.** ``financial_events`` has one row per money component of an event: each charge, fee,
promotion, tax withheld or adjustment with its signed ``amount`` as Amazon sends it, so
``sum(amount)`` over a window is what the seller kept in it. An event names its marketplace
(``MarketplaceName``) where the model has the field; events of the other marketplaces are dropped,
and events without the field (service fees, adjustments...) are kept in every marketplace's table of
the account (counted in ``unattributed_events``). An event list this module does not know is kept, not
dropped: one row per event, ``component_kind = 'other'``, its JSON in ``raw`` and no amount. Some events
have no posted date (``ServiceFeeEvent``, amzn/selling-partner-api-models#449), so events are asked for
one local day at a time and such an event belongs to the day it was listed in.

``financial_event_groups`` has one row per group in the marketplace's currency (Amazon does not name
a group's marketplace; where marketplaces share a currency, as the euro ones do, the table holds the
account's groups in it). Its ``version`` orders a group's states (Closed after Open, then the fetch
time) so that a merge never turns a Closed group Open again.

Nothing here touches DuckDB or Dagster.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sp_assets.lib.marketplaces import Marketplace
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.spapi.pages import FINANCES_2024, FINANCES_V0, iter_pages, iter_records, payload_list
from sp_assets.lib.tablespec import BIGINT, DATE, MONEY, TIMESTAMPTZ, VARCHAR, Column, TableSpec

# ------------------------------------------------------------------------------------------------
# Amazon calls
# ------------------------------------------------------------------------------------------------

EVENTS_PATH = "/finances/v0/financialEvents"
GROUPS_PATH = "/finances/v0/financialEventGroups"
# Amazon: a window must end more than two minutes before the request; a margin covers clock skew.
REQUEST_LAG = timedelta(minutes=2, seconds=15)
# Amazon answers nothing for groups started more than 180 days apart: the groups asked for each run.
GROUPS_LOOKBACK = timedelta(days=179)
MAX_PAGE_SIZE = 100


def latest_end(now: datetime | None = None) -> datetime:
    """The latest window end Amazon accepts now (clamped with a margin)."""
    return (now or datetime.now(UTC)) - REQUEST_LAG


def list_financial_events(client: SPAPIClient, posted_after: datetime, posted_before: datetime,
                          page_size: int = MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
    """Yield each page's ``FinancialEvents`` (a mapping of list name to events) for [after, before)."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    params: dict[str, Any] = {"PostedAfter": posted_after, "PostedBefore": posted_before,
                              "MaxResultsPerPage": page_size}
    for body in iter_pages(client, "listFinancialEvents", EVENTS_PATH, params, FINANCES_V0):
        events = (body.get("payload") or {}).get("FinancialEvents") if isinstance(body, dict) else None
        yield events if isinstance(events, dict) else {}


def list_financial_event_groups(client: SPAPIClient, started_after: datetime,
                                started_before: datetime | None = None,
                                page_size: int = MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
    """Yield the event groups opened in [after, before) (before: as late as Amazon allows), all pages."""
    params: dict[str, Any] = {"FinancialEventGroupStartedAfter": started_after,
                              "FinancialEventGroupStartedBefore": started_before, "MaxResultsPerPage": page_size}
    yield from iter_records(client, "listFinancialEventGroups", GROUPS_PATH, params, FINANCES_V0,
                            payload_list("FinancialEventGroupList"))


TRANSACTIONS_PATH = "/finances/2024-06-19/transactions"


def list_transactions(client: SPAPIClient, marketplace_id: str, posted_after: datetime,
                      posted_before: datetime) -> Iterator[dict[str, Any]]:
    """Yield the transactions of one marketplace posted in [after, before), all pages."""
    params: dict[str, Any] = {"postedAfter": posted_after, "postedBefore": posted_before,
                              "marketplaceId": marketplace_id}
    yield from iter_records(client, "listTransactions", TRANSACTIONS_PATH, params, FINANCES_2024,
                            payload_list("transactions"))


# ------------------------------------------------------------------------------------------------
# Record-to-row mapping
# ------------------------------------------------------------------------------------------------

CHARGE, FEE, PROMOTION, TAX_WITHHELD, ADJUSTMENT, OTHER = (
    "charge", "fee", "promotion", "tax_withheld", "adjustment", "other")


@dataclass(frozen=True)
class Component:
    """One money component of an event: where it sits in the event, its kind and type, its amount."""

    path: str
    kind: str
    type: str | None
    money: Any  # Amazon's Currency object {CurrencyCode, CurrencyAmount}
    order_item_id: str | None = None
    sku: str | None = None
    quantity: Any = None


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _charges(path: str, items: Any, kind: str = CHARGE, **where: Any) -> Iterator[Component]:
    for k, c in enumerate(_list(items)):
        yield Component(f"{path}[{k}]", kind, c.get("ChargeType"), c.get("ChargeAmount"), **where)


def _fees(path: str, items: Any, **where: Any) -> Iterator[Component]:
    for k, f in enumerate(_list(items)):
        yield Component(f"{path}[{k}]", FEE, f.get("FeeType"), f.get("FeeAmount"), **where)


def _promotions(path: str, items: Any, **where: Any) -> Iterator[Component]:
    for k, p in enumerate(_list(items)):
        yield Component(f"{path}[{k}]", PROMOTION, p.get("PromotionType"), p.get("PromotionAmount"), **where)


def _taxes_withheld(path: str, items: Any, **where: Any) -> Iterator[Component]:
    for k, t in enumerate(_list(items)):
        yield from _charges(f"{path}[{k}].TaxesWithheld", t.get("TaxesWithheld"), TAX_WITHHELD, **where)


def _shipment_components(event: dict[str, Any]) -> Iterator[Component]:
    """ShipmentEvent (shipments, refunds, guarantee claims, chargebacks): order-level, then each item's."""
    yield from _charges("OrderChargeList", event.get("OrderChargeList"))
    yield from _charges("OrderChargeAdjustmentList", event.get("OrderChargeAdjustmentList"))
    for name in ("ShipmentFeeList", "ShipmentFeeAdjustmentList", "OrderFeeList", "OrderFeeAdjustmentList"):
        yield from _fees(name, event.get(name))
    for k, d in enumerate(_list(event.get("DirectPaymentList"))):
        yield Component(f"DirectPaymentList[{k}]", CHARGE, d.get("DirectPaymentType"), d.get("DirectPaymentAmount"))
    for list_name in ("ShipmentItemList", "ShipmentItemAdjustmentList"):
        for i, item in enumerate(_list(event.get(list_name))):
            where: dict[str, Any] = {"order_item_id": item.get("OrderItemId"), "sku": item.get("SellerSKU"),
                                     "quantity": item.get("QuantityShipped")}
            base = f"{list_name}[{i}]"
            yield from _charges(f"{base}.ItemChargeList", item.get("ItemChargeList"), **where)
            yield from _charges(f"{base}.ItemChargeAdjustmentList", item.get("ItemChargeAdjustmentList"), **where)
            yield from _fees(f"{base}.ItemFeeList", item.get("ItemFeeList"), **where)
            yield from _fees(f"{base}.ItemFeeAdjustmentList", item.get("ItemFeeAdjustmentList"), **where)
            yield from _promotions(f"{base}.PromotionList", item.get("PromotionList"), **where)
            yield from _promotions(f"{base}.PromotionAdjustmentList", item.get("PromotionAdjustmentList"), **where)
            yield from _taxes_withheld(f"{base}.ItemTaxWithheldList", item.get("ItemTaxWithheldList"), **where)
            for points in ("CostOfPointsGranted", "CostOfPointsReturned"):
                if isinstance(item.get(points), dict):
                    yield Component(f"{base}.{points}", CHARGE, points, item[points], **where)


def _service_fee_components(event: dict[str, Any]) -> Iterator[Component]:
    yield from _fees("FeeList", event.get("FeeList"), sku=event.get("SellerSKU"))


def _adjustment_components(event: dict[str, Any]) -> Iterator[Component]:
    """The adjustment's total (its AdjustmentItemList breaks the same amount down, so it is not added)."""
    items = _list(event.get("AdjustmentItemList"))
    skus = {i.get("SellerSKU") for i in items if i.get("SellerSKU")}
    quantity = sum(int(i["Quantity"]) for i in items if str(i.get("Quantity") or "").lstrip("-").isdigit()) \
        if items else None
    yield Component("AdjustmentAmount", ADJUSTMENT, event.get("AdjustmentType"), event.get("AdjustmentAmount"),
                    sku=skus.pop() if len(skus) == 1 else None, quantity=quantity)


def _retrocharge_components(event: dict[str, Any]) -> Iterator[Component]:
    for name in ("BaseTax", "ShippingTax"):
        if isinstance(event.get(name), dict):
            yield Component(name, CHARGE, name, event[name])
    yield from _taxes_withheld("RetrochargeTaxWithheldList", event.get("RetrochargeTaxWithheldList"))


def _liquidation_components(event: dict[str, Any]) -> Iterator[Component]:
    yield Component("LiquidationProceedsAmount", CHARGE, "LiquidationProceeds", event.get("LiquidationProceedsAmount"))
    yield Component("LiquidationFeeAmount", FEE, "LiquidationFee", event.get("LiquidationFeeAmount"))


def _removal_components(event: dict[str, Any]) -> Iterator[Component]:
    for i, item in enumerate(_list(event.get("RemovalShipmentItemList"))):
        where = {"order_item_id": item.get("RemovalShipmentItemId"), "quantity": item.get("Quantity")}
        for name, kind in (("Revenue", CHARGE), ("FeeAmount", FEE), ("TaxAmount", CHARGE),
                           ("TaxWithheld", TAX_WITHHELD)):
            if isinstance(item.get(name), dict):
                yield Component(f"RemovalShipmentItemList[{i}].{name}", kind, name, item[name], **where)


def _coupon_components(event: dict[str, Any]) -> Iterator[Component]:
    """The fee and the charge (TotalAmount is their sum, so it is not added)."""
    fee, charge = event.get("FeeComponent") or {}, event.get("ChargeComponent") or {}
    if fee:
        yield Component("FeeComponent", FEE, fee.get("FeeType"), fee.get("FeeAmount"),
                        quantity=event.get("ClipOrRedemptionCount"))
    if charge:
        yield Component("ChargeComponent", CHARGE, charge.get("ChargeType"), charge.get("ChargeAmount"),
                        quantity=event.get("ClipOrRedemptionCount"))


def _product_ads_components(event: dict[str, Any]) -> Iterator[Component]:
    yield Component("transactionValue", FEE, "ProductAdsPayment", event.get("transactionValue"))


def _deal_components(event: dict[str, Any]) -> Iterator[Component]:
    yield Component("totalAmount", FEE, event.get("feeType"), event.get("totalAmount"))


@dataclass(frozen=True)
class EventKind:
    """How one of Amazon's event lists is read: its components and the ids it carries."""

    components: Callable[[dict[str, Any]], Iterator[Component]]
    order_id: str | None = "AmazonOrderId"
    seller_order_id: str | None = None
    has_marketplace: bool = False


_SHIPMENT = EventKind(_shipment_components, seller_order_id="SellerOrderId", has_marketplace=True)
# Amazon's list names without "EventList" are the event types; these are flattened component by component.
EVENT_KINDS: dict[str, EventKind] = {
    "Shipment": _SHIPMENT,
    "Refund": _SHIPMENT,
    "GuaranteeClaim": _SHIPMENT,
    "Chargeback": _SHIPMENT,
    "ServiceFee": EventKind(_service_fee_components),
    "Adjustment": EventKind(_adjustment_components, order_id=None),
    "Retrocharge": EventKind(_retrocharge_components, has_marketplace=True),
    "FBALiquidation": EventKind(_liquidation_components, order_id="OriginalRemovalOrderId"),
    "RemovalShipment": EventKind(_removal_components, order_id="OrderId", seller_order_id="MerchantOrderId"),
    "CouponPayment": EventKind(_coupon_components, order_id=None),
    "ProductAdsPayment": EventKind(_product_ads_components, order_id=None),
    "SellerDealPayment": EventKind(_deal_components, order_id=None),
}


def event_type(list_name: str) -> str:
    """``ShipmentEventList`` -> ``Shipment`` (the name Amazon's list has without ``EventList``)."""
    return list_name[: -len("EventList")] if list_name.endswith("EventList") else list_name


def _money(money: Any) -> tuple[Any, str | None]:
    if not isinstance(money, dict):
        return None, None
    return money.get("CurrencyAmount"), money.get("CurrencyCode")


def _posted(event: dict[str, Any]) -> datetime | None:
    value = event.get("PostedDate") or event.get("postedDate")
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _key(*parts: Any) -> str:
    text = json.dumps(parts, separators=(",", ":"), sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass
class EventRows:
    """The rows of a fetch and what was seen on the way (for the run's metadata)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    unknown_events: Counter[str] = field(default_factory=Counter)
    other_marketplaces: int = 0
    unattributed_events: int = 0

    def metadata(self) -> dict[str, Any]:
        return {"events": dict(self.events), "unknown_events": sum(self.unknown_events.values()),
                "unknown_event_lists": dict(self.unknown_events), "other_marketplace_events": self.other_marketplaces,
                "unattributed_events": self.unattributed_events}


def flatten_events(pages: Iterator[dict[str, Any]] | list[dict[str, Any]], marketplace: Marketplace,
                   listed_day: date, into: EventRows | None = None, timezone: str | None = None) -> EventRows:
    """Rows of every event of this marketplace in ``pages`` (``FinancialEvents`` mappings) listed for one
    day in ``timezone`` (the partitions' zone: the marketplace's unless configured UTC); an event without
    a posted date gets ``listed_day`` as its ``posted_date``."""
    out = into if into is not None else EventRows()
    zone = ZoneInfo(timezone or marketplace.timezone)
    seen: Counter[str] = Counter()
    for page in pages:
        for list_name, events in page.items():
            name = event_type(list_name)
            for event in _list(events):
                kind = EVENT_KINDS.get(name)
                if kind is not None and kind.has_marketplace and event.get("MarketplaceName") not in (
                        None, marketplace.sales_channel):
                    out.other_marketplaces += 1
                    continue
                if kind is None or not kind.has_marketplace or event.get("MarketplaceName") is None:
                    out.unattributed_events += 1
                posted = _posted(event)
                body_key = _key(name, event)
                seen[body_key] += 1
                event_key = _key(body_key, seen[body_key])  # identical events stay distinct rows
                base = {
                    "posted_date": posted.astimezone(zone).date() if posted else listed_day,
                    "posted_at": posted, "event_type": name,
                    "amazon_order_id": event.get(kind.order_id) if kind and kind.order_id else None,
                    "seller_order_id": event.get(kind.seller_order_id) if kind and kind.seller_order_id else None,
                }
                if kind is None:
                    out.unknown_events[name] += 1
                    out.rows.append({**base, "order_item_id": None, "sku": None, "quantity": None,
                                     "component_kind": OTHER, "component_type": None, "amount": None,
                                     "currency": None, "event_key": event_key,
                                     "raw": json.dumps(event, separators=(",", ":"), sort_keys=True)})
                    continue
                out.events[name] += 1
                for component in kind.components(event):
                    amount, currency = _money(component.money)
                    out.rows.append({**base, "order_item_id": component.order_item_id, "sku": component.sku,
                                     "quantity": component.quantity, "component_kind": component.kind,
                                     "component_type": component.type, "amount": amount, "currency": currency,
                                     "event_key": _key(event_key, component.path), "raw": None})
    return out


def _leaves(breakdowns: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, breakdown) of every breakdown without breakdowns under it: the money, counted once."""
    for k, breakdown in enumerate(_list(breakdowns)):
        here = f"{path}/{breakdown.get('breakdownType')}[{k}]"
        if _list(breakdown.get("breakdowns")):
            yield from _leaves(breakdown["breakdowns"], here)
        else:
            yield here, breakdown


def _related(transaction: dict[str, Any], name: str) -> str | None:
    return next((r.get("relatedIdentifierValue") for r in _list(transaction.get("relatedIdentifiers"))
                 if r.get("relatedIdentifierName") == name), None)


def transaction_rows(transaction: dict[str, Any], marketplace: Marketplace,
                     timezone: str | None = None) -> list[dict[str, Any]]:
    """One row per leaf breakdown of a ``Transaction`` (one row with its total when it has none);
    ``posted_date`` is the day in ``timezone`` (the partitions' zone, by default the marketplace's)."""
    zone = ZoneInfo(timezone or marketplace.timezone)
    value = transaction.get("postedDate")
    posted = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC) if isinstance(value, str) else None
    details = transaction.get("marketplaceDetails") or {}
    base = {
        "posted_date": posted.astimezone(zone).date() if posted else None, "posted_at": posted,
        "transaction_id": transaction.get("transactionId"), "transaction_type": transaction.get("transactionType"),
        "transaction_status": transaction.get("transactionStatus"), "description": transaction.get("description"),
        "amazon_order_id": _related(transaction, "ORDER_ID"),
        "financial_event_group_id": _related(transaction, "FINANCIAL_EVENT_GROUP_ID"),
        "marketplace_id": details.get("marketplaceId") or marketplace.marketplace_id,
    }
    leaves = list(_leaves(transaction.get("breakdowns"), "")) or [("totalAmount", {
        "breakdownType": None, "breakdownAmount": transaction.get("totalAmount")})]
    rows = []
    for path, leaf in leaves:
        money = leaf.get("breakdownAmount") or {}
        rows.append({**base, "breakdown_path": path, "breakdown_type": leaf.get("breakdownType"),
                     "amount": money.get("currencyAmount"), "currency": money.get("currencyCode")})
    return rows


_STATUS_RANK = {"Open": 0, "Closed": 1}


def group_row(group: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    """One ``FinancialEventGroup`` as a ``financial_event_groups`` row."""
    original, original_currency = _money(group.get("OriginalTotal"))
    converted, converted_currency = _money(group.get("ConvertedTotal"))
    beginning, _ = _money(group.get("BeginningBalance"))
    status = group.get("ProcessingStatus")
    return {
        "financial_event_group_id": group.get("FinancialEventGroupId"),
        "processing_status": status,
        "fund_transfer_status": group.get("FundTransferStatus"),
        "original_total_amount": original, "original_total_currency": original_currency,
        "converted_total_amount": converted, "converted_total_currency": converted_currency,
        "beginning_balance_amount": beginning,
        "fund_transfer_date": group.get("FundTransferDate"),
        "trace_id": group.get("TraceId"), "account_tail": group.get("AccountTail"),
        "group_start": group.get("FinancialEventGroupStart"), "group_end": group.get("FinancialEventGroupEnd"),
        "fetched_at": fetched_at,
        "version": f"{_STATUS_RANK.get(str(status), 0)}|{fetched_at.astimezone(UTC).isoformat()}",
    }


# ------------------------------------------------------------------------------------------------
# Table specs
# ------------------------------------------------------------------------------------------------

FINANCIAL_EVENTS = TableSpec(
    name="financial_events",
    columns=(
        Column("posted_date", DATE, nullable=False,
               description="the posted time's local day in the marketplace's time zone (the partition); the day "
                           "the event was listed for when Amazon gives no posted time"),
        Column("posted_at", TIMESTAMPTZ, description="PostedDate (null for events Amazon sends without one)"),
        Column("event_type", VARCHAR, nullable=False,
               description="Amazon's list name without EventList: Shipment, Refund, ServiceFee, Adjustment..."),
        Column("amazon_order_id", VARCHAR),
        Column("seller_order_id", VARCHAR),
        Column("order_item_id", VARCHAR),
        Column("sku", VARCHAR),
        Column("quantity", BIGINT, description="the item's quantity, on each of its components: count it once "
                                               "(e.g. where component_type = 'Principal')"),
        Column("component_kind", VARCHAR, nullable=False,
               description="charge | fee | promotion | tax_withheld | adjustment | other (an unknown event)"),
        Column("component_type", VARCHAR, description="ChargeType, FeeType, PromotionType, AdjustmentType..."),
        Column("amount", MONEY, description="signed as Amazon sends it: what the seller kept is sum(amount)"),
        Column("currency", VARCHAR),
        Column("event_key", VARCHAR, nullable=False, description="a stable unique key of the row (a hash)"),
        Column("raw", VARCHAR, description="the JSON of an event of a list this project does not flatten"),
    ),
    primary_key=("event_key",),
    partition_column="posted_date",
    description="Financial events (listFinancialEvents) of the marketplace, one row per money component, by "
                "posted day.",
)

FINANCIAL_EVENT_GROUPS = TableSpec(
    name="financial_event_groups",
    columns=(
        Column("financial_event_group_id", VARCHAR, nullable=False),
        Column("processing_status", VARCHAR, description="Open or Closed"),
        Column("fund_transfer_status", VARCHAR),
        Column("original_total_amount", MONEY),
        Column("original_total_currency", VARCHAR),
        Column("converted_total_amount", MONEY),
        Column("converted_total_currency", VARCHAR),
        Column("beginning_balance_amount", MONEY),
        Column("fund_transfer_date", TIMESTAMPTZ),
        Column("trace_id", VARCHAR),
        Column("account_tail", VARCHAR),
        Column("group_start", TIMESTAMPTZ),
        Column("group_end", TIMESTAMPTZ),
        Column("fetched_at", TIMESTAMPTZ, nullable=False, description="when the API was asked"),
        Column("version", VARCHAR, nullable=False,
               description="'<0 Open | 1 Closed>|<fetched_at>': a merge never turns a Closed group Open again"),
    ),
    primary_key=("financial_event_group_id",),
    version_column="version",
    description="Financial event groups (listFinancialEventGroups) in the marketplace's currency, merged by group "
                "id; a Closed group never becomes Open again.",
)


TRANSACTIONS = TableSpec(
    name="transactions",
    columns=(
        Column("posted_date", DATE, nullable=False, description="the posted time's local day (the partition)"),
        Column("posted_at", TIMESTAMPTZ),
        Column("transaction_id", VARCHAR, nullable=False),
        Column("transaction_type", VARCHAR, description="Shipment, Refund..."),
        Column("transaction_status", VARCHAR, description="RELEASED, DEFERRED or DEFERRED_RELEASED"),
        Column("description", VARCHAR),
        Column("amazon_order_id", VARCHAR, description="the ORDER_ID related identifier"),
        Column("financial_event_group_id", VARCHAR, description="the FINANCIAL_EVENT_GROUP_ID related identifier"),
        Column("marketplace_id", VARCHAR),
        Column("breakdown_path", VARCHAR, nullable=False,
               description="where the leaf sits: /ProductCharges[0]/Principal[0] (totalAmount without breakdowns)"),
        Column("breakdown_type", VARCHAR, description="the leaf's breakdownType: Principal, Tax, Commission..."),
        Column("amount", MONEY, description="signed as Amazon sends it; the leaves add up to the transaction's total"),
        Column("currency", VARCHAR),
    ),
    primary_key=("transaction_id", "breakdown_path"),
    partition_column="posted_date",
    description="Finances 2024-06-19 transactions (listTransactions) of the marketplace, one row per leaf "
                "breakdown, by posted day.",
)


# ------------------------------------------------------------------------------------------------
# Fetch: Amazon's pages to rows
# ------------------------------------------------------------------------------------------------

def local_day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC [start, end) of one local day."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def fetch_financial_event_rows(client: SPAPIClient, marketplace: Marketplace, days: list[date],
                               now: datetime | None = None, timezone: str | None = None) -> EventRows:
    """The ``financial_events`` rows of each day in ``timezone`` (the partitions' zone, by default the
    marketplace's; one listFinancialEvents query per day), ends clamped to what Amazon allows now; a day
    that has not begun two minutes ago is not asked for."""
    latest = latest_end(now)
    out = EventRows()
    zone = timezone or marketplace.timezone
    for day in days:
        start, end = local_day_window(day, zone)
        end = min(end, latest)
        if start >= end:
            continue
        flatten_events(list_financial_events(client, start, end), marketplace, day, into=out, timezone=zone)
    return out


def fetch_group_rows(client: SPAPIClient, marketplace: Marketplace, fetched_at: datetime) -> list[dict[str, Any]]:
    """Groups opened in the last ``GROUPS_LOOKBACK`` whose total is in the marketplace's currency."""
    # No StartedBefore: Amazon then takes two minutes before its own now, so a client clock ahead of
    # Amazon's can never make the request invalid (the groups started up to now are what we want).
    groups = list_financial_event_groups(client, fetched_at - GROUPS_LOOKBACK)
    rows = [group_row(g, fetched_at) for g in groups]
    return [r for r in rows if r["original_total_currency"] in (None, marketplace.currency)]


def fetch_transaction_rows(client: SPAPIClient, marketplace: Marketplace, start: datetime, end: datetime,
                           now: datetime | None = None, timezone: str | None = None) -> list[dict[str, Any]]:
    """``transactions`` rows of the marketplace posted in [start, end), the end clamped to what Amazon
    allows; ``posted_date`` in ``timezone`` (the partitions' zone, by default the marketplace's)."""
    end = min(end, latest_end(now))
    if start >= end:
        return []
    return [row for t in list_transactions(client, marketplace.marketplace_id, start, end)
            for row in transaction_rows(t, marketplace, timezone)]
