"""FBA Inventory v1: ``GET /fba/inventory/v1/summaries`` (getInventorySummaries, 2/s, burst 2).

The answer is ``{"payload": {"granularity", "inventorySummaries"}, "pagination": {"nextToken"}}``:
``pagination`` sits at the top level beside ``payload``. A nextToken expires 30 s (scaled by the
sandbox speed) after it was issued, and when the first request used ``startDateTime`` every next page
must send it again, as Amazon requires.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from starlette.routing import Route

from sp_assets.sandbox.backends.inbound import InboundBackend
from sp_assets.sandbox.backends.inventory import (
    MAX_SELLER_SKUS,
    NEXT_TOKEN_SECONDS,
    PAGE_SIZE,
    InventoryBackend,
)
from sp_assets.sandbox.backends.paging import (
    InvalidPageToken,
    PageTokens,
    cut_page,
    from_moment,
    page_size,
    to_moment,
)
from sp_assets.sandbox.operations import ApiRequest, ApiResult, Operation, api_route, invalid
from sp_assets.sandbox.state import SandboxState

GET_INVENTORY_SUMMARIES = Operation("getInventorySummaries", 2.0, 2)
START_LIMIT_MONTHS = 18


def build(state: SandboxState) -> list[Route]:
    inbound = state.backends.setdefault("inbound", InboundBackend(state.seller))
    state.backends["inventory"] = InventoryBackend(state.seller, inbound)
    return [api_route("GET", "/fba/inventory/v1/summaries", GET_INVENTORY_SUMMARIES, get_inventory_summaries, state)]


def get_inventory_summaries(req: ApiRequest, state: SandboxState) -> ApiResult:
    backend: InventoryBackend = state.backends["inventory"]
    tokens = PageTokens(state.config.seed, "inventory")
    marketplace_id = _marketplace(req)
    start = req.datetime("startDateTime")
    now = state.seller.now()
    if start is not None and start < _months_before(now, START_LIMIT_MONTHS):
        raise invalid(f"startDateTime must be no earlier than {START_LIMIT_MONTHS} months before now "
                      f"(got {req.get('startDateTime')})")
    token = req.get("nextToken")
    if token is not None:
        query = _query_from_token(tokens, token, marketplace_id, start, state.config.scaled_expiry(NEXT_TOKEN_SECONDS))
    else:
        skus = req.list("sellerSkus", MAX_SELLER_SKUS)
        single = req.get("sellerSku")
        query = {"mp": marketplace_id, "details": req.boolean("details"),
                 "start": None if start is None else from_moment(start),
                 "skus": skus or ([single] if single else []), "as_of": from_moment(now), "o": 0}
    summaries = backend.select(query["mp"], to_moment(query["as_of"]),
                               None if query["start"] is None else to_moment(query["start"]), query["skus"])
    size = page_size(state.config.extra, "inventory", PAGE_SIZE)
    page = cut_page(summaries, query["o"], size, tokens, {k: v for k, v in query.items() if k != "o"})
    body = {
        "payload": {"granularity": {"granularityType": "Marketplace", "granularityId": marketplace_id},
                    "inventorySummaries": [s.to_json(query["details"]) for s in page.items]},
        "pagination": {"nextToken": page.next_token} if page.next_token else {},
    }
    return ApiResult(body)


def _marketplace(req: ApiRequest) -> str:
    """granularityType/granularityId/marketplaceIds are required on every call, next pages too."""
    granularity_type = req.required("granularityType")
    if granularity_type != "Marketplace":
        raise invalid(f"granularityType must be Marketplace, got {granularity_type!r}")
    granularity_id = req.required("granularityId")
    marketplace_ids = req.list("marketplaceIds", 1)
    if not marketplace_ids:
        raise invalid("marketplaceIds is required (exactly one marketplace id)")
    if marketplace_ids[0] != granularity_id:
        raise invalid(f"granularityId ({granularity_id}) must be the marketplace in marketplaceIds "
                      f"({marketplace_ids[0]})")
    req.check_marketplace(granularity_id)
    return granularity_id


def _query_from_token(tokens: PageTokens, token: str, marketplace_id: str, start: datetime | None,
                      max_age: float) -> dict:
    """The query a nextToken carries, after Amazon's checks: not expired, same marketplace, startDateTime
    resent (and unchanged) when the first request used it."""
    try:
        query = tokens.decode(token, "nextToken", max_age=max_age)
    except InvalidPageToken as error:
        raise invalid(str(error), "Invalid nextToken") from None
    if query["mp"] != marketplace_id:
        raise invalid(f"nextToken was issued for marketplace {query['mp']}, not {marketplace_id}")
    if query["start"] is not None:
        if start is None:
            raise invalid("startDateTime is required with nextToken: the request that issued this token used "
                          f"startDateTime={query['start']}; send it again with every next page")
        if start != to_moment(query["start"]):
            raise invalid(f"startDateTime differs from the request that issued nextToken ({query['start']})")
    return query


def _months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's last day)."""
    year, month0 = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)
