"""The shared test helpers keep their promise: a caller's token is renewed exactly when the sandbox says
it expired, so no sandbox test depends on how fast the machine runs through a token's lifetime."""

from __future__ import annotations

import pytest

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import MAX_GRANTS_PER_CALL, SandboxCaller

SELLERS = "/sellers/v1/marketplaceParticipations"


def test_a_token_the_sandbox_calls_expired_is_granted_anew_and_the_call_sent_again(sandbox_factory) -> None:
    sb: SandboxServer = sandbox_factory()
    caller = SandboxCaller(sb, "Atzr|sandbox-na-support-renew")
    first = caller.token
    sb.state.lwa.expire_now(sb.state.lwa.lookup(first))  # by the sandbox's clock, this token is over
    answer = caller.get(SELLERS)
    assert answer.status_code == 200, answer.text
    assert caller.grants == 2 and caller.token != first
    assert sb.stats.get("getMarketplaceParticipations.403") == 1
    assert sb.stats.get("getMarketplaceParticipations.served") == 1


def test_a_live_token_is_reused(sandbox_factory) -> None:
    sb: SandboxServer = sandbox_factory(speed=1.0)  # a one-hour token: nothing can expire it here
    caller = SandboxCaller(sb, "Atzr|sandbox-na-support-reuse")
    assert [caller.get(SELLERS).status_code for _ in range(3)] == [200] * 3
    assert caller.grants == 1


def test_a_caller_gives_up_when_even_fresh_tokens_are_refused_as_expired(sandbox_factory) -> None:
    sb: SandboxServer = sandbox_factory(faults="expire=1.0")
    caller = SandboxCaller(sb, "Atzr|sandbox-na-support-give-up")
    with pytest.raises(AssertionError, match=f"expired {MAX_GRANTS_PER_CALL} times in a row"):
        caller.get(SELLERS)
    assert caller.grants == MAX_GRANTS_PER_CALL


def test_other_403s_are_returned_as_they_are(sandbox: SandboxServer) -> None:
    caller = SandboxCaller(sandbox, "Atzr|sandbox-eu-support-region")
    answer = caller.get("/orders/v0/orders", params={"MarketplaceIds": by_code("us").marketplace_id,
                                                     "CreatedAfter": "2024-01-01T00:00:00Z"})
    assert answer.status_code == 403 and "expired" not in answer.text
    assert caller.grants == 1
