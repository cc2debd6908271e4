"""FBA Inbound v0 (getShipments, getShipmentItems, getShipmentItemsByShipmentId): the seller's
shipments of FBA stock to Amazon's fulfillment centers.

A few shipments a week per marketplace, each planned once as a :class:`ShipmentPlan` with its whole
timeline: WORKING when created, SHIPPED a few days later, IN_TRANSIT, RECEIVING (units are received in
steps, each step an update without a new status), CLOSED; some are DELETED before shipping or
CANCELLED after. The :class:`Shipment` seen at a moment is the plan cut there, as orders are.

Items are the seller's FBA (AFN) products, so FulfillmentNetworkSKU is the product's FNSKU and the
FBA Inventory backend counts the same units as inbound. Shipment ids encode marketplace, UTC day
and index (scrambled), so a shipment is found from its id without an index.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sp_assets.lib.marketplaces import MARKETPLACES, by_id
from sp_assets.sandbox.seller import SyntheticSeller

REQUEST_STATUSES = ("WORKING", "READY_TO_SHIP", "SHIPPED", "RECEIVING", "CANCELLED", "DELETED", "CLOSED",
                    "ERROR", "IN_TRANSIT", "DELIVERED", "CHECKED_IN")
QUERY_TYPES = ("SHIPMENT", "DATE_RANGE", "NEXT_TOKEN")
ITEM_QUERY_TYPES = ("DATE_RANGE", "NEXT_TOKEN")
MAX_SHIPMENT_IDS = 999
# A shipment changes at most this long after it was created (see ShipmentPlan timelines).
LATEST_CHANGE = timedelta(days=16)
# Status queries (QueryType=SHIPMENT without ids) look back this far; older shipments are archived.
STATUS_QUERY_HORIZON = timedelta(days=365)

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ID_SPACE = 36**9
_ID_MULTIPLIER = 1_000_003  # prime, coprime with 36**9: index -> id is a bijection
_ID_INVERSE = pow(_ID_MULTIPLIER, -1, _ID_SPACE)
_FULFILLMENT_CENTERS = {
    "US": ("PHX6", "BFI4", "MDW2", "ONT8", "TPA1", "CLT2"), "CA": ("YYZ4", "YVR2"), "MX": ("MEX1",),
    "DE": ("FRA7", "LEJ1", "MUC3", "DTM2"), "GB": ("LTN1", "BHX4", "MAN1"), "FR": ("ORY1", "LYS1"),
    "IT": ("MXP5", "FCO1"), "ES": ("MAD4", "BCN1"), "JP": ("NRT1", "KIX2", "HND3"), "AU": ("SYD1", "MEL1"),
}
_WAREHOUSES = {
    "US": ("501 Fairview Ave N", "Seattle", "WA", "98109"), "CA": ("100 King St W", "Toronto", "ON", "M5X 1A9"),
    "DE": ("Hauptstraße 12", "Köln", "NW", "50667"), "GB": ("10 Market St", "Manchester", "GM", "M1 1AE"),
    "JP": ("1-2-3 Shibuya", "渋谷区", "東京都", "150-0002"), "FR": ("12 Rue de Rivoli", "Paris", "IDF", "75004"),
}
_PREP = (("Labeling", "SELLER"), ("Polybagging", "SELLER"), ("BubbleWrapping", "AMAZON"), ("NoPrep", "SELLER"))


@dataclass(frozen=True)
class ShipmentItemPlan:
    sku: str
    fnsku: str
    quantity_shipped: int
    quantity_in_case: int
    prep: tuple[tuple[str, str], ...]
    final_received: int  # units counted by the time the shipment closes (a few go missing sometimes)


@dataclass(frozen=True)
class Change:
    """One update of a shipment: a new status, or (status None) more units received."""

    at: datetime
    status: str | None
    received_fraction: float


@dataclass(frozen=True)
class ShipmentPlan:
    shipment_id: str
    marketplace_id: str
    name: str
    created: datetime
    destination_fc: str
    label_prep_type: str
    box_contents_source: str
    confirmed_need_by: date
    ship_from: dict[str, str]
    items: tuple[ShipmentItemPlan, ...]
    timeline: tuple[Change, ...]  # first entry is WORKING at ``created``

    @property
    def are_cases_required(self) -> bool:
        return any(i.quantity_in_case > 0 for i in self.items)

    def at(self, moment: datetime) -> Shipment | None:
        """The shipment as Amazon shows it at ``moment``; None before it was created."""
        if moment < self.created:
            return None
        status, updated, fraction = self.timeline[0].status or "WORKING", self.created, 0.0
        for change in self.timeline[1:]:
            if change.at > moment:
                break
            status = change.status or status
            updated, fraction = change.at, change.received_fraction
        return Shipment(self, status, updated, fraction)


@dataclass(frozen=True)
class Shipment:
    """A shipment at one moment: status, last update and units received so far."""

    plan: ShipmentPlan
    status: str
    last_updated: datetime
    received_fraction: float

    @property
    def shipment_id(self) -> str:
        return self.plan.shipment_id

    def quantity_received(self, item: ShipmentItemPlan) -> int:
        if self.status == "CLOSED":
            return item.final_received
        return int(item.quantity_shipped * self.received_fraction)

    def items(self) -> list[tuple[ShipmentItemPlan, int]]:
        """(item, units received so far) for every item of the shipment."""
        return [(item, self.quantity_received(item)) for item in self.plan.items]

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "ShipmentId": plan.shipment_id, "ShipmentName": plan.name, "ShipFromAddress": dict(plan.ship_from),
            "DestinationFulfillmentCenterId": plan.destination_fc, "ShipmentStatus": self.status,
            "LabelPrepType": plan.label_prep_type, "AreCasesRequired": plan.are_cases_required,
            "ConfirmedNeedByDate": plan.confirmed_need_by.isoformat(),
            "BoxContentsSource": plan.box_contents_source,
        }

    def items_json(self) -> list[dict[str, Any]]:
        return [{"ShipmentId": self.plan.shipment_id, "SellerSKU": item.sku, "FulfillmentNetworkSKU": item.fnsku,
                 "QuantityShipped": item.quantity_shipped, "QuantityReceived": received,
                 "QuantityInCase": item.quantity_in_case,
                 "PrepDetailsList": [{"PrepInstruction": i, "PrepOwner": o} for i, o in item.prep]}
                for item, received in self.items()]


class InboundBackend:
    """Inbound shipments over the synthetic seller. Stateless besides the seller (and a cache)."""

    def __init__(self, seller: SyntheticSeller) -> None:
        self.seller = seller
        self._offset = seller.rng("shipment-id-offset").randrange(_ID_SPACE)
        self._day_plans = lru_cache(maxsize=8192)(self._generate_day)

    # ------------------------------------------------------------------------------ ground truth
    def day_plans(self, marketplace_id: str, day: date) -> tuple[ShipmentPlan, ...]:
        """Shipments created in ``marketplace_id`` on the UTC ``day``, by creation time."""
        return self._day_plans(marketplace_id, day)

    def shipments(self, marketplace_id: str, as_of: datetime | None = None,
                  since: datetime | None = None) -> list[Shipment]:
        """Every shipment created in [since, as_of] (default: the status-query horizon), as of ``as_of``."""
        moment = as_of or self.seller.now()
        start = since if since is not None else moment - STATUS_QUERY_HORIZON
        out = []
        for plan in self._plans_created_between(marketplace_id, start, moment):
            shipment = plan.at(moment)
            if shipment is not None:
                out.append(shipment)
        return out

    def shipments_updated_between(self, marketplace_id: str, after: datetime, before: datetime,
                                  as_of: datetime | None = None) -> list[Shipment]:
        """Shipments whose last update at ``as_of`` is in [after, before] (both ends, as Amazon documents)."""
        moment = as_of or self.seller.now()
        found = [s for s in self.shipments(marketplace_id, moment, since=after - LATEST_CHANGE)
                 if after <= s.last_updated <= before]
        found.sort(key=lambda s: (s.last_updated, s.shipment_id))
        return found

    def shipment(self, shipment_id: str, as_of: datetime | None = None) -> Shipment | None:
        plan = self.plan(shipment_id)
        return None if plan is None else plan.at(as_of or self.seller.now())

    def plan(self, shipment_id: str) -> ShipmentPlan | None:
        located = self._decode_id(shipment_id)
        if located is None:
            return None
        marketplace_id, day, index = located
        plans = self.day_plans(marketplace_id, day)
        if index < len(plans) and plans[index].shipment_id == shipment_id:
            return plans[index]
        return None

    def inbound_units(self, marketplace_id: str, as_of: datetime) -> dict[str, tuple[int, int, int]]:
        """Per SKU, (working, shipped, receiving) units in open shipments at ``as_of``, for FBA Inventory."""
        totals: dict[str, list[int]] = {}
        for shipment in self.shipments(marketplace_id, as_of, since=as_of - LATEST_CHANGE):
            slot = {"WORKING": 0, "SHIPPED": 1, "IN_TRANSIT": 1, "RECEIVING": 2}.get(shipment.status)
            if slot is None:
                continue
            for item, received in shipment.items():
                units = item.quantity_shipped - received if slot == 2 else item.quantity_shipped
                totals.setdefault(item.sku, [0, 0, 0])[slot] += units
        return {sku: (w, s, r) for sku, (w, s, r) in totals.items()}

    # ------------------------------------------------------------------------------- generation
    def _plans_created_between(self, marketplace_id: str, start: datetime, end: datetime) -> Iterator[ShipmentPlan]:
        day = start.astimezone(UTC).date()
        while day <= end.astimezone(UTC).date():
            for plan in self.day_plans(marketplace_id, day):
                if start <= plan.created <= end:
                    yield plan
            day += timedelta(days=1)

    def _generate_day(self, marketplace_id: str, day: date) -> tuple[ShipmentPlan, ...]:
        rng = self.seller.rng("inbound", marketplace_id, day.toordinal())
        chance = 0.12 + 0.3 * self.seller.weight(marketplace_id)  # about 3 a week in the busiest marketplace
        roll = rng.random()
        count = (roll < chance) + (roll < chance * 0.15)
        afn = [p for p in self.seller.products(marketplace_id) if p.fulfillment_channel == "AFN"]
        if not afn:
            return ()
        day_start = datetime.combine(day, time(0), tzinfo=UTC)
        moments = sorted(day_start + timedelta(seconds=rng.randrange(6 * 3600, 22 * 3600)) for _ in range(count))
        return tuple(self._plan(rng, marketplace_id, day, index, created, afn)
                     for index, created in enumerate(moments))

    def _plan(self, rng: random.Random, marketplace_id: str, day: date, index: int, created: datetime,
              afn: Sequence[Any]) -> ShipmentPlan:
        marketplace = by_id(marketplace_id)
        country = marketplace.country_code
        items = []
        for product in rng.sample(list(afn), rng.randint(1, min(6, len(afn)))):
            case = rng.choice((0, 0, 6, 12, 24))
            shipped = case * rng.randint(2, 10) if case else rng.randint(10, 150)
            short = rng.random() < 0.15
            items.append(ShipmentItemPlan(
                sku=product.sku, fnsku=product.fnsku, quantity_shipped=shipped, quantity_in_case=case,
                prep=(rng.choice(_PREP),), final_received=shipped - (rng.randint(1, max(1, shipped // 20)) if short else 0),
            ))
        street, city, state, postal = _WAREHOUSES.get(country, ("1 Commerce Way", "Capital", "", "10000"))
        fc = rng.choice(_FULFILLMENT_CENTERS.get(country, (f"{country}X1", f"{country}X2")))
        return ShipmentPlan(
            shipment_id=self._encode_id(marketplace_id, day, index),
            marketplace_id=marketplace_id,
            name=f"FBA ({created:%Y-%m-%d %H:%M}) - {index + 1}",
            created=created, destination_fc=fc,
            label_prep_type=rng.choice(("SELLER_LABEL", "SELLER_LABEL", "AMAZON_LABEL", "NO_LABEL")),
            box_contents_source=rng.choice(("INTERACTIVE", "FEED", "2D_BARCODE", "NONE")),
            confirmed_need_by=(created + timedelta(days=21)).date(),
            ship_from={"Name": "Brightline Goods Warehouse", "AddressLine1": street, "City": city,
                       "StateOrProvinceCode": state or "NA", "CountryCode": country, "PostalCode": postal},
            items=tuple(items), timeline=tuple(_timeline(rng, created)),
        )

    # ----------------------------------------------------------------------------------- ids
    def _encode_id(self, marketplace_id: str, day: date, index: int) -> str:
        mp_index = MARKETPLACES.index(by_id(marketplace_id))
        number = ((day.toordinal() * 32 + mp_index) * 4 + index) * _ID_MULTIPLIER
        number = (number + self._offset) % _ID_SPACE
        chars = []
        for _ in range(9):
            number, rem = divmod(number, 36)
            chars.append(_ALPHABET[rem])
        return "FBA" + "".join(reversed(chars))

    def _decode_id(self, shipment_id: str) -> tuple[str, date, int] | None:
        text = shipment_id.strip().upper()
        if len(text) != 12 or not text.startswith("FBA") or any(c not in _ALPHABET for c in text[3:]):
            return None
        number = 0
        for char in text[3:]:
            number = number * 36 + _ALPHABET.index(char)
        number = ((number - self._offset) * _ID_INVERSE) % _ID_SPACE
        number, index = divmod(number, 4)
        ordinal, mp_index = divmod(number, 32)
        if mp_index >= len(MARKETPLACES) or not 1 <= ordinal <= date.max.toordinal():
            return None
        return MARKETPLACES[mp_index].marketplace_id, date.fromordinal(ordinal), index


def _timeline(rng: random.Random, created: datetime) -> list[Change]:
    """WORKING -> SHIPPED -> IN_TRANSIT -> RECEIVING (+ a receiving step) -> CLOSED; or DELETED/CANCELLED."""

    def later(moment: datetime, low_hours: float, high_hours: float) -> datetime:
        return (moment + timedelta(hours=rng.uniform(low_hours, high_hours))).replace(microsecond=0)

    changes = [Change(created, "WORKING", 0.0)]
    if rng.random() < 0.06:
        changes.append(Change(later(created, 2, 72), "DELETED", 0.0))
        return changes
    shipped = later(created, 12, 72)
    changes.append(Change(shipped, "SHIPPED", 0.0))
    if rng.random() < 0.04:
        changes.append(Change(later(shipped, 2, 24), "CANCELLED", 0.0))
        return changes
    in_transit = later(shipped, 2, 12)
    receiving = later(in_transit, 36, 120)
    step = later(receiving, 12, 48)
    closed = later(step, 12, 72)
    changes += [Change(in_transit, "IN_TRANSIT", 0.0), Change(receiving, "RECEIVING", round(rng.uniform(0.2, 0.4), 2)),
                Change(step, None, round(rng.uniform(0.6, 0.9), 2)), Change(closed, "CLOSED", 1.0)]
    return changes
