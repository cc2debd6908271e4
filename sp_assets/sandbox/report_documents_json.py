"""JSON report documents of issue 14: seller performance (account health) and three Brand Analytics reports.

Each generator takes the synthetic seller and the request (``DocumentSpec``) and returns the document
Amazon's JSON schema describes (``report-schemas/accountHealthReport-2020-11-18.json``,
``sellingPartnerSearchTermsReport.json``, ``sellingPartnerMarketBasketAnalysisReport.json``,
``sellingPartnerRepeatPurchaseReport.json``), derived deterministically from the seed, the marketplace
and the period; ``report_documents.JSON_GENERATORS`` merges ``GENERATORS`` in.

Brand Analytics reports are asked for by ``reportPeriod`` (DAY, WEEK, MONTH, QUARTER; Repeat Purchase
has no DAY). Amazon's period rule, which :func:`period_problem` states for createReport: for WEEK,
MONTH and QUARTER ``dataStartTime`` is the first day of a period (a Sunday for WEEK) and
``dataEndTime`` the last (a Saturday); Search Terms may not span more than one period.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sp_assets.lib.marketplaces import by_id
from sp_assets.sandbox.seller import Product, SyntheticSeller

if TYPE_CHECKING:
    from sp_assets.sandbox.report_documents import DocumentSpec

SELLER_PERFORMANCE = "GET_V2_SELLER_PERFORMANCE_REPORT"
SEARCH_TERMS = "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT"
MARKET_BASKET = "GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT"
REPEAT_PURCHASE = "GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT"
BRAND_ANALYTICS = (SEARCH_TERMS, MARKET_BASKET, REPEAT_PURCHASE)
# The one list each document puts its rows in (the count createReport's document reports).
ROWS_KEY = {SELLER_PERFORMANCE: "performanceMetrics", SEARCH_TERMS: "dataByDepartmentAndSearchTerm",
            MARKET_BASKET: "dataByAsin", REPEAT_PURCHASE: "dataByAsin"}


# ------------------------------------------------------------------------------------------ periods
def period_start(day: date, period: str) -> date:
    """The first day of the period holding ``day`` (weeks run Sunday to Saturday)."""
    if period == "WEEK":
        return day - timedelta(days=(day.weekday() + 1) % 7)
    if period == "MONTH":
        return day.replace(day=1)
    if period == "QUARTER":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day


def period_end(day: date, period: str) -> date:
    """The last day of the period holding ``day``."""
    if period == "WEEK":
        return period_start(day, period) + timedelta(days=6)
    if period in ("MONTH", "QUARTER"):
        first = period_start(day, period)
        months = 1 if period == "MONTH" else 3
        year, month = divmod(first.month - 1 + months, 12)
        return date(first.year + year, month + 1, 1) - timedelta(days=1)
    return day


_FIRST_LAST = {"WEEK": ("a Sunday", "a Saturday"), "MONTH": ("the first day of a month", "the last day of a month"),
               "QUARTER": ("the first day of a quarter", "the last day of a quarter")}


def period_problem(report_type: str, options: dict[str, str], start: datetime, end: datetime) -> str | None:
    """Why Amazon refuses this Brand Analytics request (None: it does not); names the rule broken."""
    if report_type not in BRAND_ANALYTICS:
        return None
    period = options.get("reportPeriod")
    if period is None:
        return f"{report_type} needs reportOptions.reportPeriod"
    first, last = start.date(), end.date()
    if period in _FIRST_LAST:
        must_start, must_end = _FIRST_LAST[period]
        if period_start(first, period) != first:
            return f"reportPeriod {period}: dataStartTime must be {must_start}, got {first.isoformat()}"
        if period_end(last, period) != last:
            return f"reportPeriod {period}: dataEndTime must be {must_end}, got {last.isoformat()}"
    if report_type == SEARCH_TERMS and period_end(first, period) != last:
        return (f"{report_type} cannot span more than one {period} period: {first.isoformat()} to "
                f"{last.isoformat()} is more than one")
    return None


def periods(first: date, last: date, period: str) -> Iterator[tuple[date, date]]:
    """The (start, end) of each period from ``first`` through ``last``."""
    day = first
    while day <= last:
        end = period_end(day, period)
        yield day, min(end, last)
        day = end + timedelta(days=1)


# ------------------------------------------------------------------------------------------ helpers
def _specification(spec: DocumentSpec) -> dict[str, Any]:
    return {"reportType": spec.report_type, "reportOptions": dict(spec.options),
            "dataStartTime": spec.data_start.date().isoformat(), "dataEndTime": spec.data_end.date().isoformat(),
            "marketplaceIds": list(spec.marketplace_ids)}


def _share(value: float) -> float:
    return round(min(max(value, 0.0), 1.0), 4)


def _products(seller: SyntheticSeller, marketplace_id: str) -> list[Product]:
    return sorted(seller.products(marketplace_id), key=lambda p: p.asin)


# ------------------------------------------------------------------------------------------ Brand Analytics
def search_terms(seller: SyntheticSeller, spec: DocumentSpec) -> dict | None:
    """Top search terms per department with their three most clicked ASINs (the seller's, or others')."""
    marketplace_id = spec.marketplace_ids[0]
    rng = seller.rng("search-terms", marketplace_id, spec.data_start.date().toordinal(), spec.options["reportPeriod"])
    rows: list[dict[str, Any]] = []
    by_category: dict[str, list[Product]] = {}
    for product in _products(seller, marketplace_id):
        by_category.setdefault(product.category_name, []).append(product)
    for department, products in sorted(by_category.items()):
        for rank, product in enumerate(products[:3], start=1):
            term = " ".join(product.title.lower().split()[:3])
            shares = sorted((rng.uniform(0.01, 0.2) for _ in range(3)), reverse=True)
            others = [f"B0{rng.randrange(10**7, 10**8)}X" for _ in range(2)]
            for click_rank, (asin, share) in enumerate(zip([product.asin, *others], shares, strict=True), start=1):
                rows.append({"departmentName": department, "searchTerm": term, "searchFrequencyRank": rank,
                             "clickedAsin": asin, "clickShareRank": click_rank, "clickShare": _share(share),
                             "conversionShare": _share(share * rng.uniform(0.5, 1.5))})
    return {"reportSpecification": _specification(spec), "dataByDepartmentAndSearchTerm": rows} if rows else None


def market_basket(seller: SyntheticSeller, spec: DocumentSpec) -> dict | None:
    """For each of the seller's ASINs and period, the three items most often bought with it."""
    marketplace_id, period = spec.marketplace_ids[0], spec.options["reportPeriod"]
    products = _products(seller, marketplace_id)
    rows: list[dict[str, Any]] = []
    for first, last in periods(spec.data_start.date(), spec.data_end.date(), period):
        for product in products:
            rng = seller.rng("basket", marketplace_id, product.asin, first.toordinal(), period)
            partners = rng.sample([p for p in products if p.asin != product.asin], 3)
            pct = sorted((rng.uniform(0.005, 0.15) for _ in partners), reverse=True)
            rows.extend({"startDate": first.isoformat(), "endDate": last.isoformat(), "asin": product.asin,
                         "purchasedWithAsin": partner.asin, "purchasedWithRank": rank, "combinationPct": _share(share)}
                        for rank, (partner, share) in enumerate(zip(partners, pct, strict=True), start=1))
    return {"reportSpecification": _specification(spec), "dataByAsin": rows} if rows else None


def repeat_purchase(seller: SyntheticSeller, spec: DocumentSpec) -> dict | None:
    """Orders, customers and repeat-purchase revenue per ASIN and period."""
    marketplace_id, period = spec.marketplace_ids[0], spec.options["reportPeriod"]
    currency = by_id(marketplace_id).currency
    rows = []
    for first, last in periods(spec.data_start.date(), spec.data_end.date(), period):
        for product in _products(seller, marketplace_id):
            rng = seller.rng("repeat", marketplace_id, product.asin, first.toordinal(), period)
            customers = rng.randint(1, 60)
            orders = customers + rng.randint(0, customers // 2)
            repeat = orders - customers
            revenue = (product.price * repeat).quantize(Decimal("1") if currency == "JPY" else Decimal("0.01"))
            rows.append({"startDate": first.isoformat(), "endDate": last.isoformat(), "asin": product.asin,
                         "orders": orders, "uniqueCustomers": customers,
                         "repeatCustomersPctTotal": _share(repeat / customers),
                         "repeatPurchaseRevenue": {"amount": float(revenue), "currencyCode": currency},
                         "repeatPurchaseRevenuePctTotal": _share(repeat / orders)})
    return {"reportSpecification": _specification(spec), "dataByAsin": rows} if rows else None


# ------------------------------------------------------------------------------------------ seller performance
_LISTING_SECTIONS = ("listingPolicyViolations", "productAuthenticityCustomerComplaints",
                     "productConditionCustomerComplaints", "productSafetyCustomerComplaints",
                     "receivedIntellectualPropertyComplaints", "restrictedProductPolicyViolations",
                     "suspectedIntellectualPropertyViolations", "foodAndProductSafetyIssues", "otherPolicyViolations",
                     "documentRequests")


def _rate(window: dict[str, str], target: float, condition: str, count: int, total: int,
          **fields: Any) -> dict[str, Any]:
    """One rate metric: ``count / total`` against Amazon's target (GOOD when it meets it)."""
    value = round(count / total, 4) if total else 0.0
    good = value < target if condition == "LESS_THAN" else value > target
    return {"reportingDateRange": window, "status": "GOOD" if good else "BAD", "rate": value,
            "targetValue": target, "targetCondition": condition, **fields}


def _counted(count: int) -> dict[str, Any]:
    return {"count": count, "status": "GOOD" if count == 0 else "BAD"}


def _defects(rng: random.Random, window: dict[str, str], orders: int, channel: str) -> dict[str, Any]:
    """The order defect rate of one fulfillment channel (claims, chargebacks, negative feedback)."""
    claims, charge, negative = rng.randint(0, 3), rng.randint(0, 1), rng.randint(0, 4)
    return _rate(window, 0.01, "LESS_THAN", claims + charge + negative, orders, orderCount=orders,
                 orderWithDefects=_counted(claims + charge + negative), claims=_counted(claims),
                 chargebacks=_counted(charge), negativeFeedback=_counted(negative), fulfillmentType=channel)


def seller_performance(seller: SyntheticSeller, spec: DocumentSpec) -> dict:
    """Account health of each requested marketplace, as of the request: the rates Amazon holds the
    seller to (order defects under 1%, late shipment under 4%...), over the trailing 60 days."""
    as_of = spec.as_of.date()
    window = {"reportingDateFrom": f"{(as_of - timedelta(days=60)).isoformat()}T00:00Z",
              "reportingDateTo": f"{as_of.isoformat()}T23:59Z"}
    statuses, metrics = [], []
    for marketplace_id in spec.marketplace_ids:
        rng = seller.rng("account-health", marketplace_id, as_of.toordinal())
        orders = rng.randint(800, 4000)
        late, cancelled, tracked = rng.randint(0, 40), rng.randint(0, 20), orders - rng.randint(0, 30)
        on_time = tracked - rng.randint(0, 60)
        metric: dict[str, Any] = {
            "marketplaceId": marketplace_id,
            "invoiceDefectRate": _rate(window, 0.05, "LESS_THAN", 0, orders, orderCount=orders,
                                       invoiceDefect=_counted(0), missingInvoice=_counted(0), lateInvoice=_counted(0)),
            "lateShipmentRate": _rate(window, 0.04, "LESS_THAN", late, orders, orderCount=orders,
                                      lateShipmentCount=late),
            "orderDefectRate": {"mfn": _defects(rng, window, orders // 3, "MFN"),
                                "afn": _defects(rng, window, orders - orders // 3, "AFN")},
            "onTimeDeliveryRate": _rate(window, 0.9, "GREATER_THAN", on_time, tracked,
                                        shipmentCountWithValidTracking=tracked, onTimeDeliveryCount=on_time),
            "unitOnTimeDeliveryRate": _rate(window, 0.9, "GREATER_THAN", on_time, tracked,
                                            unitOnTimeDeliveryCount=on_time, totalUnitCount=tracked),
            "validTrackingRate": _rate(window, 0.95, "GREATER_THAN", tracked, orders, shipmentCount=orders,
                                       validTrackingCount=tracked),
            "preFulfillmentCancellationRate": _rate(window, 0.025, "LESS_THAN", cancelled, orders,
                                                    orderCount=orders, cancellationCount=cancelled),
            "warningStates": [],
            # The schema requires ``ahrStatus`` and declares ``accountHealthRatingStatus``: both, as Amazon's
            # example suggests the first is what it sends.
            "accountHealthRating": {"reportingDateRange": window, "ahrStatus": "GREAT",
                                    "accountHealthRatingStatus": "GREAT"},
        }
        for section in _LISTING_SECTIONS:
            count = rng.choice((0, 0, 0, 1))
            metric[section] = {"reportingDateRange": window, "defectsCount": count,
                               "status": "GOOD" if count == 0 else "BAD", "targetValue": 0,
                               "targetCondition": "EQUALS"}
        metrics.append(metric)
        statuses.append({"marketplaceId": marketplace_id, "status": "NORMAL"})
    return {"accountStatuses": statuses, "performanceMetrics": metrics}


GENERATORS: dict[str, Callable[[SyntheticSeller, DocumentSpec], dict | None]] = {
    SELLER_PERFORMANCE: seller_performance, SEARCH_TERMS: search_terms, MARKET_BASKET: market_basket,
    REPEAT_PURCHASE: repeat_purchase,
}
