"""Pagination, one generator per API family, each with that family's token names.

Amazon spells the continuation token differently in almost every API (wire contract section 1.11):

============================  ===============================  ==================================
family                        token in the answer              sent back as
============================  ===============================  ==================================
Orders v0, Inbound v0,        ``payload.NextToken``            ``NextToken`` + the original filters
Finances v0
Outbound 2020-07-01,          ``payload.nextToken``            ``nextToken`` + the original filters
Finances 2024-06-19
FBA Inventory v1              ``pagination.nextToken`` (top)   ``nextToken`` + the original filters
                                                               (``startDateTime`` must come again)
Catalog Items 2022-04-01      ``pagination.nextToken``         ``pageToken`` + the original filters
Reports getReports            ``nextToken``                    ``nextToken`` ALONE
Orders 2026-01-01             ``pagination.nextToken``         ``paginationToken`` + the filters
============================  ===============================  ==================================

Each page is one ``SPAPIClient.request``, which does its own quota wait and retries: a 429 on page
7 retries page 7 (python-amazon-sp-api's ``load_all_pages`` lets it escape and loses the iteration).
A token seen twice stops the loop with an error instead of paging forever (Amazon has returned
repeating tokens, selling-partner-api-docs#2090). So does a server handing out a new token every page:
the pages of one call are capped by ``quota.page_cap``, from Amazon's page size and a ceiling on the
results of the query's window (its own datetime filters), and the error names the operation, the
window and the cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import PaginationError
from .http import SPAPIClient, iso_z
from .quota import page_cap
from .redaction import get_logger

log = get_logger(__name__)

Body = Any


@dataclass(frozen=True)
class TokenStyle:
    """How one API family spells its continuation: where the token is, how the next query looks."""

    name: str
    read_token: Callable[[Body], str | None]
    next_params: Callable[[dict[str, Any], str], dict[str, Any]]


def _get(body: Body, *keys: str) -> Any:
    for key in keys:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _resend(param: str, **overrides: Any) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    def next_params(original: dict[str, Any], token: str) -> dict[str, Any]:
        return {**original, **overrides, param: token}

    return next_params


def _alone(param: str) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    def next_params(original: dict[str, Any], token: str) -> dict[str, Any]:
        return {param: token}

    return next_params


ORDERS_V0 = TokenStyle("orders v0", lambda b: _get(b, "payload", "NextToken"), _resend("NextToken"))
# Inbound v0 continues with QueryType=NEXT_TOKEN; the original filters are sent along (harmless).
INBOUND_V0 = TokenStyle("inbound v0", lambda b: _get(b, "payload", "NextToken"),
                        _resend("NextToken", QueryType="NEXT_TOKEN"))
OUTBOUND_2020 = TokenStyle("outbound 2020-07-01", lambda b: _get(b, "payload", "nextToken"), _resend("nextToken"))
FBA_INVENTORY = TokenStyle("fba inventory", lambda b: _get(b, "pagination", "nextToken"), _resend("nextToken"))
CATALOG_2022 = TokenStyle("catalog 2022-04-01", lambda b: _get(b, "pagination", "nextToken"), _resend("pageToken"))
REPORTS = TokenStyle("reports", lambda b: _get(b, "nextToken"), _alone("nextToken"))
FINANCES_V0 = TokenStyle("finances v0", lambda b: _get(b, "payload", "NextToken"), _resend("NextToken"))
FINANCES_2024 = TokenStyle("finances 2024-06-19", lambda b: _get(b, "payload", "nextToken"), _resend("nextToken"))
ORDERS_2026 = TokenStyle("orders 2026-01-01", lambda b: _get(b, "pagination", "nextToken"),
                         _resend("paginationToken"))


def iter_pages(
    client: SPAPIClient,
    operation: str,
    path: str,
    params: Mapping[str, Any] | None,
    style: TokenStyle,
    *,
    max_pages: int | None = None,
    records: Callable[[Body], list[Any] | None] | None = None,
) -> Iterator[Body]:
    """Yield each page's parsed body, following ``style``'s tokens until there is none.

    A long paging tells the client's ``progress`` callback how far it is (when ``PROGRESS_EVERY_S`` passed
    since the paging began or its last line, and every ``PROGRESS_EVERY_PAGES``), then the total
    (``records`` counts the rows so far); one page says nothing. Each line is an event in the run's
    log (a database write), so a quick paging (a day's three pages) gets its total alone, while at
    Amazon's rates, minutes per page once the burst is spent, every page is told.
    """
    original = dict(params or {})
    query = original
    seen: set[str] = set()
    pages = 0
    window = query_window(original)
    limit = client.page_limit(operation)
    cap = page_cap(limit, _days(window), _page_size(original)) if limit is not None else None
    cap_source = f"sp_assets.lib.spapi.quota.PAGING: {limit}"
    configured = getattr(client, "max_pages_per_call", None)  # a test double may be a bare object
    if configured is not None:  # the deployment's own cap replaces the table's
        cap, cap_source = configured, f"max_pages_per_call: {configured}"
    rows = 0
    told = time.monotonic()  # the paging's start, then the last progress line
    while True:
        body = client.request(operation, "GET", path, params=query)
        pages += 1
        rows += len(records(body) or []) if records is not None else 0
        yield body
        token = style.read_token(body)
        if not token or (max_pages is not None and pages >= max_pages):
            if pages > 1:
                _tell(client, f"{operation}: done, {pages} pages{_rows(records, rows)}")
            return
        now = time.monotonic()
        if pages % PROGRESS_EVERY_PAGES == 0 or now - told >= PROGRESS_EVERY_S:
            told = now
            _tell(client, f"{operation}: {pages} page{'s' if pages > 1 else ''}{_rows(records, rows)} so far, "
                          "paging on")
        if token in seen:
            raise PaginationError(f"{operation}: the server repeated a {style.name} continuation token after "
                                  f"{pages} pages; stopping instead of looping forever")
        if cap is not None and pages >= cap:
            raise PaginationError(
                f"{operation}: still a continuation token after {pages} pages, the cap for {_describe(window)} "
                f"({cap_source}); stopping instead of paging without end")
        seen.add(token)
        query = style.next_params(original, token)


PROGRESS_EVERY_PAGES = 10
PROGRESS_EVERY_S = 10.0


def _tell(client: Any, message: str) -> None:
    tell = getattr(client, "tell", None)  # a test double may be a bare object
    if tell is not None:
        tell(message)


def _rows(records: Callable[[Body], list[Any] | None] | None, rows: int) -> str:
    return f", {rows} records" if records is not None else ""


def query_window(params: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """The time window a query covers: from its earliest to its latest datetime filter (to now when
    it has only a start), or None when it has no datetime filter."""
    moments = [v.astimezone(UTC) for v in params.values() if isinstance(v, datetime) and v.tzinfo is not None]
    if not moments:
        return None
    first, last = min(moments), max(moments)
    return (first, last) if len(moments) > 1 else (first, max(first, datetime.now(UTC)))


def _days(window: tuple[datetime, datetime] | None) -> float | None:
    return None if window is None else (window[1] - window[0]).total_seconds() / 86_400


def _describe(window: tuple[datetime, datetime] | None) -> str:
    if window is None:
        return "a query without a time window"
    return f"the window {iso_z(window[0])} to {iso_z(window[1])} ({_days(window):.2f} days)"


def _page_size(params: Mapping[str, Any]) -> int | None:
    for name in ("MaxResultsPerPage", "maxResultsPerPage", "pageSize"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def iter_records(
    client: SPAPIClient,
    operation: str,
    path: str,
    params: Mapping[str, Any] | None,
    style: TokenStyle,
    records: Callable[[Body], list[Any] | None],
    *,
    max_pages: int | None = None,
) -> Iterator[Any]:
    """Yield the records of every page (``records(body)`` picks them out; ``None`` means none)."""
    for body in iter_pages(client, operation, path, params, style, max_pages=max_pages, records=records):
        yield from records(body) or []


def payload_list(key: str) -> Callable[[Body], list[Any] | None]:
    """Records at ``payload.<key>`` (v0 families)."""
    return lambda body: _get(body, "payload", key)


def top_list(key: str) -> Callable[[Body], list[Any] | None]:
    """Records at ``<key>`` (APIs without the payload wrapper)."""
    return lambda body: _get(body, key)
