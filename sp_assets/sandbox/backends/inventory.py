"""FBA Inventory v1 (getInventorySummaries): what the seller's FBA (AFN) products have in stock.

Each FBA SKU's stock changes once a day, at a moment seeded by (marketplace, SKU, day): a restock
cycle (a sawtooth of 10-25 days) minus the units the seller's AFN orders took since the previous
change, with reserved units counted from the orders still pending at the change. ``lastUpdatedTime``
is the latest change at or before the moment asked about. Inbound quantities come from the FBA Inbound
backend's shipments at that moment; as Amazon documents, changes in them do not move
``lastUpdatedTime``. Only AFN products have FBA inventory.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sp_assets.sandbox.backends.inbound import InboundBackend
from sp_assets.sandbox.operations import iso
from sp_assets.sandbox.seller import Product, SyntheticSeller

PAGE_SIZE = 50
MAX_SELLER_SKUS = 50
NEXT_TOKEN_SECONDS = 30.0  # Amazon: "The string token will expire 30 seconds after being created."
_PENDING_LOOKBACK = timedelta(days=3)  # AFN orders ship within 64 h of purchase


@dataclass(frozen=True)
class InventorySummary:
    """One SKU's FBA inventory at a moment; every quantity Amazon reports, flat."""

    asin: str
    fn_sku: str
    seller_sku: str
    product_name: str
    last_updated_time: datetime
    fulfillable: int
    inbound_working: int
    inbound_shipped: int
    inbound_receiving: int
    pending_customer_order: int
    pending_transshipment: int
    fc_processing: int
    researching: tuple[int, int, int]  # short, mid, long term
    customer_damaged: int
    warehouse_damaged: int
    distributor_damaged: int
    carrier_damaged: int
    defective: int
    expired: int
    condition: str = "NewItem"
    stores: tuple[str, ...] = field(default=())

    @property
    def total_reserved(self) -> int:
        return self.pending_customer_order + self.pending_transshipment + self.fc_processing

    @property
    def total_researching(self) -> int:
        return sum(self.researching)

    @property
    def total_unfulfillable(self) -> int:
        return (self.customer_damaged + self.warehouse_damaged + self.distributor_damaged
                + self.carrier_damaged + self.defective + self.expired)

    @property
    def total_quantity(self) -> int:
        """Units in an inbound shipment or in Amazon's fulfillment centers."""
        return (self.fulfillable + self.total_reserved + self.total_researching + self.total_unfulfillable
                + self.inbound_working + self.inbound_shipped + self.inbound_receiving)

    def to_json(self, details: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"asin": self.asin, "fnSku": self.fn_sku, "sellerSku": self.seller_sku,
                               "condition": self.condition}
        if details:
            out["inventoryDetails"] = self.details_json()
        out.update({"lastUpdatedTime": iso(self.last_updated_time), "productName": self.product_name,
                    "totalQuantity": self.total_quantity, "stores": list(self.stores)})
        return out

    def details_json(self) -> dict[str, Any]:
        names = ("researchingQuantityInShortTerm", "researchingQuantityInMidTerm", "researchingQuantityInLongTerm")
        return {
            "fulfillableQuantity": self.fulfillable,
            "inboundWorkingQuantity": self.inbound_working,
            "inboundShippedQuantity": self.inbound_shipped,
            "inboundReceivingQuantity": self.inbound_receiving,
            "reservedQuantity": {"totalReservedQuantity": self.total_reserved,
                                 "pendingCustomerOrderQuantity": self.pending_customer_order,
                                 "pendingTransshipmentQuantity": self.pending_transshipment,
                                 "fcProcessingQuantity": self.fc_processing},
            "researchingQuantity": {"totalResearchingQuantity": self.total_researching,
                                    "researchingQuantityBreakdown": [
                                        {"name": n, "quantity": q} for n, q in zip(names, self.researching, strict=True)]},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": self.total_unfulfillable,
                                      "customerDamagedQuantity": self.customer_damaged,
                                      "warehouseDamagedQuantity": self.warehouse_damaged,
                                      "distributorDamagedQuantity": self.distributor_damaged,
                                      "carrierDamagedQuantity": self.carrier_damaged,
                                      "defectiveQuantity": self.defective,
                                      "expiredQuantity": self.expired},
        }


@dataclass(frozen=True)
class _OrderLine:
    purchase_date: datetime
    sku: str
    quantity: int
    plan: Any  # OrderPlan, to read its status at the change moment


class InventoryBackend:
    """FBA inventory over the synthetic seller and the inbound shipments. Stateless besides caches."""

    def __init__(self, seller: SyntheticSeller, inbound: InboundBackend | None = None) -> None:
        self.seller = seller
        self.inbound = inbound or InboundBackend(seller)
        self._lines = lru_cache(maxsize=512)(self._afn_lines)

    # ------------------------------------------------------------------------------ ground truth
    def fba_products(self, marketplace_id: str) -> list[Product]:
        """The products with FBA inventory, sorted by SKU (the order pages are cut in)."""
        return sorted((p for p in self.seller.products(marketplace_id) if p.fulfillment_channel == "AFN"),
                      key=lambda p: p.sku)

    def inventory_summaries(self, marketplace_id: str, as_of: datetime | None = None) -> list[InventorySummary]:
        """Every FBA SKU's summary at ``as_of`` (default now), sorted by SKU."""
        moment = as_of or self.seller.now()
        inbound = self.inbound.inbound_units(marketplace_id, moment)
        return [self._summary(marketplace_id, p, moment, inbound.get(p.sku, (0, 0, 0)))
                for p in self.fba_products(marketplace_id)]

    def inventory_summary(self, marketplace_id: str, sku: str, as_of: datetime | None = None) -> InventorySummary | None:
        return next((s for s in self.inventory_summaries(marketplace_id, as_of) if s.seller_sku == sku), None)

    def change_moment(self, marketplace_id: str, sku: str, day: date) -> datetime:
        """When the SKU's stock changes on the UTC ``day`` (one change a day, whole seconds)."""
        second = self.seller.rng("inventory-change", marketplace_id, sku, day.toordinal()).randrange(3600, 86400 - 60)
        return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(seconds=second)

    def last_change(self, marketplace_id: str, sku: str, as_of: datetime) -> datetime:
        day = as_of.astimezone(UTC).date()
        moment = self.change_moment(marketplace_id, sku, day)
        return moment if moment <= as_of else self.change_moment(marketplace_id, sku, day - timedelta(days=1))

    # ------------------------------------------------------------------------------------ rules
    def _summary(self, marketplace_id: str, product: Product, as_of: datetime,
                 inbound: tuple[int, int, int]) -> InventorySummary:
        changed = self.last_change(marketplace_id, product.sku, as_of)
        day = changed.date()
        previous = self.change_moment(marketplace_id, product.sku, day - timedelta(days=1))
        lines = [line for line in self._lines(marketplace_id, day) if line.sku == product.sku]
        sold = sum(line.quantity for line in lines if previous <= line.purchase_date < changed)
        pending = sum(line.quantity for line in lines if changed - _PENDING_LOOKBACK <= line.purchase_date < changed
                      and line.plan.at(changed).status in ("Pending", "Unshipped"))
        fixed = self.seller.rng("inventory-profile", marketplace_id, product.sku)
        capacity, cycle, phase = fixed.randint(80, 400), fixed.randint(10, 25), fixed.randrange(25)
        daily = self.seller.rng(marketplace_id, product.sku, day.toordinal())
        position = (day.toordinal() + phase) % cycle
        fulfillable = max(0, round(capacity * (1 - position / cycle)) - sold + daily.randint(-3, 3))
        return InventorySummary(
            asin=product.asin, fn_sku=product.fnsku, seller_sku=product.sku, product_name=product.title,
            last_updated_time=changed, fulfillable=fulfillable,
            inbound_working=inbound[0], inbound_shipped=inbound[1], inbound_receiving=inbound[2],
            pending_customer_order=pending,
            pending_transshipment=_sometimes(daily, 0.2, 1, 6), fc_processing=_sometimes(daily, 0.3, 1, 4),
            researching=(_sometimes(daily, 0.1, 1, 3), _sometimes(daily, 0.05, 1, 2), _sometimes(daily, 0.03, 1, 2)),
            customer_damaged=_sometimes(daily, 0.2, 1, 3), warehouse_damaged=_sometimes(daily, 0.1, 1, 2),
            distributor_damaged=_sometimes(daily, 0.03, 1, 1), carrier_damaged=_sometimes(daily, 0.05, 1, 2),
            defective=_sometimes(daily, 0.1, 1, 2), expired=0,
        )

    def _afn_lines(self, marketplace_id: str, day: date) -> tuple[_OrderLine, ...]:
        """AFN order lines purchased in the 3 days up to the end of ``day`` (what a change on ``day`` counts)."""
        lines: list[_OrderLine] = []
        for offset in range(3, -1, -1):
            for plan in self.seller.day_plans(marketplace_id, day - timedelta(days=offset)):
                if plan.fulfillment_channel != "AFN":
                    continue
                lines.extend(_OrderLine(plan.purchase_date, item.sku, item.quantity, plan) for item in plan.items)
        return tuple(lines)

    # ---------------------------------------------------------------------------------- queries
    def select(self, marketplace_id: str, as_of: datetime, start: datetime | None,
               seller_skus: Sequence[str]) -> list[InventorySummary]:
        """What a query selects: changed since ``start`` if given (SKUs ignored), else the SKUs if given."""
        summaries = self.inventory_summaries(marketplace_id, as_of)
        if start is not None:
            return [s for s in summaries if s.last_updated_time >= start]
        if seller_skus:
            wanted = set(seller_skus)
            return [s for s in summaries if s.seller_sku in wanted]
        return summaries


def _sometimes(rng: random.Random, chance: float, low: int, high: int) -> int:
    """A small count that is usually zero; always draws twice so later draws do not shift."""
    hit, value = rng.random() < chance, rng.randint(low, high)
    return value if hit else 0
