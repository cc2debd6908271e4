"""FBA Outbound 2020-07-01: listAllFulfillmentOrders ``GET /fba/outbound/2020-07-01/fulfillmentOrders``
(2/s, burst 30).

``queryStartDate`` selects orders last updated at or after it (default: the last 36 hours); there is
no marketplace parameter, so the orders of every marketplace of the token's region are listed.
Pages carry ``payload.nextToken`` and continue with the ``nextToken`` parameter.
"""

from __future__ import annotations

from starlette.routing import Route

from sp_assets.sandbox.backends.outbound import DEFAULT_LOOKBACK, OutboundBackend
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

LIST_ALL_FULFILLMENT_ORDERS = Operation("listAllFulfillmentOrders", 2.0, 30)
PAGE_SIZE = 50


def build(state: SandboxState) -> list[Route]:
    state.backends["outbound"] = OutboundBackend(state.seller)
    return [api_route("GET", "/fba/outbound/2020-07-01/fulfillmentOrders", LIST_ALL_FULFILLMENT_ORDERS,
                      list_all_fulfillment_orders, state)]


def list_all_fulfillment_orders(req: ApiRequest, state: SandboxState) -> ApiResult:
    tokens = PageTokens(state.config.seed, "outbound")
    token = req.get("nextToken")
    if token is not None:
        try:
            query = tokens.decode(token, "nextToken")
        except InvalidPageToken as error:
            raise invalid(str(error)) from None
        if query["region"] != req.region:
            raise invalid(f"nextToken was issued for region {query['region']}, not {req.region}")
    else:
        now = state.seller.now()
        start = req.datetime("queryStartDate") or now - DEFAULT_LOOKBACK
        if start > now:
            raise invalid(f"queryStartDate ({req.get('queryStartDate')}) is in the future")
        query = {"region": req.region, "start": from_moment(start), "as_of": from_moment(now), "o": 0}
    backend: OutboundBackend = state.backends["outbound"]
    orders = backend.region_fulfillment_orders(query["region"], to_moment(query["as_of"]), to_moment(query["start"]))
    size = page_size(state.config.extra, "outbound", PAGE_SIZE)
    page = cut_page(orders, query["o"], size, tokens, {k: v for k, v in query.items() if k != "o"})
    payload: dict = {"fulfillmentOrders": [o.to_json() for o in page.items]}
    if page.next_token:
        payload["nextToken"] = page.next_token
    return ApiResult({"payload": payload})
