"""Orders API v2026-01-01 routes: searchOrders and getOrder (wire contract §2.2, orders_2026-01-01.json).

Parsing and Amazon's validation rules live here; which orders exist and how they render live in
``backends/orders_2026.py`` (which reuses v0's selection, so both versions serve the same orders).
Answers have no ``payload`` wrapper; errors are the model's ``ErrorList``. The operation names are
``searchOrders`` and ``getOrder2026`` so that their buckets and counters never mix with v0's getOrder.

Pagination follows the model: the ``paginationToken`` must come with the same parameters as the
request that issued it (only ``maxResultsPerPage`` and ``includedData`` may change), and it expires
24 hours (scaled by the sandbox speed) after it was issued.
"""

from __future__ import annotations

from datetime import datetime

from starlette.routing import Route

from sp_assets.lib.marketplaces import by_id, in_region
from sp_assets.sandbox.backends.orders import DATA_DELAY, ORDER_ID_RE
from sp_assets.sandbox.backends.orders_2026 import (
    DEFAULT_PAGE_SIZE,
    FULFILLED_BY_VALUES,
    FULFILLMENT_STATUS_VALUES,
    INCLUDED_DATA_VALUES,
    TOKEN_LIFETIME_SECONDS,
    Orders2026Backend,
    SearchFilters,
    SearchPage,
)
from sp_assets.sandbox.backends.paging import InvalidPageToken
from sp_assets.sandbox.operations import ApiError, ApiRequest, ApiResult, Operation, api_route, invalid, iso
from sp_assets.sandbox.routes.orders import ORDERS_INVALID_INPUT, TWO_MINUTE_MESSAGE
from sp_assets.sandbox.state import SandboxState

# Amazon's documented default usage plans (wire contract §1.10).
SEARCH_ORDERS = Operation("searchOrders", 0.0056, 20)
GET_ORDER_2026 = Operation("getOrder2026", 0.5, 30)
MAX_MARKETPLACE_IDS = 50


def build(state: SandboxState) -> list[Route]:
    state.backends["orders_2026"] = Orders2026Backend(
        state.seller, token_lifetime=state.config.scaled_expiry(TOKEN_LIFETIME_SECONDS))
    return [
        api_route("GET", "/orders/2026-01-01/orders", SEARCH_ORDERS, search_orders, state),
        api_route("GET", "/orders/2026-01-01/orders/{orderId}", GET_ORDER_2026, get_order, state),
    ]


def _backend(state: SandboxState) -> Orders2026Backend:
    return state.backends["orders_2026"]


def _invalid(details: str) -> ApiError:
    return invalid(details, ORDERS_INVALID_INPUT)


# ---------------------------------------------------------------------------------- searchOrders
def search_orders(req: ApiRequest, state: SandboxState) -> ApiResult:
    """A page of orders; a paginationToken must come with the filters of the request that issued it."""
    backend = _backend(state)
    filters = read_filters(req)
    for marketplace_id in filters.marketplace_ids:
        req.check_marketplace(marketplace_id)
    included = included_data(req)
    page_size = req.integer("maxResultsPerPage", DEFAULT_PAGE_SIZE, 1, 100)
    token = req.get("paginationToken")
    if token is not None:
        page = _continue(req, state, backend, token, filters, page_size)
    else:
        as_of = backend.now()
        check_search_rules(filters, as_of)
        marketplace_ids = filters.marketplace_ids or tuple(m.marketplace_id for m in in_region(req.region))
        page = backend.first_page(filters, marketplace_ids, as_of, page_size)
    body: dict = {"orders": [backend.render(order, included, page.as_of) for order in page.orders]}
    if page.next_token:
        body["pagination"] = {"nextToken": page.next_token}
    body["createdBefore" if page.query.date_field == "Created" else "lastUpdatedBefore"] = iso(page.query.before)
    return ApiResult(body)


def _continue(req: ApiRequest, state: SandboxState, backend: Orders2026Backend, token: str,
              filters: SearchFilters, page_size: int) -> SearchPage:
    try:
        page = backend.next_page(token, page_size)
    except InvalidPageToken as error:
        detail = str(error)
        if "expired" in detail:
            detail += (f" (Amazon: {TOKEN_LIFETIME_SECONDS / 3600:g} hours; this sandbox runs at speed "
                       f"{state.config.speed:g})")
        raise _invalid(detail) from None
    differences = page.filters.differences(filters)
    if differences:
        raise _invalid("paginationToken must be sent with the same parameters as the request that issued it "
                       "(only maxResultsPerPage and includedData may change); different: "
                       + "; ".join(differences))
    for marketplace_id in page.marketplace_ids:  # the token may come from another region's caller
        req.check_marketplace(marketplace_id)
    return page


def read_filters(req: ApiRequest) -> SearchFilters:
    """The filter parameters as sent: parsed and checked against the model's enums and limits."""
    return SearchFilters.of(
        created_after=req.datetime("createdAfter"),
        created_before=req.datetime("createdBefore"),
        last_updated_after=req.datetime("lastUpdatedAfter"),
        last_updated_before=req.datetime("lastUpdatedBefore"),
        fulfillment_statuses=req.list("fulfillmentStatuses", allowed=FULFILLMENT_STATUS_VALUES),
        marketplace_ids=req.list("marketplaceIds", max_items=MAX_MARKETPLACE_IDS),
        fulfilled_by=req.list("fulfilledBy", allowed=FULFILLED_BY_VALUES),
    )


def included_data(req: ApiRequest) -> frozenset[str]:
    return frozenset(req.list("includedData", allowed=INCLUDED_DATA_VALUES))


def check_search_rules(filters: SearchFilters, now: datetime) -> None:
    """The model's date rules: exactly one After, one family, Before >= After, both <= now - 2 minutes."""
    created = filters.created_after is not None or filters.created_before is not None
    updated = filters.last_updated_after is not None or filters.last_updated_before is not None
    if created and updated:
        raise _invalid("createdAfter/createdBefore cannot be combined with lastUpdatedAfter/lastUpdatedBefore: "
                       "use one date family")
    if filters.created_after is None and filters.last_updated_after is None:
        raise _invalid("Exactly one of createdAfter or lastUpdatedAfter is required")
    family = "created" if created else "lastUpdated"
    after = filters.created_after if created else filters.last_updated_after
    before = filters.created_before if created else filters.last_updated_before
    assert after is not None
    latest = now - DATA_DELAY
    if before is not None and before > latest:
        raise invalid(f"{family}Before {iso(before)} must be at least 2 minutes before the current time "
                      f"(at most {iso(latest)})", TWO_MINUTE_MESSAGE)
    if after > latest:
        raise invalid(f"{family}After {iso(after)} must be at least 2 minutes before the current time "
                      f"(at most {iso(latest)})", TWO_MINUTE_MESSAGE)
    if before is not None and before < after:
        raise _invalid(f"{family}Before must be equal to or after {family}After")


# -------------------------------------------------------------------------------------- getOrder
def get_order(req: ApiRequest, state: SandboxState) -> ApiResult:
    """One order with its items; another region's order is not found, as on the regional endpoints."""
    order_id = req.path_params["orderId"]
    if not ORDER_ID_RE.match(order_id):
        raise _invalid(f"orderId {order_id!r} is malformed; expected an Amazon order id in 3-7-7 format, "
                       "e.g. 902-3159896-1390916")
    included = included_data(req)
    backend = _backend(state)
    as_of = backend.now()
    order = backend.order(order_id, as_of)
    if order is None or (req.token is not None and by_id(order.marketplace_id).region != req.region):
        raise ApiError(404, "NotFound", "The resource specified does not exist.",
                       f"No order {order_id} for this seller in this region")
    return ApiResult({"order": backend.render(order, included, as_of)})
