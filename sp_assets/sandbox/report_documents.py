"""Report documents written from the synthetic seller: the content behind a DONE report.

Every generator streams rows into a gzip file (``write_document``) so a million-row all-orders report
never exists as one string in memory. What a type is (format, charset, options, whether it can be
requested, its header) is its row in ``sp_assets/lib/reports/catalog.py``; this module only writes
the rows (one generator per type, registered in ``FLAT_FILE_GENERATORS``). Flat files are tab-separated
with Amazon's header names (wire contract section 4), written raw as Amazon writes them (no quoting: a value that starts with ``"``
is left alone, which is why clients need a quote option), and encoded in the marketplace's charset
(Cp1252, Shift_JIS or UTF-8) declared in the download's ``Content-Type``.

The orders reports are cut from the same ``Order`` objects getOrders/getOrderItems serve, at the
moment the report was requested, so a report and the REST API agree on orders, items, statuses and
amounts. Returns, inventory, ledger, settlement and sales-and-traffic data are derived from those
orders plus ``seller.rng`` so they agree with each other (a returned unit is a refunded unit in the
sales report and a customer return in the ledger).

Vocabulary choices, documented because a real report differs in places: ``order-status`` carries the
REST ``OrderStatus`` value verbatim (``Canceled``, ``PartiallyShipped``) so the two sources join
exactly; ``item-status`` uses the report's own words (``Shipped``, ``Unshipped``, ``Cancelled``);
``fulfillment-channel`` is ``Amazon``/``Merchant`` as in real flat files.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sp_assets.lib.marketplaces import MARKETPLACES, Marketplace, by_id
from sp_assets.lib.reports import catalog
from sp_assets.sandbox import report_documents_json
from sp_assets.sandbox.seller import LATEST_CHANGE, Order, OrderItem, OrderPlan, Product, SyntheticSeller

# Report types named below (and by the routes, backends and tests). The catalog is their one definition.
SALES_AND_TRAFFIC = catalog.SALES_AND_TRAFFIC
SETTLEMENT_V1 = catalog.SETTLEMENT_V1
SETTLEMENT_V2 = catalog.SETTLEMENT_V2


def header(report_type: str) -> tuple[str, ...]:
    """The header row of a flat file: the catalog's ``columns`` for the type (Amazon's spelling)."""
    columns = catalog.lookup(report_type).columns
    if not columns:
        raise DocumentError(f"the catalog declares no columns for {report_type}; add them to its row")
    return columns


# Amazon keeps two years of order history for reports; older windows have no data (CANCELLED).
HISTORY = timedelta(days=730)
# A return happens at most this long after purchase (ship by ~4 days, return within 30 days of that).
_RETURN_HORIZON = timedelta(days=35)
# An order ships at most this long after purchase (Unshipped by 4 h, Shipped by 30+30 h more).
_SHIP_HORIZON = timedelta(hours=4 + 30 + 30 + 1)
_FULFILLMENT_CENTERS = {"NA": ("PHX7", "SEA8", "ONT8"), "EU": ("LEJ1", "MUC3", "BHX4"), "FE": ("NRT5", "KIX2")}
_RETURN_REASONS = ("UNWANTED_ITEM", "DEFECTIVE", "NOT_AS_DESCRIBED", "SWITCHEROO", "APPAREL_TOO_SMALL")
_DISPOSITIONS = ("SELLABLE", "CUSTOMER_DAMAGED", "DEFECTIVE", "CARRIER_DAMAGED")
# Raw text as buyers type it: a leading double quote is what breaks naive TSV readers.
_RETURN_COMMENTS = ("", "", "Changed my mind", '"Not as pictured" - returned', "Box arrived damaged",
                    'Screen is 6" not 7"', "Arrived late, no longer needed")


class DocumentError(Exception):
    """A report cannot be generated; its message becomes the FATAL report's error document."""


@dataclass(frozen=True)
class DocumentSpec:
    """What a report covers: the request, cut at the moment Amazon accepted it (``as_of``)."""

    report_type: str
    marketplace_ids: tuple[str, ...]
    data_start: datetime
    data_end: datetime  # inclusive, as Amazon's dataEndTime
    options: dict[str, str]
    as_of: datetime
    # The FBA Inventory backend (``inventory_summaries(marketplace_id, as_of)``) when the sandbox has one,
    # so the inventory reports agree with getInventorySummaries; else quantities come from the seed.
    inventory: Any = field(default=None, compare=False, repr=False)

    @property
    def marketplaces(self) -> list[Marketplace]:
        return [by_id(m) for m in self.marketplace_ids]

    @property
    def end_exclusive(self) -> datetime:
        return self.data_end + timedelta(microseconds=1)


@dataclass(frozen=True)
class GeneratedDocument:
    """What ``write_document`` wrote: rows (0 means no data, i.e. CANCELLED) and the download's type."""

    rows: int
    content_type: str


# ------------------------------------------------------------------------------------------ formatting
def money(value: Decimal, currency: str) -> str:
    """Amounts as Amazon writes them in flat files: ``18.99``, ``0.00``, JPY without decimals."""
    exponent = Decimal("1") if currency == "JPY" else Decimal("0.01")
    return str(value.quantize(exponent))


def report_time(value: datetime) -> str:
    """``2024-01-02T03:04:05+00:00``: the timestamp format of order and returns flat files."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def settlement_time(value: datetime) -> str:
    """``2024-01-02 03:04:05 UTC``: the format of the V2 settlement flat file."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def local_money(value: Decimal, marketplace: Marketplace) -> str:
    """An amount as a localized report (settlements) writes it: ``1.234,56`` in Germany, ``1,234.56``
    in the US (the marketplace's row of ``catalog.MARKETPLACE_FORMATS``)."""
    fmt = catalog.MARKETPLACE_FORMATS[marketplace.code]
    text = money(value, marketplace.currency)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = digits.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    grouped = fmt.group_mark.join([whole, *groups])
    return sign + grouped + (fmt.decimal_mark + fraction if fraction else "")


def local_date(value: datetime, marketplace: Marketplace) -> str:
    """A date as a localized report writes it (``02.01.2026`` in Germany, ``2026/01/02`` in Japan)."""
    return value.astimezone(UTC).strftime(catalog.MARKETPLACE_FORMATS[marketplace.code].date_formats[0])


def local_time(value: datetime, marketplace: Marketplace) -> str:
    """A time as a localized report writes it, in UTC: ``02.01.2026 08:00:00 UTC`` in Germany."""
    fmt = catalog.MARKETPLACE_FORMATS[marketplace.code].timestamp_formats[0]
    return value.astimezone(UTC).strftime(fmt.replace("%Z", "UTC"))


def _clean(value: str) -> str:
    """A field can hold any character but the separators: Amazon replaces tabs and newlines."""
    if "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return value


def python_codec(charset: str) -> str:
    """The Python codec of a marketplace charset name (``Cp1252`` -> ``cp1252``)."""
    return {"cp1252": "cp1252", "shift_jis": "shift_jis", "utf-8": "utf-8"}.get(charset.lower(), charset.lower())


class TsvSink:
    """Writes a header row, then rows, raw and tab-separated, in batches (never the whole file)."""

    _BATCH = 2000

    def __init__(self, stream: TextIO, columns: Sequence[str]) -> None:
        self.stream = stream
        self.columns = tuple(columns)
        self.rows = 0
        self._pending: list[str] = []
        stream.write("\t".join(self.columns) + "\n")

    def row(self, values: Sequence[str]) -> None:
        if len(values) != len(self.columns):
            raise DocumentError(f"row has {len(values)} fields, header has {len(self.columns)}")
        self._pending.append("\t".join(_clean(v) for v in values))
        self.rows += 1
        if len(self._pending) >= self._BATCH:
            self.flush()

    def raw_row(self, values: Sequence[str]) -> None:
        """A row whose values are known to hold no tab or newline (the fast path of big reports)."""
        self._pending.append("\t".join(values))
        self.rows += 1
        if len(self._pending) >= self._BATCH:
            self.flush()

    def mapping(self, values: dict[str, str]) -> None:
        self.row([values.get(c, "") for c in self.columns])

    def flush(self) -> None:
        if self._pending:
            self.stream.write("\n".join(self._pending) + "\n")
            self._pending.clear()


# ------------------------------------------------------------------------------------------ windows
def days_between(start: datetime, end_exclusive: datetime) -> Iterator[date]:
    if end_exclusive <= start:
        return
    day = start.astimezone(UTC).date()
    last = (end_exclusive - timedelta(microseconds=1)).astimezone(UTC).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# Windows longer than this many days are streamed past the seller's day cache: a 20-day window of a
# 20,000-orders-a-day seller would otherwise pin about a gigabyte of order plans in that cache.
_CACHED_WINDOW_DAYS = 3


def plans_purchased(seller: SyntheticSeller, marketplace_id: str, start: datetime,
                    end_exclusive: datetime) -> Iterator[OrderPlan]:
    """Order plans with start <= PurchaseDate < end, one day at a time (streaming, not a list)."""
    days = list(days_between(start, end_exclusive))
    uncached = getattr(seller, "generate_day", None) if len(days) > _CACHED_WINDOW_DAYS else None
    for day in days:
        plans = uncached(marketplace_id, day) if uncached is not None else seller.day_plans(marketplace_id, day)
        for plan in plans:
            if start <= plan.purchase_date < end_exclusive:
                yield plan


def window_has_history(spec: DocumentSpec) -> bool:
    """False for windows wholly in the future or older than the two years Amazon keeps."""
    return spec.data_start <= spec.as_of and spec.data_end >= spec.as_of - HISTORY


def shipped_at(plan: OrderPlan) -> datetime | None:
    return next((c.at for c in plan.timeline if c.status == "Shipped"), None)


# ------------------------------------------------------------------------------------------ orders
def _item_status(order: Order) -> str:
    return {"Shipped": "Shipped", "Canceled": "Cancelled"}.get(order.status, "Unshipped")


def all_orders_rows(order: Order, with_cpf: bool) -> list[list[str]]:
    """An order's items as rows of the all-orders flat files, values in header order.

    Prices, taxes and currency are empty while the order is Pending, as getOrderItems omits them.
    Order-level values are formatted once per order (a million-row report is mostly this loop).
    """
    priced = order.has_prices
    head = [order.amazon_order_id, "", report_time(order.purchase_date), report_time(order.last_update_date),
            order.status, "Amazon" if order.fulfillment_channel == "AFN" else "Merchant", order.sales_channel, "",
            order.ship_service_level]
    ship = [_clean(order.ship_city), _clean(order.ship_state), _clean(order.ship_postal_code), order.ship_country]
    business = "true" if order.is_business_order else "false"
    tail = [business, "", "BusinessPrice" if order.is_business_order else ""]
    item_status = _item_status(order)
    rows = []
    for item in order.items:
        cur = item.currency
        if priced:
            zero = money(Decimal(0), cur)
            amounts = [cur, money(item.item_price, cur), money(item.item_tax, cur), money(item.shipping_price, cur),
                       money(item.shipping_tax, cur), zero, zero, money(item.promotion_discount, cur), zero]
        else:
            amounts = [""] * 9
        middle = [_clean(item.title), _clean(item.sku), item.asin, item_status, str(item.quantity)]
        promo = [item.promotion_id or ""] + ([""] if with_cpf else [])
        rows.append(head + middle + amounts + ship + promo + tail)
    return rows


def all_orders_row(order: Order, item: OrderItem, with_cpf: bool) -> dict[str, str]:
    """One order item as a header -> value mapping (for tests and debugging)."""
    columns = header(catalog.ALL_ORDERS_BY_ORDER_DATE if with_cpf else catalog.ALL_ORDERS_BY_LAST_UPDATE)
    index = order.items.index(item)
    return dict(zip(columns, all_orders_rows(order, with_cpf)[index], strict=True))


def orders_by_order_date(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[Order]:
    """Orders purchased in [dataStartTime, dataEndTime], as they were when the report was requested."""
    if not window_has_history(spec):
        return
    for marketplace_id in spec.marketplace_ids:
        for plan in plans_purchased(seller, marketplace_id, spec.data_start, min(spec.end_exclusive, spec.as_of)):
            order = plan.at(spec.as_of)
            if order is not None:
                yield order


def orders_by_last_update(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[Order]:
    """Orders whose LastUpdateDate (at the request moment) is in [dataStartTime, dataEndTime]."""
    if not window_has_history(spec):
        return
    end = min(spec.end_exclusive, spec.as_of + timedelta(microseconds=1))
    for marketplace_id in spec.marketplace_ids:
        for plan in plans_purchased(seller, marketplace_id, spec.data_start - LATEST_CHANGE, end):
            order = plan.at(spec.as_of)
            if order is not None and spec.data_start <= order.last_update_date < spec.end_exclusive:
                yield order


def write_all_orders(orders: Iterable[Order], out: TextIO, with_cpf: bool) -> int:
    sink = TsvSink(out, header(catalog.ALL_ORDERS_BY_ORDER_DATE if with_cpf else catalog.ALL_ORDERS_BY_LAST_UPDATE))
    for order in orders:
        for values in all_orders_rows(order, with_cpf):
            sink.raw_row(values)
    sink.flush()
    return sink.rows


# ------------------------------------------------------------------------------------------ listings & inventory
def _region_channel(marketplace: Marketplace) -> str:
    return f"AMAZON_{marketplace.region}"


def _listing_id(seller: SyntheticSeller, marketplace_id: str, sku: str) -> str:
    rng = seller.rng("listing-id", marketplace_id, sku)
    return f"{rng.randrange(10**9, 10**10):010d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"


def _open_date(seller: SyntheticSeller, marketplace_id: str, sku: str) -> datetime:
    rng = seller.rng("open-date", marketplace_id, sku)
    return datetime(2021, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(3 * 365 * 86400))


@dataclass(frozen=True)
class InventoryLevels:
    """FBA quantities of one SKU on one day (derived from the seller's seed, stable per day)."""

    fulfillable: int
    unsellable: int
    reserved: int
    inbound_working: int
    inbound_shipped: int
    inbound_receiving: int
    researching: int
    future_supply: int

    @property
    def warehouse(self) -> int:
        return self.fulfillable + self.unsellable + self.reserved

    @property
    def total(self) -> int:
        return self.warehouse + self.inbound_working + self.inbound_shipped + self.inbound_receiving


def inventory_levels(seller: SyntheticSeller, marketplace_id: str, sku: str, day: date) -> InventoryLevels:
    rng = seller.rng("inventory", marketplace_id, sku, day.toordinal())
    return InventoryLevels(
        fulfillable=rng.randint(0, 400), unsellable=rng.choice((0, 0, 0, 1, 2, 5)), reserved=rng.randint(0, 20),
        inbound_working=rng.choice((0, 0, 24, 48)), inbound_shipped=rng.choice((0, 0, 0, 60, 120)),
        inbound_receiving=rng.choice((0, 0, 12)), researching=rng.choice((0, 0, 0, 1)),
        future_supply=rng.choice((0, 0, 10)),
    )


def _mfn_quantity(seller: SyntheticSeller, marketplace_id: str, sku: str, day: date) -> int:
    return seller.rng("mfn-quantity", marketplace_id, sku, day.toordinal()).randint(0, 250)


def listing_inactive(seller: SyntheticSeller, marketplace_id: str, sku: str) -> bool:
    """About 5% of listings are Inactive (the listings reports and the stranded FBA inventory agree)."""
    return seller.rng("listing-status", marketplace_id, sku).random() < 0.05


def write_merchant_listings(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    sink = TsvSink(out, header("GET_MERCHANT_LISTINGS_ALL_DATA"))
    for values in merchant_listing_rows(seller, spec):
        sink.mapping(values)
    sink.flush()
    return sink.rows


def merchant_listing_rows(seller: SyntheticSeller, spec: DocumentSpec) -> Iterator[dict[str, str]]:
    """Every listing of the request's marketplaces at the request moment, as all-listings rows."""
    day = spec.as_of.date()
    for marketplace in spec.marketplaces:
        for product in seller.products(marketplace.marketplace_id):
            mp = marketplace.marketplace_id
            afn = product.fulfillment_channel == "AFN"
            inactive = listing_inactive(seller, mp, product.sku)
            yield {
                "item-name": product.title,
                "item-description": "",
                "listing-id": _listing_id(seller, mp, product.sku),
                "seller-sku": product.sku,
                "price": money(product.price, product.currency),
                "quantity": "" if afn else str(_mfn_quantity(seller, mp, product.sku, day)),
                "open-date": _open_date(seller, mp, product.sku).strftime("%Y-%m-%d %H:%M:%S UTC"),
                "item-is-marketplace": "y",
                "product-id-type": "1",
                "item-condition": "11",
                "asin1": product.asin,
                "product-id": product.asin,
                "pending-quantity": "0",
                "fulfillment-channel": _region_channel(marketplace) if afn else "DEFAULT",
                "merchant-shipping-group": "Migrated Template",
                "status": "Inactive" if inactive else "Active",
            }


def write_open_listings(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """Only the first marketplace of the request, as Amazon documents for this report."""
    sink = TsvSink(out, header("GET_FLAT_FILE_OPEN_LISTINGS_DATA"))
    marketplace = spec.marketplaces[0]
    for product in seller.products(marketplace.marketplace_id):
        afn = product.fulfillment_channel == "AFN"
        qty = "" if afn else str(_mfn_quantity(seller, marketplace.marketplace_id, product.sku, spec.as_of.date()))
        sink.mapping({"sku": product.sku, "asin": product.asin, "price": money(product.price, product.currency),
                      "quantity": qty})
    sink.flush()
    return sink.rows


def _afn_products(seller: SyntheticSeller, marketplace_id: str) -> list[Product]:
    return [p for p in seller.products(marketplace_id) if p.fulfillment_channel == "AFN"]


def fba_levels(seller: SyntheticSeller, spec: DocumentSpec, marketplace_id: str) -> dict[str, InventoryLevels]:
    """Each FBA SKU's quantities at the request moment: the FBA Inventory backend's when there is one."""
    if spec.inventory is not None:
        return {s.seller_sku: InventoryLevels(
            fulfillable=s.fulfillable, unsellable=s.total_unfulfillable, reserved=s.total_reserved,
            inbound_working=s.inbound_working, inbound_shipped=s.inbound_shipped,
            inbound_receiving=s.inbound_receiving, researching=s.total_researching, future_supply=0,
        ) for s in spec.inventory.inventory_summaries(marketplace_id, spec.as_of)}
    day = spec.as_of.date()
    return {p.sku: inventory_levels(seller, marketplace_id, p.sku, day) for p in _afn_products(seller, marketplace_id)}


def write_myi_unsuppressed(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    sink = TsvSink(out, header("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"))
    for marketplace in spec.marketplaces:
        levels = fba_levels(seller, spec, marketplace.marketplace_id)
        for product in _afn_products(seller, marketplace.marketplace_id):
            inv = levels.get(product.sku)
            if inv is None:
                continue
            sink.mapping({
                "sku": product.sku, "fnsku": product.fnsku, "asin": product.asin, "product-name": product.title,
                "condition": product.condition, "your-price": money(product.price, product.currency),
                "mfn-listing-exists": "No", "mfn-fulfillable-quantity": "", "afn-listing-exists": "Yes",
                "afn-warehouse-quantity": str(inv.warehouse), "afn-fulfillable-quantity": str(inv.fulfillable),
                "afn-unsellable-quantity": str(inv.unsellable), "afn-reserved-quantity": str(inv.reserved),
                "afn-total-quantity": str(inv.total), "per-unit-volume": "0.05",
                "afn-inbound-working-quantity": str(inv.inbound_working),
                "afn-inbound-shipped-quantity": str(inv.inbound_shipped),
                "afn-inbound-receiving-quantity": str(inv.inbound_receiving),
                "afn-researching-quantity": str(inv.researching),
                "afn-reserved-future-supply": str(inv.future_supply), "afn-future-supply-buyable": "0",
            })
    sink.flush()
    return sink.rows


def write_afn_inventory(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    sink = TsvSink(out, header("GET_AFN_INVENTORY_DATA"))
    for marketplace in spec.marketplaces:
        levels = fba_levels(seller, spec, marketplace.marketplace_id)
        for product in _afn_products(seller, marketplace.marketplace_id):
            inv = levels.get(product.sku)
            if inv is None:
                continue
            for condition, qty in (("SELLABLE", inv.fulfillable), ("UNSELLABLE", inv.unsellable)):
                if qty or condition == "SELLABLE":
                    sink.row([product.sku, product.fnsku, product.asin, "NewItem", condition, str(qty)])
    sink.flush()
    return sink.rows


# ------------------------------------------------------------------------------------------ returns
@dataclass(frozen=True)
class ReturnEvent:
    """A customer return of an FBA order item; the same event feeds returns, ledger and refunds."""

    at: datetime
    plan: OrderPlan
    item: OrderItem
    quantity: int
    fulfillment_center: str
    disposition: str
    reason: str
    license_plate: str
    comment: str


def plan_returns(seller: SyntheticSeller, plan: OrderPlan) -> list[ReturnEvent]:
    """The returns an order will ever have (about 5% of shipped FBA items), fixed by the seed."""
    shipped = shipped_at(plan)
    if shipped is None or plan.fulfillment_channel != "AFN":
        return []
    rng = seller.rng("returns", plan.amazon_order_id)
    centers = _FULFILLMENT_CENTERS[by_id(plan.marketplace_id).region]
    events = []
    for item in plan.items:
        if rng.random() >= 0.05:
            continue
        at = (shipped + timedelta(days=rng.uniform(2, 30))).replace(microsecond=0)
        events.append(ReturnEvent(
            at=at, plan=plan, item=item, quantity=rng.randint(1, item.quantity),
            fulfillment_center=rng.choice(centers), disposition=rng.choice(_DISPOSITIONS),
            reason=rng.choice(_RETURN_REASONS), license_plate=f"LPN{rng.randrange(10**9, 10**10)}",
            comment=rng.choice(_RETURN_COMMENTS),
        ))
    return events


def returns_between(seller: SyntheticSeller, marketplace_id: str, start: datetime, end_exclusive: datetime,
                    as_of: datetime) -> Iterator[ReturnEvent]:
    """Returns with start <= return date < end that had happened by ``as_of``."""
    end = min(end_exclusive, as_of + timedelta(microseconds=1))
    for plan in plans_purchased(seller, marketplace_id, start - _RETURN_HORIZON, end):
        for event in plan_returns(seller, plan):
            if start <= event.at < end:
                yield event


def write_customer_returns(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    sink = TsvSink(out, header("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"))
    if window_has_history(spec):
        for marketplace_id in spec.marketplace_ids:
            for event in returns_between(seller, marketplace_id, spec.data_start, spec.end_exclusive, spec.as_of):
                product = seller.product(marketplace_id, event.item.sku)
                sink.mapping({
                    "return-date": report_time(event.at), "order-id": event.plan.amazon_order_id,
                    "sku": event.item.sku, "asin": event.item.asin, "fnsku": product.fnsku if product else "",
                    "product-name": event.item.title, "quantity": str(event.quantity),
                    "fulfillment-center-id": event.fulfillment_center, "detailed-disposition": event.disposition,
                    "reason": event.reason, "status": "Unit returned to inventory",
                    "license-plate-number": event.license_plate, "customer-comments": event.comment,
                })
    sink.flush()
    return sink.rows


# ------------------------------------------------------------------------------------------ ledger
def ledger_periods(start: date, end: date, period: str) -> list[tuple[date, date, str]]:
    """(first day, last day, Date column) of each DAILY/WEEKLY/MONTHLY period touching [start, end]."""
    periods = []
    if period == "DAILY":
        day = start
        while day <= end:
            periods.append((day, day, day.strftime("%m/%d/%Y")))
            day += timedelta(days=1)
    elif period == "WEEKLY":
        day = start - timedelta(days=(start.weekday() + 1) % 7)  # weeks start on Sunday
        while day <= end:
            periods.append((day, day + timedelta(days=6), day.strftime("%m/%d/%Y")))
            day += timedelta(days=7)
    else:
        day = start.replace(day=1)
        while day <= end:
            following = (day + timedelta(days=32)).replace(day=1)
            periods.append((day, following - timedelta(days=1), day.strftime("%m/%Y")))
            day = following
    return periods


def _ledger_balance(seller: SyntheticSeller, marketplace_id: str, sku: str, location: str, day: date) -> int:
    return seller.rng("ledger-balance", marketplace_id, sku, location, day.toordinal()).randint(40, 400)


def write_ledger_summary(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """Monthly/weekly/daily inventory movements per FNSKU; shipments and returns come from the orders.

    Balances chain: a period's ending balance is the next period's starting balance, and the
    receipts plus unknown events reconcile the two with the shipments and returns in between.
    """
    sink = TsvSink(out, header(catalog.LEDGER_SUMMARY))
    if not window_has_history(spec):
        sink.flush()
        return 0
    period = spec.options.get("aggregatedByTimePeriod", "MONTHLY")
    by_fc = spec.options.get("aggregateByLocation", "COUNTRY") == "FC"
    last_day = min(spec.data_end, spec.as_of).date()
    periods = ledger_periods(spec.data_start.date(), last_day, period)
    for marketplace in spec.marketplaces:
        mp = marketplace.marketplace_id
        centers = _FULFILLMENT_CENTERS[marketplace.region]
        first, last = day_start(periods[0][0]), day_start(periods[-1][1] + timedelta(days=1))
        moved: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0])  # (period, sku, loc) -> ship, ret

        def period_of(moment: datetime) -> date | None:
            d = moment.date()
            return next((p[0] for p in periods if p[0] <= d <= p[1]), None)

        for plan in plans_purchased(seller, mp, first - _SHIP_HORIZON, min(last, spec.as_of)):
            shipped = shipped_at(plan)
            if plan.fulfillment_channel != "AFN" or shipped is None or not first <= shipped < last or shipped > spec.as_of:
                continue
            where = centers[hash_index(plan.amazon_order_id, len(centers))] if by_fc else marketplace.country_code
            for item in plan.items:
                key = period_of(shipped)
                if key is not None:
                    moved[(key, item.sku, where)][0] += item.quantity
        for event in returns_between(seller, mp, first, last, spec.as_of):
            where = event.fulfillment_center if by_fc else marketplace.country_code
            key = period_of(event.at)
            if key is not None:
                moved[(key, event.item.sku, where)][1] += event.quantity
        locations = list(centers) if by_fc else [marketplace.country_code]
        for p_start, p_end, label in periods:
            for product in _afn_products(seller, mp):
                for where in locations:
                    opening = _ledger_balance(seller, mp, product.sku, where, p_start)
                    closing = _ledger_balance(seller, mp, product.sku, where, p_end + timedelta(days=1))
                    shipped_units, returned_units = moved.get((p_start, product.sku, where), (0, 0))
                    gap = closing - opening + shipped_units - returned_units
                    receipts, unknown = (gap, 0) if gap >= 0 else (0, gap)
                    sink.mapping({
                        "Date": label, "FNSKU": product.fnsku, "ASIN": product.asin, "MSKU": product.sku,
                        "Title": product.title, "Disposition": "SELLABLE",
                        "Starting Warehouse Balance": str(opening), "In Transit Between Warehouses": "0",
                        "Receipts": str(receipts), "Customer Shipments": str(-shipped_units),
                        "Customer Returns": str(returned_units), "Vendor Returns": "0",
                        "Warehouse Transfer In/Out": "0", "Found": "0", "Lost": "0", "Damaged": "0",
                        "Disposed": "0", "Other Events": "0", "Ending Warehouse Balance": str(closing),
                        "Unknown Events": str(unknown), "Location": where,
                    })
    sink.flush()
    return sink.rows


def hash_index(text: str, n: int) -> int:
    """A stable index in [0, n) for a string (Python's hash() is salted per process)."""
    return sum(text.encode()) % n


# ------------------------------------------------------------------------------------------ sales and traffic
def parent_asin(seller: SyntheticSeller, marketplace_id: str, product: Product) -> str:
    """Variants of one template share a parent: the catalog lists them in groups of five."""
    index = next(i for i, p in enumerate(seller.products(marketplace_id)) if p.sku == product.sku) // 5
    rng = seller.rng("parent-asin", index)
    return "B0" + "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(8))


def _bucket_start(day: date, granularity: str) -> date:
    if granularity == "WEEK":
        return day - timedelta(days=(day.weekday() + 1) % 7)
    if granularity == "MONTH":
        return day.replace(day=1)
    return day


def _bucket_end(day: date, granularity: str) -> date:
    if granularity == "WEEK":
        return _bucket_start(day, "WEEK") + timedelta(days=6)
    if granularity == "MONTH":
        return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return day


@dataclass
class _Sales:
    sales: Decimal = Decimal(0)
    units: int = 0
    items: int = 0
    sales_b2b: Decimal = Decimal(0)
    units_b2b: int = 0
    items_b2b: int = 0
    refunded: int = 0
    shipped_sales: Decimal = Decimal(0)
    shipped_units: int = 0
    shipped_orders: set[str] = field(default_factory=set)


def _amount(value: Decimal, currency: str) -> dict:
    return {"amount": float(value.quantize(Decimal("1") if currency == "JPY" else Decimal("0.01"))),
            "currencyCode": currency}


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 2) if denominator else 0.0


def sales_and_traffic(seller: SyntheticSeller, spec: DocumentSpec) -> dict | None:
    """The GET_SALES_AND_TRAFFIC_REPORT document; None when the window has no data.

    Ordered product sales are the item prices of the orders purchased on each (UTC) day and not
    cancelled at the request moment: the same amounts the all-orders report lists for those orders.
    """
    if not window_has_history(spec):
        return None
    date_gran = spec.options.get("dateGranularity", "DAY")
    asin_gran = spec.options.get("asinGranularity", "PARENT")
    first = _bucket_start(spec.data_start.date(), date_gran)
    last = _bucket_end(min(spec.data_end, spec.as_of).date(), date_gran)
    start, end = day_start(first), min(day_start(last + timedelta(days=1)), spec.as_of)
    marketplace_id = spec.marketplace_ids[0]
    currency = by_id(marketplace_id).currency
    by_bucket: dict[date, _Sales] = defaultdict(_Sales)
    by_asin: dict[tuple[str, str, str], _Sales] = defaultdict(_Sales)
    products = {p.sku: p for p in seller.products(marketplace_id)}
    parents = {sku: parent_asin(seller, marketplace_id, p) for sku, p in products.items()}
    for plan in plans_purchased(seller, marketplace_id, start - _SHIP_HORIZON, end):
        order = plan.at(spec.as_of)
        if order is None or order.status == "Canceled":
            continue
        if start <= plan.purchase_date < end:
            bucket = by_bucket[_bucket_start(plan.purchase_date.date(), date_gran)]
            for item in plan.items:
                key = _asin_key(asin_gran, parents[item.sku], item.asin, item.sku)
                for agg in (bucket, by_asin[key]):
                    agg.sales += item.item_price
                    agg.units += item.quantity
                    agg.items += 1
                    if plan.is_business_order:
                        agg.sales_b2b += item.item_price
                        agg.units_b2b += item.quantity
                        agg.items_b2b += 1
        shipped = shipped_at(plan)
        if shipped is not None and start <= shipped < end and shipped <= spec.as_of:
            bucket = by_bucket[_bucket_start(shipped.date(), date_gran)]
            bucket.shipped_sales += sum((i.item_price for i in plan.items), Decimal(0))
            bucket.shipped_units += sum(i.quantity for i in plan.items)
            bucket.shipped_orders.add(plan.amazon_order_id)
    for event in returns_between(seller, marketplace_id, start, end, spec.as_of):
        by_bucket[_bucket_start(event.at.date(), date_gran)].refunded += event.quantity
    by_date = []
    day = first
    while day <= last and day_start(day) < end:
        by_date.append(_by_date_entry(seller, marketplace_id, day, by_bucket[day], currency))
        day = _bucket_end(day, date_gran) + timedelta(days=1)
    by_asin_list = [_by_asin_entry(seller, marketplace_id, key, agg, currency, asin_gran, spec)
                    for key, agg in sorted(by_asin.items())]
    return {
        "reportSpecification": {
            "reportType": spec.report_type,
            "reportOptions": {"dateGranularity": date_gran, "asinGranularity": asin_gran},
            "dataStartTime": spec.data_start.date().isoformat(),
            "dataEndTime": spec.data_end.date().isoformat(),
            "marketplaceIds": list(spec.marketplace_ids),
        },
        "salesAndTrafficByDate": by_date,
        "salesAndTrafficByAsin": by_asin_list,
    }


def _asin_key(granularity: str, parent: str, child: str, sku: str) -> tuple[str, str, str]:
    if granularity == "SKU":
        return (parent, child, sku)
    if granularity == "CHILD":
        return (parent, child, "")
    return (parent, "", "")


def _by_date_entry(seller: SyntheticSeller, marketplace_id: str, day: date, agg: _Sales, currency: str) -> dict:
    rng = seller.rng("traffic-by-date", marketplace_id, day.toordinal())
    browser_views = agg.units * rng.randint(8, 14) + rng.randint(20, 80)
    mobile_views = agg.units * rng.randint(5, 10) + rng.randint(10, 60)
    browser_sessions = max(1, int(browser_views * rng.uniform(0.6, 0.8)))
    mobile_sessions = max(1, int(mobile_views * rng.uniform(0.6, 0.8)))
    sessions = browser_sessions + mobile_sessions
    feedback = rng.randint(0, 5)
    negative = rng.randint(0, min(1, feedback))
    return {
        "date": day.isoformat(),
        "salesByDate": {
            "orderedProductSales": _amount(agg.sales, currency),
            "orderedProductSalesB2B": _amount(agg.sales_b2b, currency),
            "unitsOrdered": agg.units, "unitsOrderedB2B": agg.units_b2b,
            "totalOrderItems": agg.items, "totalOrderItemsB2B": agg.items_b2b,
            "averageSalesPerOrderItem": _amount(agg.sales / agg.items if agg.items else Decimal(0), currency),
            "averageSalesPerOrderItemB2B": _amount(agg.sales_b2b / agg.items_b2b if agg.items_b2b else Decimal(0),
                                                   currency),
            "averageUnitsPerOrderItem": _ratio(agg.units, agg.items),
            "averageUnitsPerOrderItemB2B": _ratio(agg.units_b2b, agg.items_b2b),
            "averageSellingPrice": _amount(agg.sales / agg.units if agg.units else Decimal(0), currency),
            "averageSellingPriceB2B": _amount(agg.sales_b2b / agg.units_b2b if agg.units_b2b else Decimal(0),
                                              currency),
            "unitsRefunded": agg.refunded,
            "refundRate": _ratio(agg.refunded * 100, agg.units),
            "claimsGranted": 0,
            "claimsAmount": _amount(Decimal(0), currency),
            "shippedProductSales": _amount(agg.shipped_sales, currency),
            "unitsShipped": agg.shipped_units,
            "ordersShipped": len(agg.shipped_orders),
        },
        "trafficByDate": {
            "browserPageViews": browser_views, "mobileAppPageViews": mobile_views,
            "pageViews": browser_views + mobile_views,
            "browserSessions": browser_sessions, "mobileAppSessions": mobile_sessions, "sessions": sessions,
            "buyBoxPercentage": round(rng.uniform(80, 100), 2),
            "orderItemSessionPercentage": _ratio(agg.items * 100, sessions),
            "unitSessionPercentage": _ratio(agg.units * 100, sessions),
            "averageOfferCount": rng.randint(1, 6), "averageParentItems": 12,
            "feedbackReceived": feedback, "negativeFeedbackReceived": negative,
            "receivedNegativeFeedbackRate": _ratio(negative * 100, feedback),
        },
    }


def _by_asin_entry(seller: SyntheticSeller, marketplace_id: str, key: tuple[str, str, str], agg: _Sales,
                   currency: str, granularity: str, spec: DocumentSpec) -> dict:
    parent, child, sku = key
    rng = seller.rng("traffic-by-asin", marketplace_id, parent, child, sku, spec.data_start.date().toordinal())
    browser_sessions = agg.units * rng.randint(6, 12) + rng.randint(1, 20)
    mobile_sessions = agg.units * rng.randint(4, 9) + rng.randint(1, 15)
    sessions = browser_sessions + mobile_sessions
    browser_views, mobile_views = int(browser_sessions * 1.3), int(mobile_sessions * 1.2)
    entry: dict = {"parentAsin": parent}
    if granularity in ("CHILD", "SKU"):
        entry["childAsin"] = child
    if granularity == "SKU":
        entry["sku"] = sku
    entry["salesByAsin"] = {
        "unitsOrdered": agg.units, "unitsOrderedB2B": agg.units_b2b,
        "orderedProductSales": _amount(agg.sales, currency),
        "orderedProductSalesB2B": _amount(agg.sales_b2b, currency),
        "totalOrderItems": agg.items, "totalOrderItemsB2B": agg.items_b2b,
    }
    entry["trafficByAsin"] = {
        "browserSessions": browser_sessions, "mobileAppSessions": mobile_sessions, "sessions": sessions,
        "browserSessionPercentage": round(rng.uniform(0.5, 9), 2),
        "mobileAppSessionPercentage": round(rng.uniform(0.5, 9), 2),
        "sessionPercentage": round(rng.uniform(0.5, 9), 2),
        "browserPageViews": browser_views, "mobileAppPageViews": mobile_views,
        "pageViews": browser_views + mobile_views,
        "browserPageViewsPercentage": round(rng.uniform(0.5, 9), 2),
        "mobileAppPageViewsPercentage": round(rng.uniform(0.5, 9), 2),
        "pageViewsPercentage": round(rng.uniform(0.5, 9), 2),
        "buyBoxPercentage": round(rng.uniform(80, 100), 2),
        "unitSessionPercentage": _ratio(agg.units * 100, sessions),
    }
    return entry


# ------------------------------------------------------------------------------------------ settlement
SETTLEMENT_ANCHOR = datetime(2020, 1, 3, 8, 0, tzinfo=UTC)  # a Friday; periods run every 14 days from it
SETTLEMENT_PERIOD = timedelta(days=14)
SETTLEMENT_DELAY = timedelta(hours=6)  # Amazon posts the report a few hours after the period closes


def settlement_period(index: int) -> tuple[datetime, datetime]:
    start = SETTLEMENT_ANCHOR + SETTLEMENT_PERIOD * index
    return start, start + SETTLEMENT_PERIOD


def settlement_id(marketplace_id: str, index: int) -> str:
    return f"{1_000_000 + index * 100 + MARKETPLACES.index(by_id(marketplace_id)):d}"


@dataclass(frozen=True)
class Posting:
    transaction_type: str
    order_id: str
    shipment_id: str
    amount_type: str
    amount_description: str
    amount: Decimal
    fulfillment_id: str
    posted: datetime
    order_item_code: str
    sku: str
    quantity: str
    promotion_id: str


def settlement_postings(seller: SyntheticSeller, marketplace_id: str, start: datetime,
                        end: datetime) -> Iterator[Posting]:
    """Money movements posted in [start, end): shipped items (price, tax, fees, promotions), then refunds.

    The settlement report of a period and the Finances API's events (``backends/finances.py``) are both
    cut from these postings, so a settlement's total is the sum of its period's financial events."""
    currency = by_id(marketplace_id).currency
    for plan in plans_purchased(seller, marketplace_id, start - _SHIP_HORIZON, end):
        shipped = shipped_at(plan)
        if shipped is not None and start <= shipped < end:
            yield from shipment_postings(seller, plan, shipped, currency)
    for event in returns_between(seller, marketplace_id, start, end, end):
        yield refund_posting(event, currency)


def postings_by_order(seller: SyntheticSeller, marketplace_id: str, start: datetime,
                      end: datetime) -> Iterator[Posting]:
    """The same postings as :func:`settlement_postings`, in one pass over the orders (each order's shipment,
    then its refunds): half the order generation for long windows, in another order."""
    currency = by_id(marketplace_id).currency
    for plan in plans_purchased(seller, marketplace_id, start - _RETURN_HORIZON, end):
        shipped = shipped_at(plan)
        if shipped is not None and start <= shipped < end:
            yield from shipment_postings(seller, plan, shipped, currency)
        for event in plan_returns(seller, plan):
            if start <= event.at < end:
                yield refund_posting(event, currency)


def shipment_postings(seller: SyntheticSeller, plan: OrderPlan, shipped: datetime, currency: str) -> Iterator[Posting]:
    """A shipped order's postings: each item's price, tax, shipping, Amazon's fees and its promotion."""
    shipment = f"D{seller.rng('shipment', plan.amazon_order_id).randrange(10**8, 10**9)}"
    for item in plan.items:
        base: dict[str, Any] = dict(transaction_type="Order", order_id=plan.amazon_order_id, shipment_id=shipment,
                                    fulfillment_id=plan.fulfillment_channel, posted=shipped,
                                    order_item_code=item.order_item_id, sku=item.sku, promotion_id="")
        yield Posting(amount_type="ItemPrice", amount_description="Principal", amount=item.item_price,
                      quantity=str(item.quantity), **base)
        yield Posting(amount_type="ItemPrice", amount_description="Tax", amount=item.item_tax, quantity="", **base)
        if item.shipping_price:
            yield Posting(amount_type="ItemPrice", amount_description="Shipping", amount=item.shipping_price,
                          quantity="", **base)
        for fee_type, fee in item_fees(item.item_price, item.unit_price, item.quantity, plan.fulfillment_channel,
                                       currency):
            yield Posting(amount_type="ItemFees", amount_description=fee_type, amount=fee, quantity="", **base)
        if item.promotion_discount:
            yield Posting(amount_type="Promotion", amount_description="Principal",
                          amount=-item.promotion_discount, quantity="",
                          **{**base, "promotion_id": item.promotion_id or ""})


def refund_posting(event: ReturnEvent, currency: str) -> Posting:
    """A customer return's refund: the returned units' share of the item price, negative."""
    unit = event.item.item_price / event.item.quantity
    return Posting(transaction_type="Refund", order_id=event.plan.amazon_order_id, shipment_id="",
                   amount_type="ItemPrice", amount_description="Principal",
                   amount=_settle_money(-unit * event.quantity, currency), fulfillment_id="AFN", posted=event.at,
                   order_item_code=event.item.order_item_id, sku=event.item.sku, quantity=str(event.quantity),
                   promotion_id="")


# The seller's fee rule: a 15% referral fee (Commission) on the item price, and for FBA a fulfilment fee of
# 12% of the unit price per unit. Product Fees' estimates (sandbox/backends/product_fees.py) use it too.
COMMISSION_RATE = Decimal("0.15")
FBA_FEE_RATE = Decimal("0.12")


def item_fees(item_price: Decimal, unit_price: Decimal, quantity: int, fulfillment_channel: str,
              currency: str) -> list[tuple[str, Decimal]]:
    """The fees Amazon charges for one shipped order line, as settlement postings (negative amounts), by
    settlement fee type: ``Commission`` always, ``FBAPerUnitFulfillmentFee`` when ``AFN``."""
    fees = [("Commission", _settle_money(-item_price * COMMISSION_RATE, currency))]
    if fulfillment_channel == "AFN":
        fees.append(("FBAPerUnitFulfillmentFee", _settle_money(-unit_price * FBA_FEE_RATE * quantity, currency)))
    return fees


def _settle_money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal("1") if currency == "JPY" else Decimal("0.01"))


def write_settlement(seller: SyntheticSeller, marketplace_id: str, index: int, out: TextIO, v2: bool) -> int:
    """A settlement flat file: a summary row, then one row per posting (two passes: total first).

    Dates and amounts are written in the marketplace's conventions (``catalog.MARKETPLACE_FORMATS``):
    ``02.01.2026 08:00:00 UTC`` and ``1.234,56`` in Germany, ``2026-01-02 08:00:00 UTC`` and
    ``1,234.56`` in the US."""
    marketplace = by_id(marketplace_id)
    start, end = settlement_period(index)
    total = sum((p.amount for p in settlement_postings(seller, marketplace_id, start, end)), Decimal(0))
    sid = settlement_id(marketplace_id, index)
    cur = marketplace.currency

    def fmt(value: datetime) -> str:
        return local_time(value, marketplace)

    def amount(value: Decimal) -> str:
        return local_money(value, marketplace)

    sink = TsvSink(out, header(SETTLEMENT_V2 if v2 else SETTLEMENT_V1))
    sink.mapping({"settlement-id": sid, "settlement-start-date": fmt(start), "settlement-end-date": fmt(end),
                  "deposit-date": fmt(end + timedelta(days=1)), "total-amount": amount(total), "currency": cur})
    for p in settlement_postings(seller, marketplace_id, start, end):
        row = {"settlement-id": sid, "transaction-type": p.transaction_type, "order-id": p.order_id,
               "shipment-id": p.shipment_id, "marketplace-name": marketplace.sales_channel,
               "fulfillment-id": p.fulfillment_id, "order-item-code": p.order_item_code, "sku": p.sku,
               "quantity-purchased": p.quantity, "promotion-id": p.promotion_id}
        if v2:
            row.update({"amount-type": p.amount_type, "amount-description": p.amount_description,
                        "amount": amount(p.amount), "posted-date": local_date(p.posted, marketplace),
                        "posted-date-time": fmt(p.posted)})
        else:
            row["posted-date"] = fmt(p.posted)
            if p.amount_type == "ItemPrice":
                row.update({"price-type": p.amount_description, "price-amount": amount(p.amount)})
            elif p.amount_type == "ItemFees":
                row.update({"item-related-fee-type": p.amount_description,
                            "item-related-fee-amount": amount(p.amount)})
            else:
                row.update({"promotion-type": p.amount_description, "promotion-amount": amount(p.amount)})
        sink.mapping(row)
    sink.flush()
    return sink.rows - 1


# ------------------------------------------------------------------------------------------ storage fees
_SIZE_TIERS = (("Small standard-size", 0.78), ("Large standard-size", 0.78), ("Large bulky", 0.56))


def _months_charged(spec: DocumentSpec) -> list[date]:
    """First days of the calendar months in the window that had ended when the report was requested
    (Amazon charges a month's storage after it ends)."""
    months = []
    month = spec.data_start.astimezone(UTC).date().replace(day=1)
    while day_start(month) <= min(spec.data_end, spec.as_of):
        following = (month + timedelta(days=32)).replace(day=1)
        if day_start(following) <= spec.as_of:
            months.append(month)
        month = following
    return months


def write_storage_fees(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """GET_FBA_STORAGE_FEE_CHARGES_DATA: one row per FBA SKU, fulfillment center and month charged.

    Dimensions and the size tier are fixed per SKU; the average quantity on hand comes from the SKU's
    inventory levels in mid-month, so the fee follows the inventory reports' quantities.
    """
    sink = TsvSink(out, header(catalog.STORAGE_FEES))
    if window_has_history(spec):
        for marketplace in spec.marketplaces:
            mp = marketplace.marketplace_id
            for month in _months_charged(spec):
                for product in _afn_products(seller, mp):
                    sink.mapping(_storage_fee_row(seller, marketplace, product, month))
    sink.flush()
    return sink.rows


def _storage_fee_row(seller: SyntheticSeller, marketplace: Marketplace, product: Product, month: date) -> dict:
    mp = marketplace.marketplace_id
    shape = seller.rng("storage-shape", mp, product.sku)
    sides = sorted((round(shape.uniform(2, 18), 2) for _ in range(3)), reverse=True)
    tier, base_rate = _SIZE_TIERS[0] if sides[0] < 12 else _SIZE_TIERS[1] if sides[0] < 17 else _SIZE_TIERS[2]
    volume = round(sides[0] * sides[1] * sides[2] / 1728, 4)  # cubic feet
    levels = inventory_levels(seller, mp, product.sku, month + timedelta(days=14))
    on_hand = round(levels.fulfillable + levels.reserved * 0.5, 2)
    pending_removal = round(levels.unsellable * 0.5, 2)
    total_volume = round(volume * on_hand, 4)
    fee = Decimal(str(total_volume)) * Decimal(str(base_rate))
    center = _FULFILLMENT_CENTERS[marketplace.region][hash_index(product.sku, len(_FULFILLMENT_CENTERS[marketplace.region]))]
    return {
        "asin": product.asin, "fnsku": product.fnsku, "product_name": product.title,
        "fulfillment_center": center, "country_code": marketplace.country_code,
        "longest_side": f"{sides[0]:.2f}", "median_side": f"{sides[1]:.2f}", "shortest_side": f"{sides[2]:.2f}",
        "measurement_units": "inches", "weight": f"{shape.uniform(0.1, 12):.2f}", "weight_units": "pounds",
        "item_volume": f"{volume:.4f}", "volume_units": "cubic feet", "product_size_tier": tier,
        "average_quantity_on_hand": f"{on_hand:.2f}", "average_quantity_pending_removal": f"{pending_removal:.2f}",
        "estimated_total_item_volume": f"{total_volume:.4f}", "month_of_charge": month.strftime("%Y-%m"),
        "storage_utilization_ratio": "", "storage_utilization_ratio_units": "",
        "base_rate": f"{base_rate:.2f}", "utilization_surcharge_rate": "0.00", "currency": marketplace.currency,
        "estimated_monthly_storage_fee": money(fee, marketplace.currency),
        "dangerous_goods_storage_type": "--", "eligible_for_inventory_discount": "N",
        "qualifies_for_inventory_discount": "N", "total_incentive_fee_amount": "0.00",
        "breakdown_incentive_fee_amount": "", "average_quantity_customer_orders": f"{shape.uniform(0, 30):.2f}",
    }


# ------------------------------------------------------------------------------------------ registry
FlatFileGenerator = Callable[[SyntheticSeller, DocumentSpec, TextIO], int]
JsonGenerator = Callable[[SyntheticSeller, DocumentSpec], dict | None]

# The report types the sandbox generates on request, by format (the catalog row says which format,
# which options are valid and whether the type can be requested at all). Settlements are listed,
# not requested: ``write_settlement_document`` writes them.
FLAT_FILE_GENERATORS: dict[str, FlatFileGenerator] = {
    catalog.ALL_ORDERS_BY_ORDER_DATE:
        lambda s, spec, out: write_all_orders(orders_by_order_date(s, spec), out, with_cpf=True),
    catalog.ALL_ORDERS_BY_LAST_UPDATE:
        lambda s, spec, out: write_all_orders(orders_by_last_update(s, spec), out, with_cpf=False),
    "GET_MERCHANT_LISTINGS_ALL_DATA": write_merchant_listings,
    "GET_FLAT_FILE_OPEN_LISTINGS_DATA": write_open_listings,
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA": write_myi_unsuppressed,
    "GET_AFN_INVENTORY_DATA": write_afn_inventory,
    catalog.LEDGER_SUMMARY: write_ledger_summary,
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA": write_customer_returns,
    catalog.STORAGE_FEES: write_storage_fees,
}
JSON_GENERATORS: dict[str, JsonGenerator] = {SALES_AND_TRAFFIC: sales_and_traffic, **report_documents_json.GENERATORS}


def xml_generators() -> dict[str, Callable[[SyntheticSeller, DocumentSpec, TextIO], int]]:
    """The XML generators (``report_documents_xml``, which builds on this module: imported when asked)."""
    from sp_assets.sandbox.report_documents_xml import XML_GENERATORS

    return XML_GENERATORS
# The seller reports other connectors offer (issue 14): their module reuses the helpers above and adds
# its generators to FLAT_FILE_GENERATORS itself, so either module can be imported first.
import sp_assets.sandbox.report_documents_more  # noqa: E402, F401


def served_types() -> list[str]:
    """The report types createReport accepts here: those with a generator."""
    return sorted([*FLAT_FILE_GENERATORS, *JSON_GENERATORS, *xml_generators()])


def content_type(row: catalog.ReportType, marketplace: Marketplace) -> str:
    if row.fmt == catalog.JSON:
        return "application/json"
    if row.fmt == catalog.XML:
        return "text/xml; charset=UTF-8"
    return f"text/tab-separated-values; charset={_charset(row, marketplace)}"


def _charset(row: catalog.ReportType, marketplace: Marketplace) -> str:
    return "UTF-8" if row.charset == catalog.UTF8 else marketplace.charset


def write_gzip(path: Path, charset: str, body: Callable[[TextIO], int]) -> int:
    """Run ``body`` against a text stream that lands gzip-compressed in ``path`` (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    try:
        with gzip.open(partial, "wb", compresslevel=5) as raw, \
                io.TextIOWrapper(raw, encoding=python_codec(charset), errors="replace", newline="") as text:
            rows = body(text)
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return rows


def write_document(seller: SyntheticSeller, spec: DocumentSpec, path: Path) -> GeneratedDocument:
    """Write the report's document to ``path`` (gzip); rows == 0 means "no data" (CANCELLED)."""
    row = catalog.lookup(spec.report_type)
    marketplace = spec.marketplaces[0]
    if row.fmt == catalog.JSON:
        json_generator = JSON_GENERATORS.get(row.name)
        if json_generator is None:
            raise DocumentError(f"{spec.report_type} documents are not generated by this sandbox")
        document = json_generator(seller, spec)
        if document is None:
            return GeneratedDocument(0, content_type(row, marketplace))
        write_gzip(path, _charset(row, marketplace), lambda out: out.write(json.dumps(document, separators=(",", ":"))))
        rows_key = report_documents_json.ROWS_KEY.get(row.name, "salesAndTrafficByDate")
        return GeneratedDocument(max(1, len(document[rows_key])), content_type(row, marketplace))
    if row.fmt == catalog.XML:
        xml_generator = xml_generators().get(row.name)
        if xml_generator is None:
            raise DocumentError(f"{spec.report_type} documents are not generated by this sandbox")
        rows = write_gzip(path, "UTF-8", lambda out: xml_generator(seller, spec, out))
        if rows == 0 and path.exists():
            path.unlink()
        return GeneratedDocument(rows, content_type(row, marketplace))
    generator = FLAT_FILE_GENERATORS.get(row.name)
    if generator is None:
        raise DocumentError(f"{spec.report_type} documents are not generated on request")
    rows = write_gzip(path, _charset(row, marketplace), lambda out: generator(seller, spec, out))
    if rows == 0 and path.exists():
        path.unlink()
    return GeneratedDocument(rows, content_type(row, marketplace))


def write_settlement_document(seller: SyntheticSeller, marketplace_id: str, index: int, v2: bool,
                              path: Path) -> GeneratedDocument:
    marketplace = by_id(marketplace_id)
    row = catalog.lookup(SETTLEMENT_V2 if v2 else SETTLEMENT_V1)
    rows = write_gzip(path, _charset(row, marketplace),
                      lambda out: write_settlement(seller, marketplace_id, index, out, v2))
    return GeneratedDocument(rows, content_type(row, marketplace))
