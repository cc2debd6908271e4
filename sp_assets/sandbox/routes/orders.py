"""Orders API v0 routes: getOrders, getOrder, getOrderItems (wire contract §2.1, model ordersV0.json).

Parsing and Amazon's validation rules live here; which orders exist and how they render live in
``backends/orders.py``. Error texts follow Amazon's where they are known (the 2-minute rule quotes
Amazon's newer message), with ``details`` naming the field and what is allowed, which Amazon often
leaves empty.
"""

from __future__ import annotations

from datetime import datetime

from starlette.routing import Route

from sp_assets.lib.marketplaces import by_id
from sp_assets.sandbox.backends.orders import (
    DATA_DELAY,
    FULFILLMENT_CHANNEL_VALUES,
    ORDER_ID_RE,
    ORDER_STATUS_VALUES,
    PAYMENT_METHOD_VALUES,
    InvalidNextToken,
    OrdersBackend,
    OrdersQuery,
    render_order,
)
from sp_assets.sandbox.operations import ApiError, ApiRequest, ApiResult, Operation, api_route, invalid, iso
from sp_assets.sandbox.state import SandboxState

# Amazon's documented default usage plans (wire contract §1.10).
GET_ORDERS = Operation("getOrders", 0.0167, 20)
GET_ORDER = Operation("getOrder", 0.5, 30)
GET_ORDER_ITEMS = Operation("getOrderItems", 0.5, 30)

ORDERS_INVALID_INPUT = "The input you have submitted is not valid. Please check your input and try again."
# Amazon's newer text for a Before/After closer to now than 2 minutes (airbytehq/airbyte#52592).
TWO_MINUTE_MESSAGE = (
    "The input you have submitted is not valid. Note that the error may be due to a systematic delay in "
    "data retrieval. The most updated data is 2 minutes after an order is created or last updated. If you "
    "set the CreatedBefore or LastUpdatedBefore parameters, please provide a date that is at least 2 "
    "minutes before current time and try again."
)


def build(state: SandboxState) -> list[Route]:
    state.backends["orders"] = OrdersBackend(state.seller)
    return [
        api_route("GET", "/orders/v0/orders", GET_ORDERS, get_orders, state),
        api_route("GET", "/orders/v0/orders/{orderId}", GET_ORDER, get_order, state),
        api_route("GET", "/orders/v0/orders/{orderId}/orderItems", GET_ORDER_ITEMS, get_order_items, state),
    ]


def _backend(state: SandboxState) -> OrdersBackend:
    return state.backends["orders"]


def _orders_invalid(details: str) -> ApiError:
    return invalid(details, ORDERS_INVALID_INPUT)


# ------------------------------------------------------------------------------------- getOrders
def get_orders(req: ApiRequest, state: SandboxState) -> ApiResult:
    """A page of orders; with NextToken the token alone decides the page (resent filters are ignored)."""
    backend = _backend(state)
    for marketplace_id in _marketplace_ids(req):
        req.check_marketplace(marketplace_id)
    token = req.get("NextToken")
    if token is not None:
        try:
            query, page = backend.orders_page_from_token(token)
        except InvalidNextToken as error:
            raise _orders_invalid(f"Invalid NextToken: {error}") from None
        for marketplace_id in query.marketplace_ids:  # the token may come from another caller
            req.check_marketplace(marketplace_id)
    else:
        as_of = backend.now()
        query = parse_orders_query(req, as_of)
        page = backend.orders_page(query, as_of)
    payload: dict = {"Orders": [render_order(order) for order in page.orders]}
    if page.next_token:
        payload["NextToken"] = page.next_token
    payload[f"{query.date_field}Before"] = iso(query.before)
    return ApiResult({"payload": payload})


def _marketplace_ids(req: ApiRequest) -> list[str]:
    ids = req.list("MarketplaceIds", max_items=50)
    if not ids:
        raise _orders_invalid("MarketplaceIds is required: one or more marketplace ids, comma-separated")
    return ids


def parse_orders_query(req: ApiRequest, now: datetime) -> OrdersQuery:
    """Amazon's getOrders rules: one date family, After required, Before >= After, both <= now - 2 min."""
    created_after, created_before = req.datetime("CreatedAfter"), req.datetime("CreatedBefore")
    updated_after, updated_before = req.datetime("LastUpdatedAfter"), req.datetime("LastUpdatedBefore")
    uses_created = created_after is not None or created_before is not None
    uses_updated = updated_after is not None or updated_before is not None
    if uses_created and uses_updated:
        raise _orders_invalid("CreatedAfter/CreatedBefore cannot be combined with "
                              "LastUpdatedAfter/LastUpdatedBefore: use one date family")
    if created_after is None and updated_after is None:
        raise _orders_invalid("Either CreatedAfter or LastUpdatedAfter is required; both cannot be empty")
    field = "Created" if uses_created else "LastUpdated"
    after = created_after if uses_created else updated_after
    before = created_before if uses_created else updated_before
    assert after is not None
    latest = now - DATA_DELAY
    if before is not None and before > latest:
        raise invalid(f"{field}Before {iso(before)} must be at least 2 minutes before the current time "
                      f"(at most {iso(latest)})", TWO_MINUTE_MESSAGE)
    if after > latest:
        raise invalid(f"{field}After {iso(after)} must be at least 2 minutes before the current time "
                      f"(at most {iso(latest)})", TWO_MINUTE_MESSAGE)
    if before is not None and before < after:
        raise _orders_invalid(f"{field}Before must be equal to or after {field}After")
    order_ids = req.list("AmazonOrderIds", max_items=50)
    malformed = [order_id for order_id in order_ids if not ORDER_ID_RE.match(order_id)]
    if malformed:
        raise _orders_invalid(f"AmazonOrderIds has malformed id(s) {malformed}; expected 3-7-7 digits, "
                              "e.g. 902-3159896-1390916")
    return OrdersQuery(
        marketplace_ids=tuple(_marketplace_ids(req)),
        date_field=field,
        after=after,
        before=before if before is not None else latest,
        statuses=tuple(req.list("OrderStatuses", allowed=ORDER_STATUS_VALUES)),
        fulfillment_channels=tuple(req.list("FulfillmentChannels", allowed=FULFILLMENT_CHANNEL_VALUES)),
        payment_methods=tuple(req.list("PaymentMethods", allowed=PAYMENT_METHOD_VALUES)),
        amazon_order_ids=tuple(order_ids),
        buyer_email=req.get("BuyerEmail"),
        page_size=req.integer("MaxResultsPerPage", 100, 1, 100),
    )


# -------------------------------------------------------------------------- getOrder, getOrderItems
def get_order(req: ApiRequest, state: SandboxState) -> ApiResult:
    order_id = _order_id(req)
    order = _backend(state).order(order_id)
    if order is None or not _same_region(req, order.marketplace_id):
        raise _not_found(order_id)
    return ApiResult({"payload": render_order(order)})


def get_order_items(req: ApiRequest, state: SandboxState) -> ApiResult:
    """Items in pages of 3; the first page freezes the moment later pages are evaluated at."""
    order_id = _order_id(req)
    try:
        page = _backend(state).items_page(order_id, req.get("NextToken"))
    except InvalidNextToken as error:
        raise _orders_invalid(f"Invalid NextToken: {error}") from None
    if page is None or not _same_region(req, page.order.marketplace_id):
        raise _not_found(order_id)
    payload: dict = {"AmazonOrderId": order_id, "OrderItems": page.items}
    if page.next_token:
        payload["NextToken"] = page.next_token
    return ApiResult({"payload": payload})


def _order_id(req: ApiRequest) -> str:
    order_id = req.path_params["orderId"]
    if not ORDER_ID_RE.match(order_id):
        raise _orders_invalid(f"orderId {order_id!r} is malformed; expected an Amazon order id in 3-7-7 "
                              "format, e.g. 902-3159896-1390916")
    return order_id


def _same_region(req: ApiRequest, marketplace_id: str) -> bool:
    """Amazon's regional endpoints only know their own region's orders: another region's is not found."""
    return req.token is None or by_id(marketplace_id).region == req.region


def _not_found(order_id: str) -> ApiError:
    return ApiError(404, "NotFound", "The resource specified does not exist.",
                    f"No order {order_id} for this seller in this region")
