"""FBA Inbound v0 (2/s, burst 30 each): getShipments ``GET /fba/inbound/v0/shipments``, getShipmentItems
``GET /fba/inbound/v0/shipmentItems`` and getShipmentItemsByShipmentId
``GET /fba/inbound/v0/shipments/{shipmentId}/items``.

``QueryType`` says how a query selects: SHIPMENT (ShipmentStatusList and/or ShipmentIdList, ANDed),
DATE_RANGE (LastUpdatedAfter/LastUpdatedBefore, both ends included, optionally a status list) or
NEXT_TOKEN (continue with ``NextToken``). Pages carry ``payload.NextToken``.
"""

from __future__ import annotations

from datetime import datetime

from starlette.routing import Route

from sp_assets.lib.marketplaces import by_id
from sp_assets.sandbox.backends.inbound import (
    ITEM_QUERY_TYPES,
    MAX_SHIPMENT_IDS,
    QUERY_TYPES,
    REQUEST_STATUSES,
    InboundBackend,
    Shipment,
)
from sp_assets.sandbox.backends.paging import (
    InvalidPageToken,
    PageTokens,
    cut_page,
    from_moment,
    page_size,
    to_moment,
)
from sp_assets.sandbox.operations import ApiError, ApiRequest, ApiResult, Operation, api_route, invalid
from sp_assets.sandbox.state import SandboxState

GET_SHIPMENTS = Operation("getShipments", 2.0, 30)
GET_SHIPMENT_ITEMS = Operation("getShipmentItems", 2.0, 30)
GET_SHIPMENT_ITEMS_BY_SHIPMENT_ID = Operation("getShipmentItemsByShipmentId", 2.0, 30)
SHIPMENTS_PAGE_SIZE = 50
ITEMS_PAGE_SIZE = 50


def build(state: SandboxState) -> list[Route]:
    state.backends.setdefault("inbound", InboundBackend(state.seller))
    return [
        api_route("GET", "/fba/inbound/v0/shipments", GET_SHIPMENTS, get_shipments, state),
        api_route("GET", "/fba/inbound/v0/shipmentItems", GET_SHIPMENT_ITEMS, get_shipment_items, state),
        api_route("GET", "/fba/inbound/v0/shipments/{shipmentId}/items", GET_SHIPMENT_ITEMS_BY_SHIPMENT_ID,
                  get_shipment_items_by_shipment_id, state),
    ]


def get_shipments(req: ApiRequest, state: SandboxState) -> ApiResult:
    marketplace_id = _marketplace(req)
    tokens = PageTokens(state.config.seed, "inbound-shipments")
    query = _continued(req, tokens, marketplace_id, QUERY_TYPES) or _shipments_query(req, state, marketplace_id)
    backend: InboundBackend = state.backends["inbound"]
    as_of = to_moment(query["as_of"])
    if query["qt"] == "SHIPMENT":
        shipments = _by_ids(backend, marketplace_id, query["ids"], as_of) if query["ids"] \
            else backend.shipments(marketplace_id, as_of)
    else:
        shipments = backend.shipments_updated_between(marketplace_id, to_moment(query["after"]),
                                                      to_moment(query["before"]), as_of)
    if query["statuses"]:
        shipments = [s for s in shipments if s.status in query["statuses"]]
    size = page_size(state.config.extra, "inbound_shipments", SHIPMENTS_PAGE_SIZE)
    page = cut_page(shipments, query["o"], size, tokens, {k: v for k, v in query.items() if k != "o"})
    payload: dict = {"ShipmentData": [s.to_json() for s in page.items]}
    if page.next_token:
        payload["NextToken"] = page.next_token
    return ApiResult({"payload": payload})


def get_shipment_items(req: ApiRequest, state: SandboxState) -> ApiResult:
    marketplace_id = _marketplace(req)
    tokens = PageTokens(state.config.seed, "inbound-items")
    query = _continued(req, tokens, marketplace_id, ITEM_QUERY_TYPES)
    if query is None:
        query = {"qt": "DATE_RANGE", "mp": marketplace_id, **_date_range(req, state), "statuses": [],
                 "as_of": from_moment(state.seller.now()), "o": 0}
    backend: InboundBackend = state.backends["inbound"]
    shipments = backend.shipments_updated_between(marketplace_id, to_moment(query["after"]),
                                                  to_moment(query["before"]), to_moment(query["as_of"]))
    items = [item for s in shipments for item in s.items_json()]
    size = page_size(state.config.extra, "inbound_items", ITEMS_PAGE_SIZE)
    page = cut_page(items, query["o"], size, tokens, {k: v for k, v in query.items() if k != "o"})
    payload: dict = {"ItemData": page.items}
    if page.next_token:
        payload["NextToken"] = page.next_token
    return ApiResult({"payload": payload})


def get_shipment_items_by_shipment_id(req: ApiRequest, state: SandboxState) -> ApiResult:
    shipment_id = req.path_params["shipmentId"]
    marketplace_id = req.get("MarketplaceId")  # deprecated, but checked when sent
    if marketplace_id is not None:
        req.check_marketplace(marketplace_id)
    backend: InboundBackend = state.backends["inbound"]
    shipment = backend.shipment(shipment_id, state.seller.now())
    if shipment is None or by_id(shipment.plan.marketplace_id).region != req.region or (
            marketplace_id is not None and shipment.plan.marketplace_id != marketplace_id):
        raise ApiError(404, "NotFound", f"Shipment {shipment_id} was not found for this seller")
    return ApiResult({"payload": {"ItemData": shipment.items_json()}})


# ------------------------------------------------------------------------------------ parsing
def _marketplace(req: ApiRequest) -> str:
    marketplace_id = req.required("MarketplaceId")
    req.check_marketplace(marketplace_id)
    return marketplace_id


def _continued(req: ApiRequest, tokens: PageTokens, marketplace_id: str, query_types: tuple[str, ...]) -> dict | None:
    """The stored query when QueryType=NEXT_TOKEN, None for a first page; 400s name what is wrong."""
    query_type = req.get("QueryType")
    if query_type is None:
        raise invalid(f"QueryType is required: one of {', '.join(query_types)}")
    if query_type not in query_types:
        raise invalid(f"QueryType must be one of {', '.join(query_types)}, got {query_type!r}")
    token = req.get("NextToken")
    if query_type != "NEXT_TOKEN":
        if token is not None:
            raise invalid("NextToken is only accepted with QueryType=NEXT_TOKEN")
        return None
    if token is None:
        raise invalid("NextToken is required with QueryType=NEXT_TOKEN")
    try:
        query = tokens.decode(token, "NextToken")
    except InvalidPageToken as error:
        raise invalid(str(error)) from None
    if query["mp"] != marketplace_id:
        raise invalid(f"NextToken was issued for marketplace {query['mp']}, not {marketplace_id}")
    return query


def _shipments_query(req: ApiRequest, state: SandboxState, marketplace_id: str) -> dict:
    query_type = req.required("QueryType")
    statuses = req.list("ShipmentStatusList", allowed=REQUEST_STATUSES)
    query = {"qt": query_type, "mp": marketplace_id, "statuses": statuses, "ids": [],
             "as_of": from_moment(state.seller.now()), "o": 0}
    if query_type == "SHIPMENT":
        ids = req.list("ShipmentIdList", MAX_SHIPMENT_IDS)
        if not statuses and not ids:
            raise invalid("QueryType=SHIPMENT needs ShipmentStatusList or ShipmentIdList (or both)")
        query["ids"] = ids
    else:
        query.update(_date_range(req, state))
    return query


def _date_range(req: ApiRequest, state: SandboxState) -> dict:
    after = req.datetime("LastUpdatedAfter")
    before = req.datetime("LastUpdatedBefore") or state.seller.now()
    if after is None:
        raise invalid("QueryType=DATE_RANGE needs LastUpdatedAfter (and optionally LastUpdatedBefore)")
    if before < after:
        raise invalid(f"LastUpdatedBefore ({req.get('LastUpdatedBefore')}) is earlier than "
                      f"LastUpdatedAfter ({req.get('LastUpdatedAfter')})")
    return {"after": from_moment(after), "before": from_moment(before)}


def _by_ids(backend: InboundBackend, marketplace_id: str, ids: list[str], as_of: datetime) -> list[Shipment]:
    """The listed shipments that exist in the marketplace at ``as_of``, in the order asked for."""
    out, seen = [], set()
    for shipment_id in ids:
        shipment = backend.shipment(shipment_id, as_of)
        if shipment is not None and shipment.plan.marketplace_id == marketplace_id and shipment_id not in seen:
            seen.add(shipment_id)
            out.append(shipment)
    return out
