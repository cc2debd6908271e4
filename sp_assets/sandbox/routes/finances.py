"""Finances v0: listFinancialEvents ``GET /finances/v0/financialEvents`` and listFinancialEventGroups
``GET /finances/v0/financialEventGroups`` (0.5/s, burst 30 each); Finances 2024-06-19: listTransactions
``GET /finances/2024-06-19/transactions`` (0.5/s, burst 10; the same events, ``marketplaceId`` optional).

Amazon's window rules: the window's end (``PostedBefore`` / ``FinancialEventGroupStartedBefore``,
default two minutes before now) must come after its start and more than two minutes before the
request, or the answer is 400; a window wider than 180 days, or older than two years, answers with
no events. ``MaxResultsPerPage`` is 1 to 100 (default 100 events, 10 groups). A ``NextToken`` carries the
window it was issued for.
"""

from __future__ import annotations

from datetime import datetime

from starlette.routing import Route

from sp_assets.sandbox.backends.finances import (
    EVENTS_PAGE_SIZE,
    GROUPS_PAGE_SIZE,
    HISTORY,
    MAX_PAGE_SIZE,
    MAX_WINDOW,
    REQUEST_LAG,
    TRANSACTION_STATUSES,
    FinancesBackend,
    render_events,
)
from sp_assets.sandbox.backends.paging import InvalidPageToken, PageTokens, cut_page, from_moment, to_moment
from sp_assets.sandbox.operations import ApiRequest, ApiResult, Operation, api_route, invalid
from sp_assets.sandbox.state import SandboxState

LIST_FINANCIAL_EVENTS = Operation("listFinancialEvents", 0.5, 30)
LIST_FINANCIAL_EVENT_GROUPS = Operation("listFinancialEventGroups", 0.5, 30)
LIST_TRANSACTIONS = Operation("listTransactions", 0.5, 10)
TRANSACTIONS_PAGE_SIZE = 100
TOKEN_MAX_AGE = 3600.0


def build(state: SandboxState) -> list[Route]:
    state.backends["finances"] = FinancesBackend(state.seller)
    state.backends["finances.tokens"] = PageTokens(state.config.seed, "finances")
    return [
        api_route("GET", "/finances/v0/financialEvents", LIST_FINANCIAL_EVENTS, list_financial_events, state),
        api_route("GET", "/finances/v0/financialEventGroups", LIST_FINANCIAL_EVENT_GROUPS,
                  list_financial_event_groups, state),
        api_route("GET", "/finances/2024-06-19/transactions", LIST_TRANSACTIONS, list_transactions, state),
    ]


def _window(req: ApiRequest, state: SandboxState, after_name: str, before_name: str,
            token_name: str = "NextToken") -> tuple[datetime, datetime, int]:
    """(start, end, offset) from the page token, or from the query checked against Amazon's rules."""
    tokens: PageTokens = state.backends["finances.tokens"]
    token = req.get(token_name)
    if token is not None:
        try:
            data = tokens.decode(token, token_name, TOKEN_MAX_AGE)
        except InvalidPageToken as error:
            raise invalid(str(error)) from None
        if data.get("op") != after_name:
            raise invalid(f"{token_name} was issued by another operation, not the one that takes {after_name}")
        return to_moment(data["a"]), to_moment(data["b"]), int(data["o"])
    now = state.seller.now()
    latest = now - REQUEST_LAG
    start = req.datetime(after_name)
    if start is None:
        raise invalid(f"{after_name} is required (an ISO 8601 date-time more than two minutes before now)")
    end = req.datetime(before_name) or latest
    if start > latest:
        raise invalid(f"{after_name} must be more than two minutes before the time of the request; "
                      f"got {req.get(after_name)}", "Date range is invalid.")
    if end > latest:
        raise invalid(f"{before_name} must be more than two minutes before the time of the request; "
                      f"got {req.get(before_name)}", "Date range is invalid.")
    if end < start:
        raise invalid(f"{before_name} must be later than {after_name}; got {req.get(before_name)} before "
                      f"{req.get(after_name)}", "Date range is invalid.")
    return start, end, 0


def list_financial_events(req: ApiRequest, state: SandboxState) -> ApiResult:
    size = req.integer("MaxResultsPerPage", EVENTS_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    start, end, offset = _window(req, state, "PostedAfter", "PostedBefore")
    backend: FinancesBackend = state.backends["finances"]
    empty = end - start > MAX_WINDOW or end < state.seller.now() - HISTORY
    events = [] if empty else backend.region_events(req.region, start, end)
    page = cut_page(events, offset, size, state.backends["finances.tokens"],
                    {"op": "PostedAfter", "a": from_moment(start), "b": from_moment(end)})
    payload: dict = {"FinancialEvents": render_events(page.items)}
    if page.next_token:
        payload["NextToken"] = page.next_token
    return ApiResult({"payload": payload})


def list_financial_event_groups(req: ApiRequest, state: SandboxState) -> ApiResult:
    size = req.integer("MaxResultsPerPage", GROUPS_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    start, end, offset = _window(req, state, "FinancialEventGroupStartedAfter", "FinancialEventGroupStartedBefore")
    backend: FinancesBackend = state.backends["finances"]
    groups = [] if end - start > MAX_WINDOW else backend.groups(req.region, start, end, state.seller.now())
    page = cut_page(groups, offset, size, state.backends["finances.tokens"],
                    {"op": "FinancialEventGroupStartedAfter", "a": from_moment(start), "b": from_moment(end)})
    payload: dict = {"FinancialEventGroupList": page.items}
    if page.next_token:
        payload["NextToken"] = page.next_token
    return ApiResult({"payload": payload})


def list_transactions(req: ApiRequest, state: SandboxState) -> ApiResult:
    """Finances 2024-06-19: the same events as transactions, optionally of one marketplace."""
    if req.has("relatedIdentifierName") or req.has("relatedIdentifierValue"):
        raise invalid("relatedIdentifierName/relatedIdentifierValue are not served by this sandbox; "
                      "ask by postedAfter/postedBefore")
    marketplace_id = req.get("marketplaceId")
    if marketplace_id is not None:
        req.check_marketplace(marketplace_id)
    status = req.get("transactionStatus")
    if status is not None and status not in TRANSACTION_STATUSES:
        raise invalid(f"transactionStatus must be one of {', '.join(TRANSACTION_STATUSES)}, got {status!r}")
    start, end, offset = _window(req, state, "postedAfter", "postedBefore", "nextToken")
    backend: FinancesBackend = state.backends["finances"]
    empty = end - start > MAX_WINDOW or end < state.seller.now() - HISTORY
    found = [] if empty else backend.transactions(req.region, start, end, marketplace_id)
    found = [t for t in found if status is None or t["transactionStatus"] == status]
    page = cut_page(found, offset, TRANSACTIONS_PAGE_SIZE, state.backends["finances.tokens"],
                    {"op": "postedAfter", "a": from_moment(start), "b": from_moment(end)})
    payload: dict = {"transactions": page.items}
    if page.next_token:
        payload["nextToken"] = page.next_token
    return ApiResult({"payload": payload})
