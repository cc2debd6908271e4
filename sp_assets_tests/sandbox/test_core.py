"""The sandbox's shared machinery over real HTTP: time rule, quotas, headers, LWA, faults, determinism, CLI.

Orders v0 is the vehicle (it is the operation with the tightest quota), but what is tested here is what
``operations.py``, ``quota.py``, ``faults.py``, ``backends/lwa.py`` and ``__main__.py`` promise to every
API. Waiting is always a poll of a condition with a deadline, never a sleep standing in for a signal.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.quota import QuotaBook
from sp_assets.sandbox.server import READY_PREFIX, SandboxProcess, SandboxServer
from sp_assets_tests.support import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxCaller

# The same values as sp_assets_tests/conftest.py (pytest does not support importing a conftest).
US = by_code("us").marketplace_id
DE = by_code("de").marketplace_id
JP = by_code("jp").marketplace_id
REPO = Path(__file__).resolve().parents[2]
ORDERS = "/orders/v0/orders"

Sandbox = SandboxServer | SandboxProcess


def grant(sb: Sandbox, **form: str) -> requests.Response:
    body = {"grant_type": "refresh_token", "refresh_token": "Atzr|sandbox-na-core",
            "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET, **form}
    return requests.post(sb.token_url, data={k: v for k, v in body.items() if v is not None}, timeout=10)


def access_token(sb: Sandbox, refresh_token: str = "Atzr|sandbox-na-core") -> str:
    """One raw access token, for the tests about access tokens themselves."""
    answer = grant(sb, refresh_token=refresh_token)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def caller(sb: Sandbox, refresh_token: str = "Atzr|sandbox-na-core") -> SandboxCaller:
    """A caller that sends a token the sandbox accepts, however long the test takes."""
    return SandboxCaller(sb, refresh_token)


def get(sb: Sandbox, path: str, token: SandboxCaller | str | None, **params: object) -> requests.Response:
    """A GET with a caller's token, a raw token (tests about tokens) or none."""
    if isinstance(token, SandboxCaller):
        return token.get(path, params=params)
    headers = {"x-amz-access-token": token} if token else {}
    return requests.get(sb.base_url + path, params=params, headers=headers, timeout=30)


def recent_window(minutes: int = 10) -> dict[str, str]:
    """A small, valid created window (cheap to answer): ends 3 minutes ago, inside the 2-minute rule."""
    now = datetime.now(UTC)
    return {"MarketplaceIds": US, "CreatedAfter": (now - timedelta(minutes=minutes)).isoformat(),
            "CreatedBefore": (now - timedelta(minutes=3)).isoformat()}


def past_day(days_ago: int) -> dict[str, str]:
    start = (datetime.now(UTC) - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"MarketplaceIds": US, "CreatedAfter": start.isoformat(),
            "CreatedBefore": (start + timedelta(days=1)).isoformat()}


def poll(call: Callable[[], requests.Response], done: Callable[[requests.Response], bool],
         timeout: float, interval: float = 0.05) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        answer = call()
        if done(answer):
            return answer
        assert time.monotonic() < deadline, f"condition not met within {timeout} s; last: {answer.status_code}"
        time.sleep(interval)


# ------------------------------------------------------------------------------------ 2-minute rule
def test_two_minute_rule_boundary(sandbox: SandboxServer) -> None:
    token = caller(sandbox, "Atzr|sandbox-na-core-two-minutes")
    now = datetime.now(UTC)  # the server's now is a little later, which only moves the boundary our way
    after = (now - timedelta(hours=2)).isoformat()
    inside = get(sandbox, ORDERS, token, MarketplaceIds=US, CreatedAfter=after,
                 CreatedBefore=(now - timedelta(seconds=125)).isoformat())
    assert inside.status_code == 200, inside.text
    too_late = get(sandbox, ORDERS, token, MarketplaceIds=US, CreatedAfter=after,
                   CreatedBefore=(now - timedelta(seconds=110)).isoformat())
    assert too_late.status_code == 400
    assert "at least 2 minutes before current time" in too_late.json()["errors"][0]["message"]
    updated_late = get(sandbox, ORDERS, token, MarketplaceIds=US, LastUpdatedAfter=after,
                       LastUpdatedBefore=now.isoformat())
    assert updated_late.status_code == 400
    assert "LastUpdatedBefore" in updated_late.json()["errors"][0]["details"]


# ---------------------------------------------------------------------------------- quota and headers
def test_burst_then_rate(sandbox_factory) -> None:
    """getOrders at speed 60 refills 1 token a second with a bucket of 20: Amazon's shape, 60x faster.

    The buckets run on a clock the test moves, so the rate is checked exactly both ways (no faster, no
    slower) however long this machine takes to send the calls.
    """
    sb = sandbox_factory(speed=60.0)
    rate = 0.0167 * 60
    clock = [0.0]
    sb.state.quota = QuotaBook(sb.config.speed, clock=lambda: clock[0])
    token = caller(sb)
    query = recent_window()

    def call() -> requests.Response:
        return token.get(ORDERS, params=query, timeout=10)

    burst = [call() for _ in range(20)]
    assert [a.status_code for a in burst] == [200] * 20
    assert all(a.headers["x-amzn-RateLimit-Limit"] == "1.002" for a in burst)
    answer = call()
    assert answer.status_code == 429, "the bucket holds more than 20"
    assert answer.json() == {"errors": [{"code": "QuotaExceeded", "details": "",
                                         "message": "You exceeded your quota for the requested resource."}]}
    assert "x-amzn-RateLimit-Limit" not in answer.headers
    assert answer.headers["x-amzn-RequestId"]

    clock[0] = 0.99 / rate
    assert call().status_code == 429, "a token came back faster than the rate"
    clock[0] = 1.0 / rate + 1e-6
    recovered = call()
    assert recovered.status_code == 200, "a token did not come back at the rate"
    assert recovered.headers["x-amzn-RateLimit-Limit"] == "1.002"
    assert call().status_code == 429, "one second brought back one token, not more"
    assert sb.stats.get("getOrders.429") >= 1


def test_request_id_on_every_answer_and_rate_header_on_success(sandbox: SandboxServer) -> None:
    token = caller(sandbox, "Atzr|sandbox-na-core-headers")
    answers = {
        200: get(sandbox, ORDERS, token, **recent_window()),
        400: get(sandbox, ORDERS, token, MarketplaceIds=US),
        403: get(sandbox, ORDERS, None, **recent_window()),
        404: get(sandbox, f"{ORDERS}/101-0000000-9999999/orderItems", token),
    }
    ids = set()
    for status, answer in answers.items():
        assert answer.status_code == status, answer.text
        request_id = answer.headers["x-amzn-RequestId"]
        uuid.UUID(request_id)
        ids.add(request_id)
        assert answer.headers["content-type"].startswith("application/json")
    assert len(ids) == len(answers), "every answer has its own request id"
    assert answers[200].headers["x-amzn-RateLimit-Limit"] == "16.7"  # 0.0167/s x speed 1000
    assert answers[404].headers["x-amzn-RateLimit-Limit"] == "500"  # getOrderItems 0.5/s x 1000
    assert "x-amzn-RateLimit-Limit" not in answers[403].headers


# ------------------------------------------------------------------------------------------ tokens
def test_access_token_expires_and_a_new_grant_works(sandbox_factory) -> None:
    sb = sandbox_factory(speed=1800.0)  # 3600 s lifetime / 1800 = 2 s
    granted_at = time.monotonic()
    answer = grant(sb)
    assert answer.json()["expires_in"] == 2 and answer.json()["token_type"] == "bearer"
    token = answer.json()["access_token"]
    assert token.startswith("Atza|")
    assert get(sb, ORDERS, token, **recent_window()).status_code == 200

    expired = poll(lambda: get(sb, ORDERS, token, **recent_window()), lambda a: a.status_code != 200,
                   timeout=10, interval=0.1)
    assert time.monotonic() - granted_at >= 1.9, "the token lived its announced lifetime"
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["code"] == "Unauthorized"
    assert "expired" in expired.json()["errors"][0]["details"]
    assert get(sb, ORDERS, access_token(sb), **recent_window()).status_code == 200


def test_a_refresh_token_only_works_in_its_own_region(sandbox: SandboxServer) -> None:
    na = caller(sandbox, "Atzr|sandbox-na-core-region")
    denied = get(sandbox, ORDERS, na, **{**past_day(3), "MarketplaceIds": JP})
    assert denied.status_code == 403
    assert "JP" in denied.json()["errors"][0]["details"] or JP in denied.json()["errors"][0]["details"]
    eu = caller(sandbox, "Atzr|sandbox-eu-core-region")
    assert get(sandbox, ORDERS, eu, **{**past_day(3), "MarketplaceIds": DE}).status_code == 200
    assert get(sandbox, ORDERS, eu, **past_day(3)).status_code == 403


def test_lwa_errors_are_oauth2_bodies(sandbox: SandboxServer) -> None:
    bad_grant = grant(sandbox, refresh_token="Atzr|not-a-sandbox-token")
    assert bad_grant.status_code == 400
    assert bad_grant.json()["error"] == "invalid_grant"
    no_client = grant(sandbox, client_id=None)
    assert no_client.status_code == 401 and no_client.json()["error"] == "invalid_client"
    no_secret = grant(sandbox, client_secret="")
    assert no_secret.status_code == 401 and no_secret.json()["error"] == "invalid_client"
    wrong_type = grant(sandbox, grant_type="password")
    assert wrong_type.status_code == 400 and wrong_type.json()["error"] == "unsupported_grant_type"
    for answer in (bad_grant, no_client, wrong_type):
        assert SANDBOX_CLIENT_SECRET not in answer.text
    forged = get(sandbox, ORDERS, "Atza|forged", **recent_window())
    assert forged.status_code == 403 and "invalid" in forged.json()["errors"][0]["details"]


# ------------------------------------------------------------------------------------------ faults
def test_fault_5xx_answers_every_call_in_amazons_envelope(sandbox_factory) -> None:
    sb = sandbox_factory(faults="5xx=1.0")
    token = caller(sb)  # the LWA endpoint is not faulted
    answers = [get(sb, ORDERS, token, **recent_window()) for _ in range(20)]
    assert {a.status_code for a in answers} == {500, 503}
    for answer in answers:
        error = answer.json()["errors"][0]
        assert error["code"] == {500: "InternalFailure", 503: "ServiceUnavailable"}[answer.status_code]
        assert answer.headers["x-amzn-RequestId"]
    assert sb.stats.calls("getOrders") == 0


def test_fault_drop_cuts_the_connection(sandbox_factory) -> None:
    sb = sandbox_factory(faults="drop=1.0")
    token = caller(sb)
    for _ in range(3):
        with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            get(sb, ORDERS, token, **recent_window())
    assert sb.stats.get("getOrders.fault_drop") == 3


def test_fault_429_throttles_despite_a_full_bucket(sandbox_factory) -> None:
    sb = sandbox_factory(faults="429=1.0")
    answer = get(sb, ORDERS, caller(sb), **recent_window())
    assert answer.status_code == 429 and answer.json()["errors"][0]["code"] == "QuotaExceeded"
    assert "x-amzn-RateLimit-Limit" not in answer.headers


def test_fault_expire_expires_tokens_early(sandbox_factory) -> None:
    sb = sandbox_factory(faults="expire=1.0")
    for _ in range(2):  # a fresh grant is expired on its first use too
        answer = get(sb, ORDERS, access_token(sb), **recent_window())
        assert answer.status_code == 403
        assert "expired" in answer.json()["errors"][0]["details"]
    assert sb.stats.get("getOrders.fault_expire") == 2


# ------------------------------------------------------------------------------------- determinism
def _snapshot(sb: Sandbox, day: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """All getOrders pages and some orders' first item pages, minus NextToken (it carries the moment)."""
    token = caller(sb)
    pages = [get(sb, ORDERS, token, **day, MaxResultsPerPage=25).json()["payload"]]
    while "NextToken" in pages[-1]:
        pages.append(get(sb, ORDERS, token, MarketplaceIds=US, NextToken=pages[-1]["NextToken"]).json()["payload"])
    for page in pages:
        page.pop("NextToken", None)
    order_ids = [o["AmazonOrderId"] for page in pages for o in page["Orders"]][:12]
    items = [get(sb, f"{ORDERS}/{order_id}/orderItems", token).json() for order_id in order_ids]
    for item_page in items:  # an order with more than one page of items (whether one is among the 12
        item_page["payload"].pop("NextToken", None)  # depends on today's date) also carries the moment
    return pages, items


def test_same_seed_same_data_across_processes(sandbox_factory) -> None:
    args = ["--seed", "11", "--speed", "1000", "--orders-per-day", "60"]
    day = past_day(20)  # long settled: no order changes between the two processes' calls
    with ThreadPoolExecutor(2) as pool:
        processes = list(pool.map(lambda _: SandboxProcess(args).start(), range(2)))
    try:
        first, second = (_snapshot(process, day) for process in processes)
    finally:
        for process in processes:
            process.stop()
    assert len(first[0]) >= 2 and len(first[1]) == 12, "the comparison covers several pages and items"
    assert first == second
    other_seed = _snapshot(sandbox_factory(seed=12, orders_per_day=60), day)
    assert other_seed[0] != first[0]


# ---------------------------------------------------------------------------------- CLI and stats
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sp_assets.sandbox", "--port", "0", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_cli_refuses_a_non_loopback_host_and_bad_faults() -> None:
    remote = _cli("--host", "0.0.0.0")
    assert remote.returncode == 2
    assert "loopback" in remote.stderr and "--allow-remote" in remote.stderr
    bad_faults = _cli("--faults", "5xx=2")
    assert bad_faults.returncode == 2 and "5xx" in bad_faults.stderr


def test_cli_prints_its_ready_line_and_serves() -> None:
    with SandboxProcess(["--seed", "3"]) as process:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", process.base_url), process.base_url
        assert requests.get(process.base_url + "/_sandbox/health", timeout=10).json() == {"status": "ok"}
    assert READY_PREFIX.startswith("SP-API sandbox ready at")


def test_stats_count_served_calls(sandbox_factory) -> None:
    sb = sandbox_factory(speed=1.0)  # a one-hour token: one grant, however slow the machine
    token = access_token(sb)
    plan = sb.seller.day_plans(US, (datetime.now(UTC) - timedelta(days=4)).date())[0]
    for _ in range(3):
        assert get(sb, f"{ORDERS}/{plan.amazon_order_id}", token).status_code == 200
    assert get(sb, f"{ORDERS}/{plan.amazon_order_id}", None).status_code == 403
    stats = requests.get(sb.base_url + "/_sandbox/stats", timeout=10).json()
    assert stats["getOrder.served"] == 3
    assert stats["getOrder.requests"] == 4
    assert stats["getOrder.403"] == 1
    assert stats["lwa.grant"] == 1
