"""Client-side token buckets that mirror Amazon's usage plans, so calls wait instead of hitting 429.

Amazon meters each (application, selling partner, operation) with a token bucket of size *burst*
refilled at *rate* per second. The client keeps the same bucket on its side, seeded from the
documented defaults below and corrected from the ``x-amzn-RateLimit-Limit`` header when Amazon sends
it (real limits differ per seller). Buckets live in a module-level registry keyed by the endpoint,
a fingerprint of the refresh token and the operation, so every client instance in the process that
uses the same seller account draws from the same bucket, just like on Amazon's side.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .quota_store import StoredTokenBucket, quota_store


@dataclass(frozen=True)
class OperationQuota:
    """Amazon's documented default usage plan for one operation, and its family (for stats and pools)."""

    family: str
    rate: float
    burst: int


# Amazon's default usage plans (wire contract section 1.10). One table, the only place these live.
OPERATIONS: dict[str, OperationQuota] = {
    # Orders v0
    "getOrders": OperationQuota("orders", 0.0167, 20),
    "getOrder": OperationQuota("orders", 0.5, 30),
    "getOrderBuyerInfo": OperationQuota("orders", 0.5, 30),
    "getOrderAddress": OperationQuota("orders", 0.5, 30),
    "getOrderItems": OperationQuota("orders", 0.5, 30),
    "getOrderItemsBuyerInfo": OperationQuota("orders", 0.5, 30),
    # Orders 2026-01-01 (its getOrder has the same plan as v0's, under its own name here)
    "searchOrders": OperationQuota("orders", 0.0056, 20),
    "getOrder2026": OperationQuota("orders", 0.5, 30),
    # FBA Inventory v1
    "getInventorySummaries": OperationQuota("inventory", 2.0, 2),
    # Product Pricing v0
    "getPricing": OperationQuota("pricing", 0.5, 1),
    "getCompetitivePricing": OperationQuota("pricing", 0.5, 1),
    # Product Fees v0 (its own usage plan, metered apart from Product Pricing)
    "getMyFeesEstimates": OperationQuota("fees", 0.5, 1),
    # Catalog Items
    "listCatalogCategories": OperationQuota("catalog", 1.0, 2),
    "searchCatalogItems": OperationQuota("catalog", 2.0, 2),
    "getCatalogItem": OperationQuota("catalog", 2.0, 2),
    # FBA Inbound v0
    "getShipments": OperationQuota("inbound", 2.0, 30),
    "getShipmentItemsByShipmentId": OperationQuota("inbound", 2.0, 30),
    "getShipmentItems": OperationQuota("inbound", 2.0, 30),
    # FBA Outbound 2020-07-01
    "listAllFulfillmentOrders": OperationQuota("outbound", 2.0, 30),
    # Sellers v1
    "getMarketplaceParticipations": OperationQuota("sellers", 0.016, 15),
    "getAccount": OperationQuota("sellers", 0.016, 15),
    # Reports 2021-06-30
    "createReport": OperationQuota("reports", 0.0167, 15),
    "getReports": OperationQuota("reports", 0.0222, 10),
    "getReport": OperationQuota("reports", 2.0, 15),
    "cancelReport": OperationQuota("reports", 0.0222, 10),
    "getReportDocument": OperationQuota("reports", 0.0167, 15),
    # Data Kiosk 2023-11-15 (dataKiosk_2023-11-15.json, each operation's usage plan)
    "createQuery": OperationQuota("datakiosk", 0.0167, 15),
    "getQueries": OperationQuota("datakiosk", 0.0222, 10),
    "getQuery": OperationQuota("datakiosk", 2.0, 15),
    "cancelQuery": OperationQuota("datakiosk", 0.0222, 10),
    "getDocument": OperationQuota("datakiosk", 0.0167, 15),
    # Finances v0
    "listFinancialEvents": OperationQuota("finances", 0.5, 30),
    "listFinancialEventGroups": OperationQuota("finances", 0.5, 30),
    # Finances 2024-06-19
    "listTransactions": OperationQuota("finances", 0.5, 10),
    # Tokens 2021-03-01
    "createRestrictedDataToken": OperationQuota("tokens", 1.0, 10),
}


@dataclass(frozen=True)
class PageLimit:
    """How many pages one paged call may take, from Amazon's page size and a ceiling on results.

    ``page_size`` is Amazon's largest page for the operation (what the project asks for; a smaller
    ``MaxResultsPerPage``/``maxResultsPerPage``/``pageSize`` in the query is used instead).
    ``per_day`` bounds the results per day of the query's time window (orders, shipments, reports);
    ``total`` bounds the results of a call without a window (Amazon's documented maximum where there
    is one). The cap is ``ceil(results / page_size) * PAGE_FACTOR``, at least ``MIN_PAGE_CAP``.
    """

    page_size: int
    per_day: int | None = None
    total: int | None = None


# A generous factor over the ceilings below: pages are not always full.
PAGE_FACTOR = 2
MIN_PAGE_CAP = 10

# The paging table, next to the quotas: Amazon's page sizes (wire contract 1.11), and ceilings for one
# seller in one marketplace. Amazon documents no maximum of orders per day; 10,000 is above the busiest
# marketplaces' sellers we know of (a seller above it passes ``paging=`` to ``SPAPIClient``).
PAGING: dict[str, PageLimit] = {
    "getOrders": PageLimit(page_size=100, per_day=10_000),
    "searchOrders": PageLimit(page_size=100, per_day=10_000),
    # One order's items: Amazon caps an order's lines far below this.
    "getOrderItems": PageLimit(page_size=100, total=5_000),
    # A seller's FBA catalogue, 50 summaries a page.
    "getInventorySummaries": PageLimit(page_size=50, total=1_000_000),
    # searchCatalogItems returns at most 1,000 items per query (Catalog Items 2022-04-01), 20 a page.
    "searchCatalogItems": PageLimit(page_size=20, total=1_000),
    "getShipments": PageLimit(page_size=50, per_day=5_000),
    "getShipmentItems": PageLimit(page_size=50, per_day=50_000),
    "listAllFulfillmentOrders": PageLimit(page_size=50, per_day=10_000),
    # Finances v0: a busy seller posts a few events per order and day; 100 events or groups a page.
    "listFinancialEvents": PageLimit(page_size=100, per_day=30_000),
    "listFinancialEventGroups": PageLimit(page_size=100, per_day=100),
    "listTransactions": PageLimit(page_size=100, per_day=10_000),
    # Reports are kept 90 days; a seller creates far fewer than this per day.
    "getReports": PageLimit(page_size=100, per_day=1_000),
}


def page_cap(limit: PageLimit, days: float | None, page_size: int | None = None) -> int:
    """Pages allowed for a call over ``days`` of window (``None``: no window), per ``PageLimit``."""
    size = page_size if page_size and 0 < page_size <= limit.page_size else limit.page_size
    if days is not None and limit.per_day is not None:
        results = limit.per_day * max(days, 1.0)
    else:
        results = limit.total if limit.total is not None else (limit.per_day or 0) * 90
    return max(MIN_PAGE_CAP, math.ceil(results / size) * PAGE_FACTOR)


def quota_for(operation: str, extra: dict[str, OperationQuota] | None = None) -> OperationQuota:
    """The quota of ``operation``; an unknown name is a programming error, so it fails loudly."""
    if extra and operation in extra:
        return extra[operation]
    try:
        return OPERATIONS[operation]
    except KeyError:
        raise KeyError(
            f"unknown SP-API operation {operation!r}: add it to OPERATIONS in sp_assets/lib/spapi/quota.py "
            f"(known: {', '.join(sorted(OPERATIONS))})"
        ) from None


class TokenBucket:
    """A thread-safe token bucket that hands out reservations.

    ``reserve()`` takes a token even when none is left (the count goes negative) and returns how long
    the caller must wait for it; so concurrent callers queue in order instead of all waking at once
    and stampeding the server. Starts full, like Amazon's.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check_rate(rate)
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self._rate = float(rate)
        self._burst = int(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    def available(self) -> float:
        """Tokens available now (negative while reservations are queued)."""
        with self._lock:
            self._refill()
            return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
        self._stamp = now

    def reserve(self) -> float:
        """Take one token; return the seconds until it is really there (0 when it is)."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def acquire(self) -> float:
        """Take one token, sleeping until it is there; return the seconds slept."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def set_rate(self, rate: float) -> None:
        """Adopt a new refill rate (from ``x-amzn-RateLimit-Limit``); tokens earned so far are kept."""
        _check_rate(rate)
        with self._lock:
            self._refill()
            self._rate = float(rate)

    def drain(self) -> None:
        """Empty the bucket after a 429: the server says it is empty, so our estimate was optimistic.

        Queued reservations (a negative count) stay as they are.
        """
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)

    def debit(self, tokens: float) -> None:
        """Take back ``tokens`` of refill the server may not have earned (``unearned_refill``)."""
        if tokens <= 0:
            return
        with self._lock:
            self._refill()
            self._tokens -= tokens


def unearned_refill(level_before: float, rate: float, burst: int, in_flight_s: float) -> float:
    """Refill our bucket counted that the server's may not have: take it back once the answer is in.

    We count a token as taken when the request leaves; the server takes it when the request reaches
    its meter, at some moment before the answer. Until then a server bucket that is full earns nothing
    (the cap), while ours, one token down, refills from the send. So a call taken from a (nearly)
    full bucket leaves ours ahead of the server's by up to the refill of its time in flight (at most
    the one token it took), and the first call that waits to the margin for a refill arrives early
    and gets a 429 (issue 20: one of 44 searchOrders calls, on the first call after the burst, whose
    answer took 0.46 s). Assuming the server took the token when the answer came is the safe side:
    the refill lost above the cap is ``level_before + rate * in_flight_s - burst``, clamped to [0, 1].
    A call made from a bucket well below its cap loses nothing, so steady pacing is unchanged.
    """
    return min(1.0, max(0.0, level_before + rate * in_flight_s - burst))


def _check_rate(rate: float) -> None:
    if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
        raise ValueError(f"rate must be a positive finite number of requests per second, got {rate!r}")


def parse_rate_header(value: str | None) -> float | None:
    """The rate in ``x-amzn-RateLimit-Limit`` (e.g. ``"0.0167"``), or None when absent or garbage."""
    if not value:
        return None
    try:
        rate = float(value.strip())
    except ValueError:
        return None
    return rate if math.isfinite(rate) and rate > 0 else None


BucketKey = tuple[str, str, str, float]

_registry: dict[BucketKey, TokenBucket] = {}
_registry_lock = threading.Lock()


def shared_bucket(base_url: str, fingerprint: str, operation: str, quota: OperationQuota, speed: float,
                  store: Path | str | None = None) -> TokenBucket | StoredTokenBucket:
    """The process-wide bucket for (endpoint, credential fingerprint, operation, speed).

    Marketplaces of one seller account share its quota, so clients built for ``de`` and ``fr`` with
    the same refresh token must see one bucket. The endpoint is part of the key because two servers
    (two sandboxes in one test session) are two quota domains; the speed is, because a bucket seeded
    at another speed would throttle at the wrong rate. With ``store`` (a SQLite file or a
    PostgreSQL URL, ``quota_store.py``) the bucket is shared with every other process using that file.
    """
    key = (base_url, fingerprint, operation, float(speed))
    if store is not None:
        return StoredTokenBucket(quota_store(store), "|".join(map(str, key)), quota.rate * speed, quota.burst)
    with _registry_lock:
        bucket = _registry.get(key)
        if bucket is None:
            bucket = TokenBucket(quota.rate * speed, quota.burst)
            _registry[key] = bucket
        return bucket
