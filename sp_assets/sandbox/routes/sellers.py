"""Sellers v1: getMarketplaceParticipations ``GET /sellers/v1/marketplaceParticipations`` (0.016/s, burst 15).

No parameters and no pagination: the answer lists the marketplaces of the token's region.
"""

from __future__ import annotations

from starlette.routing import Route

from sp_assets.sandbox.backends.sellers import SellersBackend
from sp_assets.sandbox.operations import ApiRequest, ApiResult, Operation, api_route
from sp_assets.sandbox.state import SandboxState

GET_MARKETPLACE_PARTICIPATIONS = Operation("getMarketplaceParticipations", 0.016, 15)


def build(state: SandboxState) -> list[Route]:
    state.backends["sellers"] = SellersBackend(state.seller)
    return [api_route("GET", "/sellers/v1/marketplaceParticipations", GET_MARKETPLACE_PARTICIPATIONS,
                      get_marketplace_participations, state)]


def get_marketplace_participations(req: ApiRequest, state: SandboxState) -> ApiResult:
    backend: SellersBackend = state.backends["sellers"]
    return ApiResult({"payload": [p.to_json() for p in backend.participations(req.region)]})
