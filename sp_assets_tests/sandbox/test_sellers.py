"""Sellers v1 in the sandbox: getMarketplaceParticipations against Amazon's model (sellers.json), one
answer per region of the token, and Amazon's 0.016/s burst 15 usage plan.
"""

from __future__ import annotations

import requests

from sp_assets.lib.marketplaces import in_region
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response

MODEL = "sellers.json"
OP = "getMarketplaceParticipations"
PATH = "/sellers/v1/marketplaceParticipations"


def get(sb: SandboxServer, token: SandboxCaller | None) -> requests.Response:
    if token is None:
        return requests.get(sb.base_url + PATH, timeout=10)
    return token.get(PATH, timeout=10)


def test_each_region_lists_its_own_marketplaces(sandbox: SandboxServer) -> None:
    for region in ("NA", "EU", "FE"):
        answer = get(sandbox, caller(sandbox, f"Atzr|sandbox-{region.lower()}-sellers-tests"))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        validate_response(MODEL, OP, 200, body, strict=True)
        assert [p["marketplace"]["id"] for p in body["payload"]] == [m.marketplace_id for m in in_region(region)]
        assert body["payload"] == [p.to_json() for p in sandbox.backend("sellers").participations(region)]
        for participation, marketplace in zip(body["payload"], in_region(region), strict=True):
            assert participation["marketplace"]["countryCode"] == marketplace.country_code
            assert participation["marketplace"]["defaultCurrencyCode"] == marketplace.currency
            assert participation["marketplace"]["domainName"] == "www." + marketplace.domain
            assert participation["participation"]["isParticipating"] is True
    uk = next(p for p in get(sandbox, caller(sandbox, "Atzr|sandbox-eu-sellers-tests")).json()["payload"]
              if p["marketplace"]["id"] == "A1F83G8C2ARO7P")
    assert uk["marketplace"]["countryCode"] == "GB" and uk["marketplace"]["defaultLanguageCode"] == "en_GB"


def test_without_an_access_token_it_is_403(sandbox: SandboxServer) -> None:
    answer = get(sandbox, None)
    assert answer.status_code == 403
    validate_response(MODEL, OP, 403, answer.json(), strict=True)


def test_burst_15_then_throttled_at_amazons_rate(sandbox_factory) -> None:
    sb = sandbox_factory(speed=1.0)
    token = caller(sb, "Atzr|sandbox-na-sellers-burst")
    statuses = [get(sb, token).status_code for _ in range(16)]
    assert statuses == [200] * 15 + [429]
    throttled = get(sb, token)
    assert throttled.status_code == 429 and "x-amzn-RateLimit-Limit" not in throttled.headers
    validate_response(MODEL, OP, 429, throttled.json(), strict=True)
