"""The deterministic synthetic seller: what exists in which marketplace on which day.

Everything the sandbox serves (orders, items, inventory, shipments, reports) derives from this one
model, so the REST API and the reports always agree. It is a pure function of (seed, marketplace,
day, moment asked about): two processes with the same seed give the same data, before and after a
restart, and nothing is stored.

An order is generated once as an :class:`OrderPlan`: its items and amounts and its whole status
timeline (Pending, then Unshipped, PartiallyShipped and Shipped, or Canceled, and sometimes a late
update days later). The :class:`Order` seen at a moment is the plan cut at that moment, so an order
bought yesterday is Unshipped now and Shipped tomorrow, and its LastUpdateDate moves with it.

Order ids encode where the order lives (``1MM-DDDDDDD-NNNNNNN``: marketplace, UTC day ordinal and a
scrambled index), so ``order(order_id)`` needs no index.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from sp_assets.lib.marketplaces import MARKETPLACES, Marketplace, by_id

ORDER_STATUSES = ("Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled")
_SCRAMBLE = 7919  # prime, coprime with 10**7: index -> third group of the order id is a bijection
_UNSCRAMBLE = pow(_SCRAMBLE, -1, 10**7)

# Relative order volume per marketplace (the busiest is 1.0, i.e. ``orders_per_day``).
_WEIGHTS = {"us": 1.0, "de": 0.6, "uk": 0.5, "jp": 0.5, "ca": 0.3, "fr": 0.3, "it": 0.25, "es": 0.25}
_TAX_RATES = {"us": "0.08", "ca": "0.13", "jp": "0.10", "de": "0.19", "uk": "0.20", "fr": "0.20"}
_FX = {"USD": "1", "CAD": "1.35", "MXN": "17", "BRL": "5", "EUR": "0.92", "GBP": "0.79", "SEK": "10.5",
       "PLN": "4", "TRY": "32", "EGP": "48", "SAR": "3.75", "AED": "3.67", "INR": "83", "ZAR": "18.5",
       "SGD": "1.34", "AUD": "1.5", "JPY": "150"}
_CITIES = {
    "us": [("Seattle", "WA", "98109"), ("Austin", "TX", "78701"), ("Brooklyn", "NY", "11201"),
           ("Denver", "CO", "80202"), ("Portland", "OR", "97205")],
    "de": [("München", "BY", "80331"), ("Köln", "NW", "50667"), ("Düsseldorf", "NW", "40213"),
           ("Berlin", "BE", "10115"), ("Nürnberg", "BY", "90402")],
    "jp": [("渋谷区", "東京都", "150-0002"), ("大阪市", "大阪府", "530-0001"), ("札幌市", "北海道", "060-0001"),
           ("横浜市", "神奈川県", "220-0012")],
    "uk": [("London", "Greater London", "SW1A 1AA"), ("Manchester", "Greater Manchester", "M1 1AE")],
    "ca": [("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1")],
}

# (category id, category name, parent category name) and product templates: (en, de, ja, base USD price)
_CATEGORIES = {
    "kitchen": ("3206325011", "Kitchen & Dining", "Home & Kitchen"),
    "electronics": ("281407", "Electronics Accessories", "Electronics"),
    "sports": ("3375251", "Sports & Outdoors", "Sports"),
    "toys": ("165793011", "Toys & Games", "Toys"),
    "office": ("1069242", "Office Products", "Office"),
}
_TEMPLATES = [
    ("kitchen", "Stainless Steel Water Bottle", "Edelstahl-Trinkflasche für Kühlschrank", "ステンレス 水筒", "18.99"),
    ("kitchen", "Ceramic Coffee Mug", "Keramik-Kaffeebecher, spülmaschinenfest", "陶器 マグカップ", "12.50"),
    ("kitchen", "Bamboo Cutting Board", "Bambus-Schneidebrett mit Saftrille", "竹製 まな板", "24.00"),
    ("electronics", "USB-C Charging Cable", "USB-C Ladekabel, geflochten", "USB-C 充電ケーブル", "9.99"),
    ("electronics", "Wireless Earbuds", "Kabellose Ohrhörer mit Ladeetui", "ワイヤレス イヤホン", "49.99"),
    ("electronics", "Phone Stand", "Handyständer für Schreibtisch, größenverstellbar", "スマホスタンド", "14.99"),
    ("sports", "Yoga Mat", "Yogamatte, rutschfest", "ヨガマット", "29.95"),
    ("sports", "Resistance Bands Set", "Widerstandsbänder-Set für Übungen", "トレーニングチューブ", "19.99"),
    ("toys", "Wooden Puzzle", "Holzpuzzle für Kinder ab 3 Jahren", "木製 パズル", "16.49"),
    ("toys", "Building Blocks", "Bausteine, 500 Teile", "ブロック 500ピース", "34.99"),
    ("office", "Gel Pens", "Gelstifte, 12 Stück", "ゲルインクボールペン 12本", "8.49"),
    ("office", "Desk Organizer", "Schreibtisch-Organizer aus Holz", "デスクオーガナイザー", "22.99"),
]
_VARIANTS = [("BLK", "Black", "Schwarz", "ブラック"), ("WHT", "White", "Weiß", "ホワイト"),
             ("BLU", "Blue", "Blau", "ブルー"), ("GRN", "Green", "Grün", "グリーン"),
             ("RED", "Red", "Rot", "レッド")]
# SKUs that trip up URL encoding in real clients; they are real products here so every path meets them.
_TRICKY_SKUS = {3: "MUG 12oz BLUE", 7: "CABLE+USB/C-1M", 11: 'TEE "VINTAGE" L', 15: "KIT#7 SET"}


@dataclass(frozen=True)
class Product:
    sku: str
    asin: str
    fnsku: str
    title: str
    brand: str
    category_key: str
    category_id: str
    category_name: str
    parent_category: str
    price: Decimal
    currency: str
    fulfillment_channel: str  # AFN (Amazon fulfils) or MFN (the seller does)
    condition: str = "New"


@dataclass(frozen=True)
class OrderItem:
    order_item_id: str
    sku: str
    asin: str
    title: str
    quantity: int
    unit_price: Decimal
    item_price: Decimal  # unit price x quantity, as Amazon's ItemPrice
    item_tax: Decimal
    shipping_price: Decimal
    shipping_tax: Decimal
    promotion_discount: Decimal
    currency: str
    is_gift: bool
    promotion_id: str | None


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    status: str


@dataclass(frozen=True)
class OrderPlan:
    """An order's whole life, fixed at generation; see :meth:`at` for the order at a moment."""

    amazon_order_id: str
    marketplace_id: str
    marketplace_code: str
    sales_channel: str
    purchase_date: datetime
    fulfillment_channel: str
    ship_service_level: str
    order_type: str
    is_prime: bool
    is_business_order: bool
    payment_method: str
    currency: str
    items: tuple[OrderItem, ...]
    timeline: tuple[StatusChange, ...]  # first entry is Pending at purchase_date
    late_update: datetime | None  # a change with no new status (e.g. an address fix) days later
    buyer_email: str
    buyer_name: str
    ship_city: str
    ship_state: str
    ship_postal_code: str
    ship_country: str

    @property
    def order_total(self) -> Decimal:
        return sum((i.item_price + i.item_tax + i.shipping_price + i.shipping_tax - i.promotion_discount
                    for i in self.items), Decimal(0))

    def at(self, moment: datetime) -> Order | None:
        """The order as Amazon would show it at ``moment``; None before it was placed."""
        if moment < self.purchase_date:
            return None
        status, updated = self.timeline[0].status, self.timeline[0].at
        for change in self.timeline[1:]:
            if change.at <= moment:
                status, updated = change.status, change.at
        if self.late_update is not None and updated < self.late_update <= moment:
            updated = self.late_update
        return Order(plan=self, status=status, last_update_date=updated)


@dataclass(frozen=True)
class Order:
    """An order at one moment: its plan plus the status and LastUpdateDate it had then."""

    plan: OrderPlan
    status: str
    last_update_date: datetime

    def __getattr__(self, name: str):  # plan fields read through: order.amazon_order_id, order.items...
        return getattr(self.plan, name)

    @property
    def has_prices(self) -> bool:
        """Amazon returns no prices, taxes or totals while an order is Pending."""
        return self.status != "Pending"

    @property
    def items_shipped(self) -> int:
        total = sum(i.quantity for i in self.plan.items)
        if self.status == "Shipped":
            return total
        if self.status == "PartiallyShipped":
            return max(1, total // 2)
        return 0

    @property
    def items_unshipped(self) -> int:
        if self.status in ("Canceled",):
            return 0
        return sum(i.quantity for i in self.plan.items) - self.items_shipped


def _money(value: Decimal, currency: str) -> Decimal:
    exponent = Decimal("1") if currency == "JPY" else Decimal("0.01")
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


def _stable_int(*parts: object) -> int:
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class SyntheticSeller:
    """A seller with a catalog in every marketplace and orders every day; deterministic per seed."""

    def __init__(self, seed: int = 7, orders_per_day: int = 300,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.seed = seed
        self.orders_per_day = orders_per_day
        self.clock = clock
        # A day at 20,000 orders is about 50 MB of plans: keep a few days, generate long windows uncached.
        self._day_plans = lru_cache(maxsize=32)(self.generate_day)

    # ---------------------------------------------------------------- helpers for every backend
    def rng(self, *parts: object) -> random.Random:
        """A generator that gives the same numbers for the same seed and parts, in any process."""
        return random.Random(_stable_int(self.seed, *parts))

    def now(self) -> datetime:
        return self.clock()

    @staticmethod
    def marketplace(marketplace_id: str) -> Marketplace:
        return by_id(marketplace_id)

    @staticmethod
    def fx_rate(currency: str) -> Decimal:
        """Units of ``currency`` per US dollar, as the seller prices its catalog."""
        return Decimal(_FX[currency])

    def weight(self, marketplace_id: str) -> float:
        return _WEIGHTS.get(by_id(marketplace_id).code, 0.2)

    # ---------------------------------------------------------------- catalog
    def products(self, marketplace_id: str) -> list[Product]:
        return list(_catalog(self.seed, marketplace_id))

    def product(self, marketplace_id: str, sku: str) -> Product | None:
        return next((p for p in _catalog(self.seed, marketplace_id) if p.sku == sku), None)

    def product_by_asin(self, marketplace_id: str, asin: str) -> Product | None:
        return next((p for p in _catalog(self.seed, marketplace_id) if p.asin == asin), None)

    # ---------------------------------------------------------------- orders
    def day_plans(self, marketplace_id: str, day: date) -> tuple[OrderPlan, ...]:
        """Every order placed in ``marketplace_id`` on the UTC ``day``, sorted by purchase time."""
        return self._day_plans(marketplace_id, day)

    def orders_created_between(self, marketplace_id: str, start: datetime, end: datetime,
                               as_of: datetime | None = None) -> list[Order]:
        """Orders with start <= PurchaseDate < end, as they are at ``as_of`` (default now)."""
        moment = as_of or self.now()
        out: list[Order] = []
        for plan in self._plans_purchased_between(marketplace_id, start, min(end, moment + timedelta(seconds=1))):
            order = plan.at(moment)
            if order is not None:
                out.append(order)
        return out

    def orders_updated_between(self, marketplace_id: str, start: datetime, end: datetime,
                               as_of: datetime | None = None) -> list[Order]:
        """Orders with start <= LastUpdateDate < end at ``as_of``, sorted by LastUpdateDate."""
        moment = as_of or self.now()
        # An order changes at most LATEST_CHANGE after purchase, so older purchases cannot match.
        earliest = start - LATEST_CHANGE
        out = []
        for plan in self._plans_purchased_between(marketplace_id, earliest, min(end, moment)):
            order = plan.at(moment)
            if order is not None and start <= order.last_update_date < end:
                out.append(order)
        out.sort(key=lambda o: (o.last_update_date, o.amazon_order_id))
        return out

    def order(self, amazon_order_id: str, as_of: datetime | None = None) -> Order | None:
        plan = self.order_plan(amazon_order_id)
        return None if plan is None else plan.at(as_of or self.now())

    def order_plan(self, amazon_order_id: str) -> OrderPlan | None:
        try:
            mp_part, day_part, index_part = amazon_order_id.split("-")
            marketplace = MARKETPLACES[int(mp_part) - 100]
            day = date.fromordinal(int(day_part))
            index = (int(index_part) * _UNSCRAMBLE) % 10**7
        except (ValueError, IndexError, OverflowError):
            return None
        plans = self.day_plans(marketplace.marketplace_id, day)
        if index < len(plans) and plans[index].amazon_order_id == amazon_order_id:
            return plans[index]
        return None

    def _plans_purchased_between(self, marketplace_id: str, start: datetime, end: datetime) -> Iterator[OrderPlan]:
        if end <= start:
            return
        day = start.astimezone(UTC).date()
        last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
        while day <= last:
            for plan in self.day_plans(marketplace_id, day):
                if start <= plan.purchase_date < end:
                    yield plan
            day += timedelta(days=1)

    def orders_count(self, marketplace_id: str, day: date) -> int:
        rng = self.rng("count", marketplace_id, day.toordinal())
        return int(round(self.orders_per_day * self.weight(marketplace_id) * rng.uniform(0.9, 1.1)))

    def generate_day(self, marketplace_id: str, day: date) -> tuple[OrderPlan, ...]:
        """The day's orders generated afresh, bypassing the cache (for long report windows)."""
        marketplace = by_id(marketplace_id)
        mp_index = MARKETPLACES.index(marketplace)
        count = self.orders_count(marketplace_id, day)
        rng = self.rng("orders", marketplace_id, day.toordinal())
        catalog = _catalog(self.seed, marketplace_id)
        day_start = datetime.combine(day, time(0), tzinfo=UTC)
        seconds = sorted(rng.randrange(86400) for _ in range(count))
        tax_rate = Decimal(_TAX_RATES.get(marketplace.code, "0.10"))
        cities = _CITIES.get(marketplace.code, [("Capital", "", "10000")])
        plans = []
        for index, second in enumerate(seconds):
            order_id = f"{100 + mp_index}-{day.toordinal():07d}-{(index * _SCRAMBLE) % 10**7:07d}"
            purchase = day_start + timedelta(seconds=second)
            plans.append(self._plan_order(rng, marketplace, order_id, purchase, catalog, tax_rate, cities))
        return tuple(plans)

    def _plan_order(self, rng: random.Random, marketplace: Marketplace, order_id: str, purchase: datetime,
                    catalog: tuple[Product, ...], tax_rate: Decimal, cities: list) -> OrderPlan:
        currency = marketplace.currency
        n_items = rng.choices((1, 2, 3, 4), weights=(60, 25, 10, 5))[0]
        products = rng.sample(catalog, n_items)
        fulfillment = "AFN" if all(p.fulfillment_channel == "AFN" for p in products) else "MFN"
        is_prime = fulfillment == "AFN" and rng.random() < 0.7
        items = []
        for k, product in enumerate(products):
            quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
            item_price = _money(product.price * quantity, currency)
            promo = rng.random() < 0.1
            discount = _money(item_price * Decimal("0.10"), currency) if promo else Decimal(0)
            shipping = Decimal(0) if (is_prime or fulfillment == "AFN") else _money(
                Decimal("4.99") * Decimal(_FX[currency]), currency)
            items.append(OrderItem(
                order_item_id=f"{_stable_int(self.seed, order_id, k) % 10**14:014d}",
                sku=product.sku, asin=product.asin, title=product.title, quantity=quantity,
                unit_price=product.price, item_price=item_price,
                item_tax=_money((item_price - discount) * tax_rate, currency),
                shipping_price=shipping, shipping_tax=_money(shipping * tax_rate, currency),
                promotion_discount=discount, currency=currency, is_gift=rng.random() < 0.05,
                promotion_id=f"PROMO-{rng.randrange(1000, 9999)}" if promo else None,
            ))
        timeline = [StatusChange(purchase, "Pending")]  # every later moment is cut to whole seconds below
        if rng.random() < 0.04:
            timeline.append(StatusChange(purchase + timedelta(minutes=rng.randint(5, 90)), "Canceled"))
        else:
            unshipped = purchase + timedelta(minutes=rng.randint(5, 240))
            timeline.append(StatusChange(unshipped, "Unshipped"))
            shipped = unshipped + timedelta(hours=rng.uniform(6, 60))
            if fulfillment == "MFN" and len(items) > 1 and rng.random() < 0.3:
                partial = unshipped + timedelta(hours=rng.uniform(4, 30))
                timeline.append(StatusChange(partial, "PartiallyShipped"))
                shipped = partial + timedelta(hours=rng.uniform(8, 30))
            timeline.append(StatusChange(shipped, "Shipped"))
        timeline = [StatusChange(c.at.replace(microsecond=0), c.status) for c in timeline]
        late = None
        if timeline[-1].status == "Shipped" and rng.random() < 0.08:
            late = (timeline[-1].at + timedelta(hours=rng.uniform(24, 24 * 6))).replace(microsecond=0)
        city, state, postal = rng.choice(cities)
        buyer = f"{_stable_int(order_id, 'buyer') % 10**12:012d}"
        return OrderPlan(
            amazon_order_id=order_id, marketplace_id=marketplace.marketplace_id,
            marketplace_code=marketplace.code, sales_channel=marketplace.sales_channel,
            purchase_date=purchase, fulfillment_channel=fulfillment,
            ship_service_level="Expedited" if is_prime else "Std Domestic",
            order_type="StandardOrder", is_prime=is_prime, is_business_order=rng.random() < 0.08,
            payment_method="Other", currency=currency, items=tuple(items),
            timeline=tuple(timeline), late_update=late,
            buyer_email=f"{buyer}@marketplace.amazon.com", buyer_name=f"Buyer {buyer[-4:]}",
            ship_city=city, ship_state=state, ship_postal_code=postal, ship_country=marketplace.country_code,
        )


# The last moment an order changes after purchase: Unshipped by 4 h, Shipped by 64 h (+30 h partial),
# and a late update at most 6 days after shipping.
LATEST_CHANGE = timedelta(hours=4 + 30 + 30 + 24 * 6 + 1)


@lru_cache(maxsize=64)
def _catalog(seed: int, marketplace_id: str) -> tuple[Product, ...]:
    marketplace = by_id(marketplace_id)
    fx = Decimal(_FX[marketplace.currency])
    products = []
    n = 0
    for t_index, (category, en, de, ja, usd) in enumerate(_TEMPLATES):
        for v_index, (code, v_en, v_de, v_ja) in enumerate(_VARIANTS):
            n += 1
            sku = _TRICKY_SKUS.get(n, f"{category[:3].upper()}-{t_index:02d}-{code}")
            if marketplace.code == "jp":
                title = f"{ja} {v_ja}"
            elif marketplace.code in ("de", "at"):
                title = f"{de}, {v_de}"
            else:
                title = f"{en}, {v_en}"
            h = _stable_int(seed, "asin", t_index, v_index)
            asin = "B0" + _base36(h, 8)
            fnsku = "X00" + _base36(h // 7, 7)
            cat_id, cat_name, parent = _CATEGORIES[category]
            price = _money(Decimal(usd) * fx * (Decimal(100 + v_index * 3) / 100), marketplace.currency)
            channel = "AFN" if (t_index + v_index) % 3 else "MFN"
            products.append(Product(sku, asin, fnsku, title, "Brightline", category, cat_id, cat_name, parent,
                                    price, marketplace.currency, channel))
    return tuple(products)


def _base36(number: int, width: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = []
    for _ in range(width):
        number, rem = divmod(number, 36)
        out.append(alphabet[rem])
    return "".join(reversed(out))
