"""Data Kiosk 2023-11-15: GraphQL queries built from Amazon's dataset schemas, their lifecycle, the
JSON-lines documents they produce, and the typed tables those load into. Plain Python.

A dataset (``DATASETS``) is one list field of one Amazon schema (``economics`` of
``analytics_economics_2024_03_15``...) plus the columns a table takes from each of its objects: each
column names the dotted field path it reads, so the query's selection is exactly those paths
(``build_query``) and is validated against the schema file before it is sent (``validate_query``,
with ``graphql-core``: every field must exist on its type, arguments must fit). The schema files are
Amazon's, copied into ``data_kiosk_schemas/``.

The lifecycle (``run_query``) mirrors the reports': createQuery -> getQuery (polled, the delay
growing, the deadline in Amazon-time divided by the client's speed) -> getDocument -> download to a
file. The query id goes into the report ledger (``reports/ledger.py``) under a key of its own kind
(``DATA_KIOSK_<DATASET>``, the marketplace, the day and a digest of the query text) before polling,
so a relaunched run resumes the same query instead of creating a second one. DONE without
``dataDocumentId`` is Amazon's "no data" (zero rows). A result of several pages (``pagination.nextToken``)
is followed: each next page is a query of its own, and the pages are joined into one file. FATAL raises ``DataKioskFatalError`` with the
error document's text; CANCELLED raises ``DataKioskCancelledError``; neither is resumed later.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import graphql

from sp_assets.lib.reports.catalog import PARTITION_COLUMN
from sp_assets.lib.reports.decoding import open_maybe_gzip
from sp_assets.lib.reports.ledger import LedgerEntry, ReportLedger
from sp_assets.lib.reports.lifecycle import PollPolicy
from sp_assets.lib.reports.request import ReportRequest
from sp_assets.lib.spapi.errors import AccessDeniedError, InvalidInputError, NotFoundError, SPAPIError
from sp_assets.lib.spapi.http import SPAPIClient, path_segment
from sp_assets.lib.spapi.redaction import get_logger
from sp_assets.lib.tablespec import BIGINT, DATE, DOUBLE, JSON, MONEY, VARCHAR, Column, TableSpec

log = get_logger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parent / "data_kiosk_schemas"
QUERIES_PATH = "/dataKiosk/2023-11-15/queries"
DOCUMENTS_PATH = "/dataKiosk/2023-11-15/documents"
TERMINAL_STATUSES = frozenset({"DONE", "FATAL", "CANCELLED"})
MAX_QUERY_CHARS = 8000  # Amazon: after unnecessary whitespace is removed
QUERY_ID_COLUMN = "query_id"


# ------------------------------------------------------------------------------------------ datasets
@dataclass(frozen=True)
class Field:
    """One column read from a dotted field path of each JSON line (``sales.unitsOrdered``).

    ``select`` is the sub-selection of an object kept whole as JSON (``fees``); leaves need none.
    """

    column: str
    path: str
    type: str
    description: str = ""
    select: str | None = None
    nullable: bool = True


@dataclass(frozen=True)
class Dataset:
    """One Data Kiosk dataset loaded into one table: the schema, its list field, its arguments, its columns."""

    key: str  # the name in marketplaces.yaml (data_kiosk: [...]) and in the ledger key
    table: str
    schema: str  # the schema file's stem, which is also the query's root field
    list_field: str
    arguments: Callable[[str, date, date], str]  # (marketplace id, first day, last day) -> GraphQL arguments
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    description: str
    derived: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda record: {})
    derived_columns: tuple[Column, ...] = ()

    @property
    def ledger_type(self) -> str:
        """The ledger's ``report_type`` slot for this dataset: a kind no Amazon report type has."""
        return f"DATA_KIOSK_{self.key.upper()}"

    @property
    def spec(self) -> TableSpec:
        return _table_spec(self)


def _dates_and_marketplace(marketplace_id: str, first: date, last: date) -> str:
    return (f'startDate: "{first.isoformat()}", endDate: "{last.isoformat()}", '
            f"marketplaceIds: [{json.dumps(marketplace_id)}]")


def _economics_arguments(marketplace_id: str, first: date, last: date) -> str:
    return f"{_dates_and_marketplace(marketplace_id, first, last)}, aggregateBy: {{date: DAY, productId: MSKU}}"


def _by_date_arguments(marketplace_id: str, first: date, last: date) -> str:
    return f"{_dates_and_marketplace(marketplace_id, first, last)}, aggregateBy: DAY"


def _by_asin_arguments(marketplace_id: str, first: date, last: date) -> str:
    return f"{_dates_and_marketplace(marketplace_id, first, last)}, aggregateBy: CHILD"


def _money(column: str, path: str, description: str = "") -> Field:
    return Field(column, f"{path}.amount", MONEY, description)


def _economics_derived(record: dict[str, Any]) -> dict[str, Any]:
    """``total_fees``: the sum of every fee charge's totalAmount (what net proceeds subtract)."""
    total = Decimal(0)
    for summary in record.get("fees") or []:
        for charge in (summary or {}).get("charges") or []:
            amount = (((charge or {}).get("aggregatedDetail") or {}).get("totalAmount") or {}).get("amount")
            if amount is not None:
                total += Decimal(repr(amount)) if isinstance(amount, float) else Decimal(str(amount))
    return {"total_fees": total}


_IDENTITY = (
    Field("start_date", "startDate", DATE, "first day of the row's period (UTC)", nullable=False),
    Field("end_date", "endDate", DATE, "last day of the row's period (UTC)"),
    Field("marketplace_id", "marketplaceId", VARCHAR, nullable=False),
)

ECONOMICS = Dataset(
    key="economics", table="kiosk_economics", schema="analytics_economics_2024_03_15", list_field="economics",
    arguments=_economics_arguments,
    fields=(
        *_IDENTITY,
        Field("msku", "msku", VARCHAR, "the seller SKU", nullable=False),
        Field("child_asin", "childAsin", VARCHAR),
        Field("parent_asin", "parentAsin", VARCHAR),
        Field("fnsku", "fnsku", VARCHAR),
        Field("currency", "sales.orderedProductSales.currencyCode", VARCHAR),
        _money("ordered_product_sales", "sales.orderedProductSales"),
        _money("refunded_product_sales", "sales.refundedProductSales"),
        _money("net_product_sales", "sales.netProductSales", "ordered minus refunded product sales"),
        Field("units_ordered", "sales.unitsOrdered", BIGINT),
        Field("units_refunded", "sales.unitsRefunded", BIGINT),
        Field("net_units_sold", "sales.netUnitsSold", BIGINT),
        _money("average_selling_price", "sales.averageSellingPrice"),
        _money("net_proceeds", "netProceeds.total", "net product sales minus fees, ads and costs"),
        _money("net_proceeds_per_unit", "netProceeds.perUnit"),
        Field("fees", "fees", JSON, "every fee type with its charges, as Amazon sent them",
              select="feeTypeName charges { identifier startDate endDate aggregatedDetail { quantity "
                     "amount { amount currencyCode } totalAmount { amount currencyCode } } }"),
    ),
    primary_key=(PARTITION_COLUMN, "marketplace_id", "msku"),
    derived=_economics_derived,
    derived_columns=(Column("total_fees", MONEY, description="sum of every fee charge's totalAmount"),),
    description="Seller economics per SKU and day (Data Kiosk analytics_economics_2024_03_15, economics "
                "aggregated by MSKU and DAY): sales, units, fees and net proceeds.",
)

_SALES_TRAFFIC_COMMON = (
    *_IDENTITY,
    Field("currency", "sales.orderedProductSales.currencyCode", VARCHAR),
    _money("ordered_product_sales", "sales.orderedProductSales"),
    _money("ordered_product_sales_b2b", "sales.orderedProductSalesB2B"),
    Field("units_ordered", "sales.unitsOrdered", BIGINT),
    Field("units_ordered_b2b", "sales.unitsOrderedB2B", BIGINT),
    Field("total_order_items", "sales.totalOrderItems", BIGINT),
    Field("sessions", "traffic.sessions", BIGINT),
    Field("browser_sessions", "traffic.browserSessions", BIGINT),
    Field("mobile_app_sessions", "traffic.mobileAppSessions", BIGINT),
    Field("page_views", "traffic.pageViews", BIGINT),
    Field("buy_box_percentage", "traffic.buyBoxPercentage", DOUBLE),
    Field("unit_session_percentage", "traffic.unitSessionPercentage", DOUBLE),
)

SALES_TRAFFIC_BY_DATE = Dataset(
    key="sales_traffic_by_date", table="kiosk_sales_traffic_by_date", schema="analytics_salesAndTraffic_2024_04_24",
    list_field="salesAndTrafficByDate", arguments=_by_date_arguments,
    fields=(
        *_SALES_TRAFFIC_COMMON,
        _money("average_selling_price", "sales.averageSellingPrice"),
        Field("units_refunded", "sales.unitsRefunded", BIGINT),
        Field("refund_rate", "sales.refundRate", DOUBLE),
        _money("shipped_product_sales", "sales.shippedProductSales"),
        Field("units_shipped", "sales.unitsShipped", BIGINT),
        Field("orders_shipped", "sales.ordersShipped", BIGINT),
        Field("order_item_session_percentage", "traffic.orderItemSessionPercentage", DOUBLE),
    ),
    primary_key=(PARTITION_COLUMN, "marketplace_id", "start_date"),
    description="Sales and traffic per day (Data Kiosk analytics_salesAndTraffic_2024_04_24, "
                "salesAndTrafficByDate aggregated by DAY).",
)

SALES_TRAFFIC_BY_ASIN = Dataset(
    key="sales_traffic_by_asin", table="kiosk_sales_traffic_by_asin", schema="analytics_salesAndTraffic_2024_04_24",
    list_field="salesAndTrafficByAsin", arguments=_by_asin_arguments,
    fields=(
        *_SALES_TRAFFIC_COMMON,
        Field("parent_asin", "parentAsin", VARCHAR),
        Field("child_asin", "childAsin", VARCHAR, nullable=False),
        Field("session_percentage", "traffic.sessionPercentage", DOUBLE),
        Field("page_views_percentage", "traffic.pageViewsPercentage", DOUBLE),
    ),
    primary_key=(PARTITION_COLUMN, "marketplace_id", "child_asin"),
    description="Sales and traffic per child ASIN and day (Data Kiosk analytics_salesAndTraffic_2024_04_24, "
                "salesAndTrafficByAsin aggregated by CHILD, one query per day).",
)

DATASETS: dict[str, Dataset] = {d.key: d for d in (ECONOMICS, SALES_TRAFFIC_BY_DATE, SALES_TRAFFIC_BY_ASIN)}


@cache
def _table_spec(dataset: Dataset) -> TableSpec:
    columns = [Column(PARTITION_COLUMN, DATE, nullable=False, description="the daily partition the row was loaded for")]
    columns += [Column(f.column, f.type, nullable=f.nullable, description=f.description) for f in dataset.fields]
    columns += [*dataset.derived_columns,
                Column(QUERY_ID_COLUMN, VARCHAR, nullable=False, description="the Data Kiosk query the row came from")]
    return TableSpec(name=dataset.table, columns=tuple(columns), primary_key=dataset.primary_key,
                     partition_column=PARTITION_COLUMN, description=dataset.description)


# ------------------------------------------------------------------------------------------ queries
class QueryValidationError(ValueError):
    """A query text that Amazon's schema refuses; names the fields or arguments at fault."""


@cache
def schema(name: str) -> graphql.GraphQLSchema:
    """Amazon's schema of one dataset version (``analytics_economics_2024_03_15``), from its file."""
    path = SCHEMA_DIR / f"{name}.graphql"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SCHEMA_DIR.glob("*.graphql")))
        raise QueryValidationError(f"no Data Kiosk schema {name!r}; known: {known}")
    return graphql.build_schema(path.read_text(encoding="utf-8"))


def _selection(paths: Sequence[Field]) -> str:
    """The nested selection set of the fields' dotted paths (shared prefixes merged, order kept)."""
    tree: dict[str, Any] = {}
    for item in paths:
        node = tree
        parts = item.path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(parts[-1], item.select or {})

    def render(node: dict[str, Any]) -> str:
        out = []
        for name, child in node.items():
            if isinstance(child, str):
                out.append(f"{name} {{ {child} }}")
            elif child:
                out.append(f"{name} {{ {render(child)} }}")
            else:
                out.append(name)
        return " ".join(out)

    return render(tree)


def build_query(dataset: Dataset, marketplace_id: str, first: date, last: date) -> str:
    """The GraphQL text asking for the dataset's columns over ``[first, last]`` in one marketplace.

    Validated against the schema before it is returned, so a wrong field path fails here, naming it.
    """
    if first > last:
        raise ValueError(f"first day {first} must not be after last day {last}")
    text = (f"query {{ {dataset.schema} {{ {dataset.list_field}({dataset.arguments(marketplace_id, first, last)}) "
            f"{{ {_selection(dataset.fields)} }} }} }}")
    check_query(text)
    return text


def validate_query(text: str) -> list[str]:
    """Why Amazon's schema refuses ``text`` (empty when it validates): syntax, unknown root or dataset,
    fields that do not exist on their type, missing or wrong arguments, the 8000-character limit."""
    compact = " ".join(text.split())
    if len(compact) > MAX_QUERY_CHARS:
        return [f"the query has {len(compact)} characters without unnecessary whitespace; Amazon allows "
                f"{MAX_QUERY_CHARS}"]
    try:
        document = graphql.parse(text)
    except graphql.GraphQLError as error:
        return [f"not valid GraphQL: {error.message}"]
    roots = [selection.name.value for definition in document.definitions
             if isinstance(definition, graphql.OperationDefinitionNode)
             for selection in definition.selection_set.selections if isinstance(selection, graphql.FieldNode)]
    known = sorted(p.stem for p in SCHEMA_DIR.glob("*.graphql"))
    if len(roots) != 1 or roots[0] not in known:
        return [f"a query selects exactly one dataset root field; allowed: {', '.join(known)}; got {roots}"]
    return [error.message for error in graphql.validate(schema(roots[0]), document)]


def check_query(text: str) -> None:
    """``validate_query``, raising ``QueryValidationError`` listing every problem."""
    problems = validate_query(text)
    if problems:
        raise QueryValidationError("the Data Kiosk query does not validate against Amazon's schema: "
                                   + "; ".join(problems))


# ------------------------------------------------------------------------------------------ API calls
def create_query(client: SPAPIClient, query: str, pagination_token: str | None = None) -> str:
    """createQuery; returns the ``queryId`` (Amazon answers 202). ``pagination_token`` asks for the next
    page of an earlier query's results (its ``pagination.nextToken``, with the same query text)."""
    body = {"query": query} if pagination_token is None else {"query": query, "paginationToken": pagination_token}
    answer = client.request("createQuery", "POST", QUERIES_PATH, json=body)
    query_id = answer.get("queryId") if isinstance(answer, dict) else None
    if not query_id:
        raise DataKioskError(f"createQuery answered without a queryId: {str(answer)[:200]!r}")
    return str(query_id)


def get_query(client: SPAPIClient, query_id: str) -> dict[str, Any]:
    answer = client.request("getQuery", "GET", f"{QUERIES_PATH}/{path_segment(query_id)}")
    return answer if isinstance(answer, dict) else {}


def cancel_query(client: SPAPIClient, query_id: str) -> None:
    """cancelQuery: Amazon cancels IN_QUEUE and IN_PROGRESS queries (a finished one gives a 400)."""
    client.request("cancelQuery", "DELETE", f"{QUERIES_PATH}/{path_segment(query_id)}")


def get_document(client: SPAPIClient, document_id: str) -> dict[str, Any]:
    """``{documentId, documentUrl}``; the URL expires after 5 minutes."""
    answer = client.request("getDocument", "GET", f"{DOCUMENTS_PATH}/{path_segment(document_id)}")
    if not isinstance(answer, dict) or not answer.get("documentUrl"):
        raise DataKioskError(f"getDocument {document_id} answered without a documentUrl: {str(answer)[:200]!r}")
    return answer


# ------------------------------------------------------------------------------------------ lifecycle
class DataKioskError(SPAPIError):
    """Base class of the Data Kiosk lifecycle's own errors."""


class DataKioskFatalError(DataKioskError):
    """Amazon aborted the query (FATAL); ``error_details`` is the error document's text. Not resumed."""

    def __init__(self, query_id: str, what: str, error_details: str | None) -> None:
        self.query_id = query_id
        self.error_details = error_details
        super().__init__(f"Data Kiosk query {query_id} for {what} ended FATAL: "
                         f"{error_details or 'Amazon gave no error document'}; nothing was written")


class DataKioskCancelledError(DataKioskError):
    """The query was cancelled (cancelQuery, by this or another client) before it finished. Not resumed."""

    def __init__(self, query_id: str, what: str) -> None:
        self.query_id = query_id
        super().__init__(f"Data Kiosk query {query_id} for {what} was CANCELLED before it finished (cancelQuery); "
                         f"nothing was written, and launching the partition again creates a new query")


class DataKioskTimeoutError(DataKioskError):
    """The query did not finish within ``PollPolicy.timeout``; the ledger keeps its id to resume later."""

    def __init__(self, query_id: str, what: str, status: str, waited: float) -> None:
        self.query_id = query_id
        self.status = status
        super().__init__(f"Data Kiosk query {query_id} for {what} is still {status} after {waited:.0f}s; a later "
                         f"run resumes polling it (the id is in the ledger)")


@dataclass(frozen=True)
class KioskRequest:
    """One dataset over one day range in one marketplace: the query text and its ledger key."""

    dataset: Dataset
    marketplace_id: str
    first: date
    last: date
    query: str

    @classmethod
    def build(cls, dataset: Dataset, marketplace_id: str, first: date, last: date | None = None) -> KioskRequest:
        last = last or first
        return cls(dataset, marketplace_id, first, last, build_query(dataset, marketplace_id, first, last))

    @property
    def ledger_key(self) -> ReportRequest:
        """The ledger's key: the dataset as its kind, the window, and a digest of the query text (a change
        of the selected fields is a new query, never the resumption of an old one)."""
        start = datetime.combine(self.first, dt_time(0), tzinfo=UTC)
        end = datetime.combine(self.last + timedelta(days=1), dt_time(0), tzinfo=UTC) - timedelta(seconds=1)
        digest = hashlib.sha256(self.query.encode("utf-8")).hexdigest()[:16]
        return ReportRequest(self.dataset.ledger_type, self.marketplace_id, start, end, {"query_sha256": digest})

    def describe(self) -> str:
        window = self.first.isoformat() if self.first == self.last else f"{self.first}..{self.last}"
        return f"{self.dataset.key} {self.marketplace_id} {window}"


@dataclass
class KioskOutcome:
    """A DONE query: its JSON-lines file (None when Amazon had no data) and how it went."""

    request: KioskRequest
    query_id: str
    resumed: bool
    elapsed: float
    path: Path | None = None
    document_id: str | None = None
    bytes_downloaded: int = 0
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def records(self) -> Iterator[dict[str, Any]]:
        """The document's objects, one per line (gzip or plain, whatever the download gave)."""
        if self.path is None:
            return
        with open_maybe_gzip(self.path) as stream:
            for number, raw in enumerate(stream, 1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except ValueError as error:
                    raise DataKioskError(f"Data Kiosk query {self.query_id}: line {number} of its document is not "
                                         f"JSON ({error}); nothing was written") from None
                if not isinstance(record, dict):
                    raise DataKioskError(f"Data Kiosk query {self.query_id}: line {number} of its document is not "
                                         f"a JSON object; nothing was written")
                yield record

    def cleanup(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def run_query(client: SPAPIClient, ledger: ReportLedger, request: KioskRequest, *, poll: PollPolicy | None = None,
              work_dir: str | Path | None = None, sleep: Callable[[float], None] = time.sleep) -> KioskOutcome:
    """Get one query's document, resuming the query the ledger knows for this request when there is one.

    Raises ``DataKioskFatalError``, ``DataKioskCancelledError``, ``DataKioskTimeoutError`` or the client's
    typed errors. The caller loads the rows, then calls ``ledger.mark_consumed(client.credential_id,
    request.ledger_key, outcome.query_id)`` so the next run asks Amazon for fresh data.
    """
    return _QueryRun(client, ledger, request, poll or PollPolicy(), work_dir, sleep).execute()


class _QueryRun:
    def __init__(self, client: SPAPIClient, ledger: ReportLedger, request: KioskRequest, poll: PollPolicy,
                 work_dir: str | Path | None, sleep: Callable[[float], None]) -> None:
        self.client = client
        self.ledger = ledger
        self.request = request
        self.key = request.ledger_key
        self.poll = poll
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self.sleep = sleep
        self.credential = client.credential_id
        self.speed = float(getattr(client, "speed", 1.0))
        self.started = time.monotonic()
        self.timeline: list[dict[str, Any]] = []
        self.query_id = ""
        self.resumed = False

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def execute(self) -> KioskOutcome:
        self.query_id, self.resumed = self._create_or_resume()
        query = self._wait_for_terminal()
        outcome = KioskOutcome(self.request, self.query_id, self.resumed, self.elapsed(), timeline=self.timeline)
        pages: list[Path] = []
        try:
            page_id = self.query_id
            while True:
                self._refuse_unfinished(page_id, query)
                document_id = query.get("dataDocumentId")
                if document_id:
                    outcome.document_id = outcome.document_id or str(document_id)
                    path, size = self._download(str(document_id), f"page{len(pages) + 1}.jsonl")
                    pages.append(path)
                    outcome.bytes_downloaded += size
                token = (query.get("pagination") or {}).get("nextToken")
                if not token:
                    break
                # The next page is a query of its own (not in the ledger: a relaunch re-reads every page).
                page_id = create_query(self.client, self.request.query, str(token))
                log.info("data kiosk %s: query %s has another page; created query %s", self.request.describe(),
                         self.query_id, page_id)
                query = self._poll(page_id, ledgered=False)
            outcome.path = self._joined(pages)
        except BaseException:
            for page in pages:
                page.unlink(missing_ok=True)
            raise
        outcome.elapsed = self.elapsed()
        return outcome

    def _refuse_unfinished(self, query_id: str, query: dict[str, Any]) -> None:
        status = query["processingStatus"]
        what = self.request.describe()
        if status == "CANCELLED":
            raise DataKioskCancelledError(query_id, what)
        if status == "FATAL":
            details = self._error_document(str(query["errorDocumentId"])) if query.get("errorDocumentId") else None
            self.ledger.update(self.credential, self.key, self.query_id, "FATAL", error=details)
            raise DataKioskFatalError(query_id, what, details)

    def _joined(self, pages: list[Path]) -> Path | None:
        """One JSON-lines file of every page (a single page is kept as downloaded, gzip or not)."""
        if len(pages) <= 1:
            return pages[0] if pages else None
        target = pages[0].with_name(f"{self.request.dataset.key}-{self.query_id}.jsonl")
        with target.open("wb") as out:
            for page in pages:
                last = b"\n"
                with open_maybe_gzip(page) as stream:
                    while chunk := stream.read(1 << 16):
                        out.write(chunk)
                        last = chunk[-1:]
                if last != b"\n":
                    out.write(b"\n")  # a page without a final newline must not glue two objects together
                page.unlink(missing_ok=True)
        return target

    def _resumable(self, entry: LedgerEntry) -> bool:
        if entry.consumed_at is not None or entry.status in ("FATAL", "CANCELLED"):
            return False
        return entry.requested_at >= datetime.now(UTC) - self.poll.retention

    def _create_or_resume(self) -> tuple[str, bool]:
        with self.ledger.lock(self.credential, self.key):
            entry = self.ledger.entry(self.credential, self.key)
            if entry is not None and self._resumable(entry):
                log.info("data kiosk %s: resuming query %s (last seen %s)", self.request.describe(),
                         entry.report_id, entry.status)
                return entry.report_id, True
            return self._create(), False

    def _create(self) -> str:
        query_id = create_query(self.client, self.request.query)
        self.ledger.record_requested(self.credential, self.key, query_id)
        log.info("data kiosk %s: created query %s", self.request.describe(), query_id)
        return query_id

    def _wait_for_terminal(self) -> dict[str, Any]:
        """Poll the ledgered query; one Amazon no longer knows (retention) is created again, once."""
        while True:
            try:
                return self._poll(self.query_id, ledgered=True)
            except (NotFoundError, InvalidInputError):
                if not self.resumed:
                    raise
                stale = self.query_id
                with self.ledger.lock(self.credential, self.key):
                    self.query_id, self.resumed = self._create(), False
                log.warning("data kiosk %s: Amazon does not know query %s any more; now polling %s",
                            self.request.describe(), stale, self.query_id)

    def _poll(self, query_id: str, *, ledgered: bool) -> dict[str, Any]:
        """getQuery until a terminal status or the deadline (``DataKioskTimeoutError``; the ledger keeps the id)."""
        polls, status = 0, ""
        deadline = self.started + self.poll.timeout / self.speed
        while True:
            query = get_query(self.client, query_id)
            seen = str(query.get("processingStatus", ""))
            if seen != status:
                status = seen
                if ledgered:
                    self.ledger.update(self.credential, self.key, query_id, status,
                                       str(query.get("dataDocumentId") or "") or None)
                self.timeline.append({"status": status, "after_s": round(self.elapsed(), 3), "query_id": query_id,
                                      "resumed": self.resumed})
            if status in TERMINAL_STATUSES:
                return query
            if time.monotonic() >= deadline:
                raise DataKioskTimeoutError(query_id, self.request.describe(), status, self.elapsed())
            self.sleep(min(self.poll.delay(polls, self.speed), max(0.0, deadline - time.monotonic())))
            polls += 1

    def _download(self, document_id: str, suffix: str) -> tuple[Path, int]:
        """The document into the work folder; an expired presigned URL (403) asks getDocument again."""
        work = self.work_dir or Path(tempfile.mkdtemp(prefix="sp-datakiosk-"))
        work.mkdir(parents=True, exist_ok=True)
        target = work / f"{self.request.dataset.key}-{self.query_id}.{suffix}"
        refreshes = 0
        while True:
            url = get_document(self.client, document_id)["documentUrl"]
            try:
                result = self.client.download_to(url, target)
                return target, result.bytes
            except AccessDeniedError:
                target.unlink(missing_ok=True)
                if refreshes >= self.poll.max_url_refreshes:
                    raise DataKioskError(f"Data Kiosk query {self.query_id}: the document URL was refused "
                                         f"{refreshes + 1} times (expired presigned URL?); nothing was written") from None
                refreshes += 1
            except BaseException:
                target.unlink(missing_ok=True)
                raise

    def _error_document(self, document_id: str) -> str | None:
        """The text of a FATAL query's error document (``{"errorMessage": ...}``)."""
        with tempfile.TemporaryDirectory(prefix="sp-datakiosk-error-") as tmp:
            self.work_dir, saved = Path(tmp), self.work_dir
            try:
                path, _ = self._download(document_id, "error.json")
                with open_maybe_gzip(path) as stream:
                    text = stream.read(1 << 20).decode("utf-8", "replace")
            except SPAPIError as error:
                log.warning("data kiosk query %s: could not read its error document: %s", self.query_id, error)
                return None
            finally:
                self.work_dir = saved
        try:
            body = json.loads(text)
        except ValueError:
            return text.strip() or None
        if isinstance(body, dict) and "errorMessage" in body:
            return str(body["errorMessage"])
        return text.strip()


# ------------------------------------------------------------------------------------------ rows
def _at(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def rows(outcome: KioskOutcome, partition_day: date) -> list[dict[str, Any]]:
    """The table's rows of one finished query (``DATASETS[...].spec`` columns), typed by the spec later."""
    dataset = outcome.request.dataset
    out = []
    for record in outcome.records():
        row: dict[str, Any] = {PARTITION_COLUMN: partition_day, QUERY_ID_COLUMN: outcome.query_id}
        for item in dataset.fields:
            row[item.column] = _at(record, item.path)
        row.update(dataset.derived(record))
        out.append(row)
    return out
