"""FBA Outbound 2020-07-01 (listAllFulfillmentOrders): multi-channel fulfillment orders.

The seller's web store asks Amazon to ship FBA stock a few times a day per marketplace. Each order is
planned once with its status timeline (New, Received, Planning, Processing, then Complete, or
CompletePartialled, Cancelled, Unfulfillable); the order seen at a moment is the plan cut there and
``statusUpdatedDate`` moves with it. listAllFulfillmentOrders has no marketplace parameter: it lists
the orders of every marketplace of the token's region.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sp_assets.lib.marketplaces import by_id, in_region
from sp_assets.sandbox.operations import iso
from sp_assets.sandbox.seller import SyntheticSeller

# An order's last change comes at most this long after it was received (see _timeline).
LATEST_CHANGE = timedelta(days=4)
# Amazon's default window when queryStartDate is absent (as MWS ListAllFulfillmentOrders documented).
DEFAULT_LOOKBACK = timedelta(hours=36)
_SPEEDS = ("Standard", "Standard", "Standard", "Expedited", "Priority")
_STREETS = ("12 Harbor Rd", "880 Elm St", "4 Chestnut Ave", "221 Baker St", "7 Quay Lane", "1600 Main St")
_CITIES = {"US": ("Seattle", "WA", "98101"), "CA": ("Toronto", "ON", "M5H 2N2"), "MX": ("Ciudad de México", "CDMX", "06000"),
           "DE": ("Berlin", "BE", "10115"), "GB": ("London", "LDN", "SW1A 1AA"), "FR": ("Lyon", "ARA", "69001"),
           "IT": ("Milano", "MI", "20121"), "ES": ("Madrid", "M", "28001"), "JP": ("大阪市", "大阪府", "530-0001"),
           "AU": ("Sydney", "NSW", "2000"), "SG": ("Singapore", "", "018989")}
_NAMES = ("Alex Kim", "Maria Rossi", "Jonas Weber", "Yuki Tanaka", "Sam Taylor", "Priya Shah", "Léa Martin")


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    status: str


@dataclass(frozen=True)
class FulfillmentOrderPlan:
    seller_fulfillment_order_id: str
    marketplace_id: str
    displayable_order_id: str
    displayable_order_date: datetime
    displayable_order_comment: str
    shipping_speed_category: str
    destination_address: dict[str, str]
    fulfillment_policy: str
    received_date: datetime
    items: tuple[tuple[str, int], ...]  # (seller SKU, quantity): FBA products of the marketplace
    notification_emails: tuple[str, ...]
    timeline: tuple[StatusChange, ...]  # first entry is New at received_date

    def at(self, moment: datetime) -> FulfillmentOrder | None:
        if moment < self.received_date:
            return None
        current = self.timeline[0]
        for change in self.timeline[1:]:
            if change.at > moment:
                break
            current = change
        return FulfillmentOrder(self, current.status, current.at)


@dataclass(frozen=True)
class FulfillmentOrder:
    plan: FulfillmentOrderPlan
    status: str
    status_updated_date: datetime

    @property
    def seller_fulfillment_order_id(self) -> str:
        return self.plan.seller_fulfillment_order_id

    @property
    def marketplace_id(self) -> str:
        return self.plan.marketplace_id

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        out: dict[str, Any] = {
            "sellerFulfillmentOrderId": plan.seller_fulfillment_order_id, "marketplaceId": plan.marketplace_id,
            "displayableOrderId": plan.displayable_order_id,
            "displayableOrderDate": iso(plan.displayable_order_date),
            "displayableOrderComment": plan.displayable_order_comment,
            "shippingSpeedCategory": plan.shipping_speed_category,
            "destinationAddress": dict(plan.destination_address),
            "fulfillmentAction": "Ship", "fulfillmentPolicy": plan.fulfillment_policy,
            "receivedDate": iso(plan.received_date), "fulfillmentOrderStatus": self.status,
            "statusUpdatedDate": iso(self.status_updated_date),
            "featureConstraints": [{"featureName": "BLANK_BOX", "featureFulfillmentPolicy": "NotRequired"}],
        }
        if plan.notification_emails:
            out["notificationEmails"] = list(plan.notification_emails)
        return out


class OutboundBackend:
    """Fulfillment orders over the synthetic seller. Stateless besides the seller (and a cache)."""

    def __init__(self, seller: SyntheticSeller) -> None:
        self.seller = seller
        self._day_plans = lru_cache(maxsize=8192)(self._generate_day)
        # A page sequence re-evaluates one (region, as_of, since) query per page: keep the last few.
        self._region_orders = lru_cache(maxsize=16)(self._merge_region)

    # ------------------------------------------------------------------------------ ground truth
    def day_plans(self, marketplace_id: str, day: date) -> tuple[FulfillmentOrderPlan, ...]:
        return self._day_plans(marketplace_id, day)

    def fulfillment_orders(self, marketplace_id: str, as_of: datetime | None = None,
                           updated_since: datetime | None = None) -> list[FulfillmentOrder]:
        """Orders of one marketplace whose statusUpdatedDate at ``as_of`` is >= ``updated_since``
        (default: Amazon's 36 h look-back), sorted by (statusUpdatedDate, id)."""
        moment = as_of or self.seller.now()
        since = updated_since if updated_since is not None else moment - DEFAULT_LOOKBACK
        out = []
        for plan in self._plans_received_between(marketplace_id, since - LATEST_CHANGE, moment):
            order = plan.at(moment)
            if order is not None and order.status_updated_date >= since:
                out.append(order)
        out.sort(key=lambda o: (o.status_updated_date, o.seller_fulfillment_order_id))
        return out

    def region_fulfillment_orders(self, region: str, as_of: datetime,
                                  updated_since: datetime | None = None) -> list[FulfillmentOrder]:
        """What listAllFulfillmentOrders lists for a token of ``region``: all its marketplaces, merged."""
        return list(self._region_orders(region, as_of, updated_since))

    def _merge_region(self, region: str, as_of: datetime,
                      updated_since: datetime | None) -> tuple[FulfillmentOrder, ...]:
        out = [o for m in in_region(region) for o in self.fulfillment_orders(m.marketplace_id, as_of, updated_since)]
        out.sort(key=lambda o: (o.status_updated_date, o.seller_fulfillment_order_id))
        return tuple(out)

    # ------------------------------------------------------------------------------- generation
    def _plans_received_between(self, marketplace_id: str, start: datetime,
                                end: datetime) -> Iterator[FulfillmentOrderPlan]:
        day = start.astimezone(UTC).date()
        while day <= end.astimezone(UTC).date():
            for plan in self.day_plans(marketplace_id, day):
                if start <= plan.received_date <= end:
                    yield plan
            day += timedelta(days=1)

    def _generate_day(self, marketplace_id: str, day: date) -> tuple[FulfillmentOrderPlan, ...]:
        rng = self.seller.rng("mcf", marketplace_id, day.toordinal())
        mean = 4.0 * self.seller.weight(marketplace_id)
        count = sum(rng.random() < mean / 8 for _ in range(8))  # binomial, mean ``mean``
        afn = [p.sku for p in self.seller.products(marketplace_id) if p.fulfillment_channel == "AFN"]
        if not afn:
            return ()
        day_start = datetime.combine(day, time(0), tzinfo=UTC)
        moments = sorted(day_start + timedelta(seconds=rng.randrange(86400)) for _ in range(count))
        return tuple(self._plan(rng, marketplace_id, day, k, received, afn) for k, received in enumerate(moments))

    def _plan(self, rng: random.Random, marketplace_id: str, day: date, k: int, received: datetime,
              skus: list[str]) -> FulfillmentOrderPlan:
        marketplace = by_id(marketplace_id)
        country = marketplace.country_code
        city, region, postal = _CITIES.get(country, ("Capital", "", "10000"))
        number = 10000 + (day.toordinal() % 9000) * 10 + k
        items = tuple((sku, rng.choice((1, 1, 1, 2, 3))) for sku in rng.sample(skus, rng.choice((1, 1, 2))))
        address = {"name": rng.choice(_NAMES), "addressLine1": rng.choice(_STREETS), "city": city,
                   "postalCode": postal, "countryCode": country}
        if region:
            address["stateOrRegion"] = region
        return FulfillmentOrderPlan(
            seller_fulfillment_order_id=f"MCF-{marketplace.code.upper()}-{day:%Y%m%d}-{k + 1:03d}",
            marketplace_id=marketplace_id,
            displayable_order_id=f"WEB-{number}",
            displayable_order_date=(received - timedelta(minutes=rng.randint(1, 30))).replace(microsecond=0),
            displayable_order_comment="Thank you for your order!",
            shipping_speed_category=rng.choice(_SPEEDS),
            destination_address=address,
            fulfillment_policy=rng.choice(("FillOrKill", "FillAll", "FillAllAvailable")),
            received_date=received, items=items,
            notification_emails=(f"customer{number}@example.com",) if rng.random() < 0.5 else (),
            timeline=tuple(_timeline(rng, received, len(items))),
        )


def _timeline(rng: random.Random, received: datetime, n_items: int) -> list[StatusChange]:
    def later(moment: datetime, low_minutes: float, high_minutes: float) -> datetime:
        return (moment + timedelta(minutes=rng.uniform(low_minutes, high_minutes))).replace(microsecond=0)

    changes = [StatusChange(received, "New")]
    accepted = later(received, 1, 5)
    changes.append(StatusChange(accepted, "Received"))
    if rng.random() < 0.05:
        changes.append(StatusChange(later(accepted, 10, 240), "Cancelled"))
        return changes
    planning = later(accepted, 10, 120)
    changes.append(StatusChange(planning, "Planning"))
    if rng.random() < 0.03:
        changes.append(StatusChange(later(planning, 30, 600), "Unfulfillable"))
        return changes
    processing = later(planning, 60, 720)
    changes.append(StatusChange(processing, "Processing"))
    final = "CompletePartialled" if n_items > 1 and rng.random() < 0.2 else "Complete"
    changes.append(StatusChange(later(processing, 360, 2880), final))
    return changes
