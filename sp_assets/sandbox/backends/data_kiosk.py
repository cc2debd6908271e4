"""Data Kiosk 2023-11-15: queries, their lifecycle, their JSON-lines documents (no HTTP).

A query moves IN_QUEUE -> IN_PROGRESS -> DONE | FATAL | CANCELLED, computed from the sandbox's clock
(``seller.now()``) when someone asks, as the reports backend does: each query gets a queue and a
processing delay chosen from its id (10-40 s and 30-120 s at speed 1, scaled by ``speed``; the extras
``datakiosk_queue_seconds`` / ``datakiosk_processing_seconds`` fix them). The query is validated and
executed at creation (the data is the seller's at that moment, so answering it later would give the
same rows), then the answer is held back until its delay has passed.

The query is real GraphQL, validated against Amazon's dataset schemas (the ``.graphql`` files in
``sp_assets/lib/data_kiosk_schemas``, read here as data) and executed with ``graphql-core``: the
document holds exactly the selected fields, one JSON object per line (one per element of the
dataset's list), paged by ``datakiosk_page_rows`` lines when that extra is set (then a DONE query has
``pagination.nextToken``, and createQuery with it and the same query text gives the next page). A
query that does not validate ends FATAL with an error document
``{"errorMessage": ...}``, as Amazon's do (so does fault injection ``fatal``, as for reports); a query whose answer is empty ends DONE without a
``dataDocumentId`` (Amazon's "no data"). Documents of 1 KiB or more are stored gzip and served with
``Content-Encoding: gzip``; smaller ones plain (the extra ``datakiosk_gzip_min_bytes`` moves the line).

Data: ``economics`` (per MSKU/ASIN and day: ordered and refunded sales and units, referral and FBA
fulfillment fees with the settlement report's rates, net proceeds) from the seller's orders and
returns; ``salesAndTrafficByDate``/``ByAsin`` from the GET_SALES_AND_TRAFFIC_REPORT generator, so
both sources agree. The by-ASIN shipped and refund figures, which that report does not carry, are 0.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphql

from sp_assets.lib.marketplaces import by_id
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.backends.presigned import PresignedUrls

if TYPE_CHECKING:
    from sp_assets.sandbox.state import SandboxState

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "lib" / "data_kiosk_schemas"
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
TERMINAL = frozenset({"CANCELLED", "DONE", "FATAL"})
MAX_QUERY_CHARS = 8000  # Amazon: at most 8000 characters after unnecessary whitespace is removed
URL_LIFETIME_SECONDS = 300.0
RETENTION = timedelta(days=30)  # the shortest @resultRetention of the served datasets (P30D)
_REFERRAL_RATE = Decimal("0.15")  # the settlement report's Commission
_FBA_FEE_RATE = Decimal("0.12")  # the settlement report's FBAPerUnitFulfillmentFee (per unit price)


@cache
def schemas() -> dict[str, graphql.GraphQLSchema]:
    """Each dataset's schema by its root field (``analytics_economics_2024_03_15``...)."""
    out = {}
    for path in sorted(SCHEMA_DIR.glob("*.graphql")):
        schema = graphql.build_schema(path.read_text(encoding="utf-8"))
        assert schema.query_type is not None
        for name in schema.query_type.fields:
            out[name] = schema
    return out


def compact(query: str) -> str:
    """The query without unnecessary whitespace (what Amazon's 8000-character limit counts)."""
    return " ".join(query.split())


@dataclass
class KioskDocument:
    document_id: str
    file: str
    gzip: bool


@dataclass
class QueryRecord:
    query_id: str
    seller: str
    query: str
    created: datetime
    queue_seconds: float
    processing_seconds: float
    outcome: str  # DONE or FATAL: decided at creation, shown once the delays have passed
    cancelled_at: datetime | None = None
    data_document: KioskDocument | None = None
    error_document: KioskDocument | None = None
    rows: int = 0
    next_token: str | None = None  # the next page's paginationToken, when the answer has more pages

    def status(self, now: datetime) -> str:
        if self.cancelled_at is not None:
            return "CANCELLED"
        elapsed = (now - self.created).total_seconds()
        if elapsed < self.queue_seconds:
            return "IN_QUEUE"
        if elapsed < self.queue_seconds + self.processing_seconds:
            return "IN_PROGRESS"
        return self.outcome

    def render(self, now: datetime) -> dict[str, Any]:
        """The ``Query`` object of the API."""
        from sp_assets.sandbox.operations import iso

        status = self.status(now)
        body: dict[str, Any] = {"queryId": self.query_id, "query": self.query, "createdTime": iso(self.created),
                                "processingStatus": status}
        started = self.created + timedelta(seconds=self.queue_seconds)
        if status == "IN_PROGRESS" or (status in TERMINAL and (self.cancelled_at is None or self.cancelled_at > started)):
            body["processingStartTime"] = iso(started)
        if status in TERMINAL:
            body["processingEndTime"] = iso(self.cancelled_at or started + timedelta(seconds=self.processing_seconds))
        if status == "DONE" and self.data_document is not None:
            body["dataDocumentId"] = self.data_document.document_id
        if status == "FATAL" and self.error_document is not None:
            body["errorDocumentId"] = self.error_document.document_id
        if status == "DONE" and self.next_token is not None:
            body["pagination"] = {"nextToken": self.next_token}
        return body


class DataKioskBackend:
    """Every query of one sandbox; thread-safe. Documents live in a temporary folder."""

    def __init__(self, state: SandboxState) -> None:
        self.config = state.config
        self.seller = state.seller
        self.stats = state.stats
        self.faults = state.faults
        self._seen: set[tuple[str, str]] = set()  # (seller, query text) already asked: fault fatal=first
        self._extra = dict(self.config.extra or {})
        self.root = Path(tempfile.mkdtemp(prefix="sp-sandbox-datakiosk-"))
        weakref.finalize(self, shutil.rmtree, str(self.root), True)
        self.urls = PresignedUrls("sp-sandbox-datakiosk", self.config.seed)
        self._lock = threading.RLock()
        self._queries: dict[str, QueryRecord] = {}
        self._documents: dict[str, tuple[QueryRecord, KioskDocument]] = {}

    def now(self) -> datetime:
        return self.seller.now()

    def _delays(self, query_id: str) -> tuple[float, float]:
        digest = int.from_bytes(hashlib.sha256(query_id.encode()).digest()[:8], "big")
        queue = self._extra.get("datakiosk_queue_seconds")
        processing = self._extra.get("datakiosk_processing_seconds")
        return (float(queue) if queue is not None else self.config.scaled(10 + digest % 31),
                float(processing) if processing is not None else self.config.scaled(30 + (digest // 31) % 91))

    # ------------------------------------------------------------------ create
    def create(self, seller: str, query: str, pagination_token: str | None = None) -> QueryRecord:
        """Validate and run the query now; its status follows the clock from here.

        With ``pagination_token`` (a previous page's ``pagination.nextToken`` for the same query text) the
        query is answered as of the first page's moment, from the token's offset. A page holds at most
        ``datakiosk_page_rows`` lines (the extra; unset: one page).
        """
        as_of, offset = self.now(), 0
        if pagination_token is not None:
            as_of, offset = self._read_token(pagination_token, query)
        query_id = str(int(time.time() * 1000) * 1000 + uuid.uuid4().int % 1000)
        queue, processing = self._delays(query_id)
        record = QueryRecord(query_id=query_id, seller=seller, query=query, created=self.now(),
                             queue_seconds=queue, processing_seconds=processing, outcome="DONE")
        problem, lines = self._execute(query, as_of)
        problem = problem or self._injected_fatal(seller, query)
        page_rows = int(self._extra.get("datakiosk_page_rows") or 0) or len(lines) or 1
        page = lines[offset:offset + page_rows]
        if problem is not None:
            record.outcome = "FATAL"
            record.error_document = self._store(json.dumps({"errorMessage": problem}).encode(), compress=False)
        elif page:
            body = ("\n".join(json.dumps(line, separators=(",", ":")) for line in page) + "\n").encode()
            threshold = int(self._extra.get("datakiosk_gzip_min_bytes", 1024))
            record.data_document = self._store(body, compress=len(body) >= threshold)
            record.rows = len(page)
            if offset + page_rows < len(lines):
                record.next_token = self._token(as_of, offset + page_rows, query)
        with self._lock:
            self._queries[query_id] = record
            for document in (record.data_document, record.error_document):
                if document is not None:
                    self._documents[document.document_id] = (record, document)
        self.stats.add(f"createQuery.{record.outcome}")
        return record

    def _injected_fatal(self, seller: str, query: str) -> str | None:
        """Fault injection as for reports: ``fatal=first`` fails each query text's first run, ``fatal=<rate>``
        that share of queries (the error document says it was injected)."""
        spec = self.faults.spec
        with self._lock:
            first = (seller, compact(query)) not in self._seen
            self._seen.add((seller, compact(query)))
        if (spec.fatal_first and first) or (spec.fatal_rate and self.faults.draw(spec.fatal_rate)):
            reason = "first run of this query (fault injection fatal=first)" if spec.fatal_first else "fault injection"
            return f"Query processing failed because of an internal error; submit the query again. [sandbox: {reason}]"
        return None

    @staticmethod
    def _token(as_of: datetime, offset: int, query: str) -> str:
        digest = hashlib.sha256(compact(query).encode()).hexdigest()[:16]
        return base64.b64encode(json.dumps({"asOf": as_of.isoformat(), "offset": offset, "query": digest}).encode()
                                ).decode()

    @staticmethod
    def _read_token(token: str, query: str) -> tuple[datetime, int]:
        """(the first page's moment, the offset) of a paginationToken; ValueError naming what is wrong."""
        try:
            data = json.loads(base64.b64decode(token.encode(), validate=True))
            as_of, offset, digest = datetime.fromisoformat(data["asOf"]), int(data["offset"]), str(data["query"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ValueError("paginationToken is not a pagination.nextToken this API gave; pass it unchanged") from None
        if digest != hashlib.sha256(compact(query).encode()).hexdigest()[:16]:
            raise ValueError("paginationToken belongs to another query: send it with the query text of the Query "
                             "object it came from")
        return as_of, offset

    def _store(self, body: bytes, compress: bool) -> KioskDocument:
        document_id = f"amzn1.tortuga.4.na.{uuid.uuid4()}.T{uuid.uuid4().hex[:12].upper()}"
        name = f"{document_id}.{'jsonl.gz' if compress else 'jsonl'}"
        (self.root / name).write_bytes(gzip.compress(body, mtime=0) if compress else body)
        return KioskDocument(document_id, name, compress)

    def _execute(self, query: str, as_of: datetime) -> tuple[str | None, list[dict[str, Any]]]:
        """(the error message of a query that fails, or None; the JSON lines of its answer)."""
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError as error:
            return f"The query is not valid GraphQL: {error.message}", []
        roots = [selection.name.value for definition in document.definitions
                 if isinstance(definition, graphql.OperationDefinitionNode)
                 for selection in definition.selection_set.selections if isinstance(selection, graphql.FieldNode)]
        if len(roots) != 1 or roots[0] not in schemas():
            return (f"The query must select exactly one dataset root field; allowed: {', '.join(sorted(schemas()))}; "
                    f"got {roots}"), []
        schema = schemas()[roots[0]]
        errors = graphql.validate(schema, document)
        if errors:
            return "; ".join(e.message for e in errors), []
        result = graphql.execute_sync(schema, document, root_value={roots[0]: _Datasets(self.seller, as_of)})
        if result.errors:
            return "; ".join(e.message for e in result.errors), []
        data = (result.data or {}).get(roots[0]) or {}
        return None, [line for value in data.values() for line in (value or [])]

    # ------------------------------------------------------------------ queries
    def get(self, seller: str, query_id: str) -> QueryRecord | None:
        with self._lock:
            record = self._queries.get(query_id)
        if record is None or record.seller != seller or record.created < self.now() - RETENTION:
            return None
        return record

    def list(self, seller: str, statuses: list[str], since: datetime, until: datetime) -> list[QueryRecord]:
        now = self.now()
        with self._lock:
            records = [r for r in self._queries.values() if r.seller == seller]
        out = [r for r in records if since <= r.created <= until and r.created >= now - RETENTION
               and (not statuses or r.status(now) in statuses)]
        out.sort(key=lambda r: (r.created, r.query_id), reverse=True)
        return out

    def cancel(self, seller: str, query_id: str) -> str:
        """Cancel a query that is IN_QUEUE or IN_PROGRESS; returns the status it had (the caller refuses
        DONE and FATAL; a CANCELLED query stays as it is)."""
        now = self.now()
        with self._lock:
            record = self.get(seller, query_id)
            if record is None:
                raise KeyError(query_id)
            status = record.status(now)
            if status in ("IN_QUEUE", "IN_PROGRESS"):
                record.cancelled_at = now
            return status

    # ------------------------------------------------------------------ documents
    def document(self, seller: str, document_id: str) -> KioskDocument | None:
        with self._lock:
            found = self._documents.get(document_id)
        if found is None:
            return None
        record, document = found
        status = record.status(self.now())
        visible = (status == "DONE" and document is record.data_document) or (
            status == "FATAL" and document is record.error_document)
        return document if record.seller == seller and visible else None

    def document_url(self, base_url: str, document: KioskDocument) -> str:
        ttl = float(self._extra.get("datakiosk_url_ttl_seconds", self.config.scaled_expiry(URL_LIFETIME_SECONDS)))
        return f"{base_url}/_datakiosk/{document.document_id}?{self.urls.query(document.document_id, time.time() + ttl)}"

    def document_file(self, document_id: str) -> tuple[Path, KioskDocument] | None:
        with self._lock:
            found = self._documents.get(document_id)
        if found is None:
            return None
        path = self.root / found[1].file
        return (path, found[1]) if path.exists() else None


# ---------------------------------------------------------------------------------------------- data
def _money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal("1") if currency == "JPY" else Decimal("0.01"), rounding=ROUND_HALF_UP)


def _amount(value: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": float(_money(value, currency)), "currencyCode": currency}


def _dates(start: str, end: str) -> tuple[date, date]:
    try:
        first, last = date.fromisoformat(str(start)), date.fromisoformat(str(end))
    except ValueError:
        raise graphql.GraphQLError(f"startDate and endDate must be dates (YYYY-MM-DD), got {start!r}, {end!r}") from None
    if first > last:
        raise graphql.GraphQLError(f"startDate ({first}) must not be after endDate ({last})")
    return first, last


def _one_marketplace(marketplace_ids: list[str]) -> str:
    if len(marketplace_ids) != 1:
        raise graphql.GraphQLError(f"this sandbox answers one marketplace per query; got {marketplace_ids}")
    try:
        return by_id(marketplace_ids[0]).marketplace_id
    except Exception:
        raise graphql.GraphQLError(f"unknown marketplace id {marketplace_ids[0]!r}") from None


@dataclass
class _Economics:
    units: int = 0
    sales: Decimal = Decimal(0)
    refunded_units: int = 0
    refunded: Decimal = Decimal(0)
    referral: Decimal = Decimal(0)
    fba: Decimal = Decimal(0)
    fba_units: int = 0
    identity: dict[str, Any] = field(default_factory=dict)


class _Datasets:
    """The root value of an executed query: one resolver per dataset field (graphql-core calls a callable
    attribute with ``(info, **arguments)``)."""

    def __init__(self, seller: Any, as_of: datetime) -> None:
        self.seller = seller
        self.as_of = as_of

    # ---------------------------------------------------------------- economics
    def economics(self, info: Any, startDate: str, endDate: str, marketplaceIds: list[str],  # noqa: N803
                  aggregateBy: dict[str, str] | None = None, **_: Any) -> list[dict[str, Any]]:
        first, last = _dates(startDate, endDate)
        marketplace_id = _one_marketplace(marketplaceIds)
        date_granularity = (aggregateBy or {}).get("date") or "DAY"
        product = (aggregateBy or {}).get("productId") or "MSKU"
        if date_granularity not in ("DAY", "RANGE"):
            raise graphql.GraphQLError(f"this sandbox aggregates economics by DAY or RANGE, got {date_granularity}")
        currency = by_id(marketplace_id).currency
        start = docs.day_start(first)
        end = min(docs.day_start(last + timedelta(days=1)), self.as_of)
        products = {p.sku: p for p in self.seller.products(marketplace_id)}
        parents = {sku: docs.parent_asin(self.seller, marketplace_id, p) for sku, p in products.items()}
        groups: dict[tuple[date, tuple[str, ...]], _Economics] = defaultdict(_Economics)

        def group(day: date, sku: str) -> _Economics:
            item = products[sku]
            identity = {"parentAsin": parents[sku], "childAsin": item.asin, "msku": sku, "fnsku": item.fnsku}
            if product == "CHILD_ASIN":
                identity.update(msku=None, fnsku=None)
            elif product == "PARENT_ASIN":
                identity.update(childAsin=None, msku=None, fnsku=None)
            key = (first if date_granularity == "RANGE" else day, tuple(str(v) for v in identity.values()))
            found = groups[key]
            found.identity = identity
            return found

        for plan in docs.plans_purchased(self.seller, marketplace_id, start, end):
            order = plan.at(self.as_of)
            if order is None or order.status == "Canceled":
                continue
            for item in plan.items:
                agg = group(plan.purchase_date.date(), item.sku)
                agg.units += item.quantity
                agg.sales += item.item_price
                agg.referral += item.item_price * _REFERRAL_RATE
                if plan.fulfillment_channel == "AFN":
                    agg.fba += item.unit_price * _FBA_FEE_RATE * item.quantity
                    agg.fba_units += item.quantity
        for event in docs.returns_between(self.seller, marketplace_id, start, end, self.as_of):
            agg = group(event.at.date(), event.item.sku)
            agg.refunded_units += event.quantity
            agg.refunded += event.item.unit_price * event.quantity
        out = []
        for (day, _key), agg in sorted(groups.items()):
            last_day = last if date_granularity == "RANGE" else day
            out.append(self._economics_record(marketplace_id, currency, day, last_day, agg))
        return out

    @staticmethod
    def _economics_record(marketplace_id: str, currency: str, first: date, last: date,
                          agg: _Economics) -> dict[str, Any]:
        net_sales = _money(agg.sales, currency) - _money(agg.refunded, currency)
        net_units = agg.units - agg.refunded_units
        fees: list[dict[str, Any]] = []
        fee_total = Decimal(0)
        for name, identifier, total, quantity in (("Referral fees", "REFERRAL_FEE", agg.referral, agg.units),
                                                  ("FBA fulfillment fees", "FBA_FULFILLMENT_FEE", agg.fba,
                                                   agg.fba_units)):
            if not quantity:
                continue
            total = _money(total, currency)
            detail = {"amount": _amount(total, currency), "amountPerUnit": _amount(total / quantity, currency),
                      "amountPerUnitDelta": None, "promotionAmount": _amount(Decimal(0), currency),
                      "quantity": float(quantity), "taxAmount": _amount(Decimal(0), currency),
                      "totalAmount": _amount(total, currency)}
            fee: dict[str, Any] = {"aggregatedDetail": detail, "components": None, "identifier": identifier,
                   "startDate": first.isoformat(), "endDate": last.isoformat(), "properties": []}
            fees.append({"feeTypeName": name, "charges": [fee], "charge": fee})
            fee_total += total
        proceeds = net_sales - fee_total
        return {
            "startDate": first.isoformat(), "endDate": last.isoformat(), "marketplaceId": marketplace_id,
            **agg.identity,
            "sales": {
                "orderedProductSales": _amount(agg.sales, currency),
                "refundedProductSales": _amount(agg.refunded, currency),
                "netProductSales": _amount(net_sales, currency),
                "unitsOrdered": agg.units, "unitsRefunded": agg.refunded_units, "netUnitsSold": net_units,
                "averageSellingPrice": _amount(agg.sales / agg.units, currency) if agg.units else None,
            },
            "fees": fees,
            "ads": [],
            "cost": None,
            "netProceeds": {"total": _amount(proceeds, currency),
                            "perUnit": _amount(proceeds / net_units, currency) if net_units else None},
        }

    # ---------------------------------------------------------------- sales and traffic
    def _report(self, startDate: str, endDate: str, marketplaceIds: list[str],  # noqa: N803
                date_granularity: str, asin_granularity: str) -> tuple[str, dict[str, Any] | None]:
        first, last = _dates(startDate, endDate)
        marketplace_id = _one_marketplace(marketplaceIds)
        spec = docs.DocumentSpec(docs.SALES_AND_TRAFFIC, (marketplace_id,), docs.day_start(first),
                                 docs.day_start(last + timedelta(days=1)) - timedelta(seconds=1),
                                 {"dateGranularity": date_granularity, "asinGranularity": asin_granularity},
                                 self.as_of)
        return marketplace_id, docs.sales_and_traffic(self.seller, spec)

    def salesAndTrafficByDate(self, info: Any, startDate: str, endDate: str,  # noqa: N802,N803
                              marketplaceIds: list[str], aggregateBy: str, **_: Any) -> list[dict[str, Any]]:
        marketplace_id, report = self._report(startDate, endDate, marketplaceIds, aggregateBy, "PARENT")
        out = []
        for entry in (report or {}).get("salesAndTrafficByDate", []):
            first = date.fromisoformat(entry["date"])
            out.append({"startDate": first.isoformat(),
                        "endDate": docs._bucket_end(first, aggregateBy).isoformat(),
                        "marketplaceId": marketplace_id, "sales": entry["salesByDate"],
                        "traffic": entry["trafficByDate"]})
        return out

    def salesAndTrafficByAsin(self, info: Any, startDate: str, endDate: str,  # noqa: N802,N803
                              marketplaceIds: list[str], aggregateBy: str, **_: Any) -> list[dict[str, Any]]:
        marketplace_id, report = self._report(startDate, endDate, marketplaceIds, "DAY", aggregateBy)
        currency = by_id(marketplace_id).currency
        zero = _amount(Decimal(0), currency)
        out = []
        for entry in (report or {}).get("salesAndTrafficByAsin", []):
            sales = {"ordersShipped": 0, "refundRate": 0.0, "shippedProductSales": zero, "unitsRefunded": 0,
                     "unitsShipped": 0, **entry["salesByAsin"]}
            out.append({"startDate": str(startDate), "endDate": str(endDate), "marketplaceId": marketplace_id,
                        "parentAsin": entry["parentAsin"], "childAsin": entry.get("childAsin"),
                        "sku": entry.get("sku"), "sales": sales, "traffic": entry["trafficByAsin"]})
        return out
