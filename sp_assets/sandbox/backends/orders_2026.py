"""Orders API v2026-01-01 (searchOrders, getOrder) over the same synthetic seller as Orders v0.

No HTTP here (``routes/orders_2026.py`` parses requests and renders the bare answers). The point of
this module is that v2026 is a second *view* of the same orders: which orders a query selects is
decided by v0's :class:`OrdersBackend` (same half-open windows, retention, sort order and frozen
``as_of``), and every amount and date comes from v0's renderers and :func:`format_amount`, so a
client that migrates sees the same orders, items and amounts to the cent.

What v2026 changes, and how this module renders it:

* Statuses are ``fulfillment.fulfillmentStatus`` in upper snake case (``Canceled`` -> ``CANCELLED``).
* Items are always inside the order (``orderItems``); there is no getOrderItems.
* Optional blocks appear only when ``includedData`` asks: BUYER, RECIPIENT (role-based PII instead of
  an RDT), PROCEEDS, FULFILLMENT, PACKAGES, PROMOTION and CANCELLATION are modelled; EXPENSE, TAX,
  PAYMENT and FULFILLMENT_ORDERS are accepted and render nothing (the synthetic seller has no points,
  tax registrations, COD payments or EasyShip orders).
* Money is ``{"amount": "11.01", "currencyCode": "USD"}``. Proceeds break down per item into ITEM,
  SHIPPING, TAX (detailed: ITEM, SHIPPING) and DISCOUNT (detailed: ITEM); only non-zero categories
  are listed, as in Amazon's examples, and DISCOUNT is negative so that the breakdowns add up to
  ``proceedsTotal``, and the items' totals to the order's ``grandTotal`` (= v0's OrderTotal).
* Rules kept from v0 on purpose: no prices or proceeds while Pending, no buyer while Pending, a
  delivery address only once the order is Unshipped or later. Per the model, ``buyerEmail`` is only
  given for merchant-fulfilled orders and ``packages`` only exist for merchant-fulfilled orders.

A pagination token carries the filters as sent, the resolved marketplaces, the frozen ``as_of`` and
the next offset. Amazon requires every later page to resend the same parameters except
``maxResultsPerPage`` and ``includedData``, and expires tokens after 24 hours (scaled by the speed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sp_assets.lib.marketplaces import by_id
from sp_assets.sandbox.backends.orders import (
    DATA_DELAY,
    OrdersBackend,
    OrdersQuery,
    format_amount,
    render_order,
    shipped_quantities,
)
from sp_assets.sandbox.backends.paging import (
    InvalidPageToken,
    Page,
    PageTokens,
    cut_page,
    from_moment,
    to_moment,
)
from sp_assets.sandbox.operations import iso
from sp_assets.sandbox.seller import Order, OrderItem, SyntheticSeller

# The model's enums (orders_2026-01-01.json, searchOrders / getOrder parameters).
FULFILLMENT_STATUS_VALUES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED",
                             "CANCELLED", "UNFULFILLABLE")
FULFILLED_BY_VALUES = ("MERCHANT", "AMAZON")
INCLUDED_DATA_VALUES = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                        "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")

# v0 OrderStatus -> v2026 fulfillmentStatus. v0's InvoiceUnconfirmed has no v2026 counterpart (the
# synthetic seller never produces it).
STATUS_TO_2026 = {"PendingAvailability": "PENDING_AVAILABILITY", "Pending": "PENDING", "Unshipped": "UNSHIPPED",
                  "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "Canceled": "CANCELLED",
                  "Unfulfillable": "UNFULFILLABLE"}
STATUS_FROM_2026 = {value: key for key, value in STATUS_TO_2026.items()}
CHANNEL_TO_FULFILLED_BY = {"AFN": "AMAZON", "MFN": "MERCHANT"}
FULFILLED_BY_TO_CHANNEL = {value: key for key, value in CHANNEL_TO_FULFILLED_BY.items()}

TOKEN_LIFETIME_SECONDS = 24 * 3600.0  # the migration guide: tokens expire after 24 hours
DEFAULT_PAGE_SIZE = 100
_DELIVERED_AFTER = timedelta(days=3)  # a package counts as delivered 3 days after it shipped
_CARRIERS = {"NA": (("UPS", "UPS Ground"), ("USPS", "USPS Priority Mail"), ("FedEx", "FedEx Home Delivery")),
             "EU": (("DHL", "DHL Paket"), ("DPD", "DPD Classic"), ("Hermes", "Hermes Standard")),
             "FE": (("Yamato", "TA-Q-BIN"), ("Sagawa", "Hikyaku Express"), ("JapanPost", "Yu-Pack"))}


# ----------------------------------------------------------------------------------------- filters
@dataclass(frozen=True)
class SearchFilters:
    """The searchOrders parameters that must be resent unchanged with a paginationToken.

    Lists are kept sorted and without duplicates: ``AMAZON,MERCHANT`` and ``MERCHANT,AMAZON`` are the
    same filter. Dates are the moments sent (UTC), None when the parameter was not sent.
    """

    created_after: datetime | None = None
    created_before: datetime | None = None
    last_updated_after: datetime | None = None
    last_updated_before: datetime | None = None
    fulfillment_statuses: tuple[str, ...] = ()
    marketplace_ids: tuple[str, ...] = ()
    fulfilled_by: tuple[str, ...] = ()

    # The model's parameter name of each field, for error texts.
    PARAMETER_NAMES = {"created_after": "createdAfter", "created_before": "createdBefore",
                       "last_updated_after": "lastUpdatedAfter", "last_updated_before": "lastUpdatedBefore",
                       "fulfillment_statuses": "fulfillmentStatuses", "marketplace_ids": "marketplaceIds",
                       "fulfilled_by": "fulfilledBy"}

    @classmethod
    def of(cls, *, created_after: datetime | None = None, created_before: datetime | None = None,
           last_updated_after: datetime | None = None, last_updated_before: datetime | None = None,
           fulfillment_statuses: Iterable[str] = (), marketplace_ids: Iterable[str] = (),
           fulfilled_by: Iterable[str] = ()) -> SearchFilters:
        return cls(created_after, created_before, last_updated_after, last_updated_before,
                   tuple(sorted(set(fulfillment_statuses))), tuple(sorted(set(marketplace_ids))),
                   tuple(sorted(set(fulfilled_by))))

    @property
    def date_field(self) -> str:
        """v0's name of the date family: ``Created`` or ``LastUpdated``."""
        return "Created" if self.created_after is not None or self.created_before is not None else "LastUpdated"

    def to_dict(self) -> dict[str, Any]:
        return {name: (from_moment(value) if isinstance(value, datetime) else
                       list(value) if isinstance(value, tuple) else value)
                for name, value in self._items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchFilters:
        values: dict[str, Any] = {}
        for name in cls.PARAMETER_NAMES:
            value = data.get(name)
            if name.endswith(("_after", "_before")):
                values[name] = None if value is None else to_moment(value)
            else:
                values[name] = tuple(value or ())
        return cls(**values)

    def differences(self, other: SearchFilters) -> list[str]:
        """``name (token: x, request: y)`` for every parameter whose value differs."""
        out = []
        for (name, mine), (_, theirs) in zip(self._items(), other._items(), strict=True):
            if mine != theirs:
                out.append(f"{self.PARAMETER_NAMES[name]} (token: {_show(mine)}, request: {_show(theirs)})")
        return out

    def _items(self) -> list[tuple[str, Any]]:
        return [(name, getattr(self, name)) for name in self.PARAMETER_NAMES]


def _show(value: Any) -> str:
    if value is None or value == ():
        return "not sent"
    if isinstance(value, datetime):
        return iso(value)
    return ",".join(value)


@dataclass(frozen=True)
class SearchPage:
    """One searchOrders page: the orders at the frozen ``as_of`` and the query they answer."""

    filters: SearchFilters
    marketplace_ids: tuple[str, ...]
    query: OrdersQuery
    as_of: datetime
    orders: list[Order]
    next_token: str | None


# ----------------------------------------------------------------------------------------- backend
@dataclass
class Orders2026Backend:
    """searchOrders and getOrder v2026 over v0's order selection. Stateless besides the seller.

    ``clock`` (wall-clock seconds) dates and expires pagination tokens; tests move it forward to see a
    token expire without waiting. ``token_lifetime`` is 24 hours already scaled by the sandbox speed.
    """

    seller: SyntheticSeller
    token_lifetime: float = TOKEN_LIFETIME_SECONDS
    clock: Callable[[], float] = time.time
    v0: OrdersBackend = field(init=False)
    tokens: PageTokens = field(init=False)

    def __post_init__(self) -> None:
        self.v0 = OrdersBackend(self.seller)
        self.tokens = PageTokens(self.seller.seed, "searchOrders", clock=lambda: self.clock())

    def now(self) -> datetime:
        return self.seller.now()

    # ------------------------------------------------------------------------------ searchOrders
    def first_page(self, filters: SearchFilters, marketplace_ids: Iterable[str], as_of: datetime,
                   page_size: int = DEFAULT_PAGE_SIZE) -> SearchPage:
        """The first page of a validated query over ``marketplace_ids`` (the sent ones, or the region's)."""
        return self._page(filters, tuple(marketplace_ids), as_of, 0, page_size)

    def next_page(self, token: str, page_size: int = DEFAULT_PAGE_SIZE) -> SearchPage:
        """The page a paginationToken points to; :class:`InvalidPageToken` says what is wrong with it."""
        data = self.tokens.decode(token, "paginationToken", max_age=self.token_lifetime)
        try:
            filters = SearchFilters.from_dict(data["f"])
            marketplace_ids = tuple(data["m"])
            as_of = to_moment(data["as_of"])
            offset = int(data["o"])
        except (KeyError, TypeError, ValueError):
            raise InvalidPageToken("paginationToken is not a searchOrders token") from None
        return self._page(filters, marketplace_ids, as_of, offset, page_size)

    def _page(self, filters: SearchFilters, marketplace_ids: tuple[str, ...], as_of: datetime, offset: int,
              page_size: int) -> SearchPage:
        query = self.to_query(filters, marketplace_ids, as_of)
        orders = self.v0.search(query, as_of)
        data = {"f": filters.to_dict(), "m": list(marketplace_ids), "as_of": from_moment(as_of)}
        page: Page[Order] = cut_page(orders, offset, page_size, self.tokens, data)
        return SearchPage(filters, marketplace_ids, query, as_of, page.items, page.next_token)

    @staticmethod
    def to_query(filters: SearchFilters, marketplace_ids: tuple[str, ...], as_of: datetime) -> OrdersQuery:
        """The same selection in v0's terms; a missing Before is ``as_of`` minus Amazon's 2-minute delay."""
        created = filters.date_field == "Created"
        after = filters.created_after if created else filters.last_updated_after
        before = filters.created_before if created else filters.last_updated_before
        if after is None:
            raise ValueError("a search needs createdAfter or lastUpdatedAfter")
        return OrdersQuery(
            marketplace_ids=marketplace_ids,
            date_field=filters.date_field,
            after=after,
            before=before if before is not None else as_of - DATA_DELAY,
            statuses=tuple(STATUS_FROM_2026[s] for s in filters.fulfillment_statuses),
            fulfillment_channels=tuple(FULFILLED_BY_TO_CHANNEL[f] for f in filters.fulfilled_by),
        )

    # ---------------------------------------------------------------------------------- getOrder
    def order(self, amazon_order_id: str, as_of: datetime | None = None) -> Order | None:
        """The order at ``as_of`` (default now): None if unknown, not placed yet or past retention."""
        return self.v0.order(amazon_order_id, as_of)

    # --------------------------------------------------------------------------------- rendering
    def render(self, order: Order, included: Iterable[str], as_of: datetime) -> dict[str, Any]:
        """One ``Order`` of the model, with the optional blocks ``included`` asks for, at ``as_of``."""
        wanted = frozenset(included)
        v0 = render_order(order)  # dates, address and flags come from the one v0 renderer
        record: dict[str, Any] = {
            "orderId": order.amazon_order_id,
            "createdTime": v0["PurchaseDate"],
            "lastUpdatedTime": v0["LastUpdateDate"],
        }
        programs = order_programs(order)
        if programs:
            record["programs"] = programs
        record["salesChannel"] = {"channelName": "AMAZON", "marketplaceId": order.marketplace_id,
                                  "marketplaceName": order.sales_channel}
        if "BUYER" in wanted and order.status != "Pending":
            record["buyer"] = _buyer(order)
        if "RECIPIENT" in wanted and "ShippingAddress" in v0:
            record["recipient"] = _recipient(order, v0["ShippingAddress"])
        if "PROCEEDS" in wanted and order.has_prices:
            record["proceeds"] = _order_proceeds(order)
        if "FULFILLMENT" in wanted:
            record["fulfillment"] = _order_fulfillment(order, v0)
        shipped = shipped_quantities(order)
        record["orderItems"] = [_order_item(order, item, shipped[item.order_item_id], wanted)
                                for item in order.items]
        if "PACKAGES" in wanted and order.fulfillment_channel == "MFN":
            packages = self._packages(order, as_of)
            if packages:
                record["packages"] = packages
        return record

    def _packages(self, order: Order, as_of: datetime) -> list[dict[str, Any]]:
        """One package per shipment: the partial one (if any) and the rest when the order shipped."""
        shipments: list[tuple[datetime, dict[str, int]]] = []
        partial = next((c for c in order.timeline if c.status == "PartiallyShipped"), None)
        sent: dict[str, int] = {item.order_item_id: 0 for item in order.items}
        if partial is not None and order.status in ("PartiallyShipped", "Shipped"):
            at_partial = order.plan.at(partial.at)
            assert at_partial is not None
            sent = shipped_quantities(at_partial)
            shipments.append((partial.at, dict(sent)))
        if order.status == "Shipped":
            final = next(c for c in order.timeline if c.status == "Shipped")
            shipments.append((final.at, {item.order_item_id: item.quantity - sent[item.order_item_id]
                                         for item in order.items}))
        region = by_id(order.marketplace_id).region
        packages = []
        for number, (ship_time, quantities) in enumerate(shipments, start=1):
            rng = self.seller.rng("package", order.amazon_order_id, number)
            carrier, service = rng.choice(_CARRIERS[region])
            delivered = as_of >= ship_time + _DELIVERED_AFTER
            packages.append({
                "packageReferenceId": f"{number}",
                "createdTime": iso(ship_time - timedelta(minutes=30)),
                "packageStatus": {"status": "DELIVERED" if delivered else "IN_TRANSIT"},
                "carrier": carrier,
                "shipTime": iso(ship_time),
                "shippingService": service,
                "trackingNumber": f"{rng.randrange(10**11, 10**12)}{rng.randrange(10**5, 10**6)}",
                "packageItems": [{"orderItemId": item_id, "quantity": quantity}
                                 for item_id, quantity in quantities.items() if quantity > 0],
            })
        return packages


# ------------------------------------------------------------------------------------ order blocks
def money_2026(amount: Decimal, currency: str) -> dict[str, str]:
    """The v2026 Money object, formatted by v0's :func:`format_amount` (``{"amount": "11.01", ...}``)."""
    return {"amount": format_amount(amount, currency), "currencyCode": currency}


def order_programs(order: Order) -> list[str]:
    """v0's IsPrime / IsBusinessOrder flags as v2026 ``programs``."""
    programs = []
    if order.is_prime:
        programs.append("PRIME")
    if order.is_business_order:
        programs.append("AMAZON_BUSINESS")
    return programs


def _buyer(order: Order) -> dict[str, str]:
    """The model gives ``buyerEmail`` for merchant-fulfilled orders only; the name for every order."""
    buyer = {"buyerName": order.buyer_name}
    if order.fulfillment_channel == "MFN":
        buyer["buyerEmail"] = order.buyer_email
    return buyer


def _recipient(order: Order, v0_address: dict[str, str]) -> dict[str, Any]:
    names = {"City": "city", "StateOrRegion": "stateOrRegion", "PostalCode": "postalCode",
             "CountryCode": "countryCode"}
    address: dict[str, str] = {"name": order.buyer_name}
    address.update({names[key]: value for key, value in v0_address.items() if key in names})
    address["addressType"] = "RESIDENTIAL"
    return {"deliveryAddress": address}


def _order_fulfillment(order: Order, v0: dict[str, Any]) -> dict[str, Any]:
    return {
        "fulfillmentStatus": STATUS_TO_2026[order.status],
        "fulfilledBy": CHANNEL_TO_FULFILLED_BY[order.fulfillment_channel],
        "fulfillmentServiceLevel": v0["ShipmentServiceLevelCategory"].upper(),
        "shipByWindow": {"earliestDateTime": v0["EarliestShipDate"], "latestDateTime": v0["LatestShipDate"]},
        "deliverByWindow": {"earliestDateTime": v0["EarliestDeliveryDate"],
                            "latestDateTime": v0["LatestDeliveryDate"]},
    }


def _order_proceeds(order: Order) -> dict[str, Any]:
    """``grandTotal`` is v0's OrderTotal; the breakdowns aggregate the items' categories."""
    currency = order.currency
    totals = {"ITEM": Decimal(0), "SHIPPING": Decimal(0), "TAX": Decimal(0), "DISCOUNT": Decimal(0)}
    for item in order.items:
        totals["ITEM"] += item.item_price
        totals["SHIPPING"] += item.shipping_price
        totals["TAX"] += item.item_tax + item.shipping_tax
        totals["DISCOUNT"] -= item.promotion_discount
    breakdowns = [{"type": kind, "subtotal": money_2026(amount, currency)}
                  for kind, amount in totals.items() if kind == "ITEM" or amount]
    return {"grandTotal": money_2026(order.order_total, currency), "breakdowns": breakdowns}


# ------------------------------------------------------------------------------------- item blocks
def _order_item(order: Order, item: OrderItem, quantity_shipped: int, wanted: frozenset[str]) -> dict[str, Any]:
    product: dict[str, Any] = {
        "asin": item.asin,
        "title": item.title,
        "sellerSku": item.sku,
        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
    }
    if order.has_prices:
        product["price"] = {"unitPrice": money_2026(item.unit_price, item.currency)}
    record: dict[str, Any] = {"orderItemId": item.order_item_id, "quantityOrdered": item.quantity,
                              "product": product}
    if "PROCEEDS" in wanted and order.has_prices:
        record["proceeds"] = item_proceeds(item)
    if "PROMOTION" in wanted and order.has_prices and item.promotion_id:
        record["promotion"] = {"breakdowns": [{"promotionId": item.promotion_id}]}
    if "CANCELLATION" in wanted and order.status == "Canceled":
        record["cancellation"] = {"cancellationExecution": {"cancelledBy": "BUYER",
                                                            "cancelReason": "NO_LONGER_NEEDED"}}
    if "FULFILLMENT" in wanted:
        unfulfilled = 0 if order.status == "Canceled" else item.quantity - quantity_shipped
        fulfillment: dict[str, Any] = {"quantityFulfilled": quantity_shipped, "quantityUnfulfilled": unfulfilled}
        if item.is_gift:
            fulfillment["packing"] = {"giftOption": {"giftWrapLevel": "Classic"}}
        record["fulfillment"] = fulfillment
    return record


def item_proceeds(item: OrderItem) -> dict[str, Any]:
    """ITEM (= v0 ItemPrice), SHIPPING, TAX and DISCOUNT (negative); only non-zero categories."""
    currency = item.currency
    breakdowns: list[dict[str, Any]] = [{"type": "ITEM", "subtotal": money_2026(item.item_price, currency)}]
    if item.shipping_price:
        breakdowns.append({"type": "SHIPPING", "subtotal": money_2026(item.shipping_price, currency)})
    tax = item.item_tax + item.shipping_tax
    if tax:
        details = [{"subtype": subtype, "value": money_2026(amount, currency)}
                   for subtype, amount in (("ITEM", item.item_tax), ("SHIPPING", item.shipping_tax)) if amount]
        breakdowns.append({"type": "TAX", "subtotal": money_2026(tax, currency), "detailedBreakdowns": details})
    if item.promotion_discount:
        discount = money_2026(-item.promotion_discount, currency)
        breakdowns.append({"type": "DISCOUNT", "subtotal": discount,
                           "detailedBreakdowns": [{"subtype": "ITEM", "value": discount}]})
    total = item.item_price + item.shipping_price + tax - item.promotion_discount
    return {"proceedsTotal": money_2026(total, currency), "breakdowns": breakdowns}
