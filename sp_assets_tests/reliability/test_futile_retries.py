"""Issue 18, item 5: errors a retry cannot fix are not retried by the step retry policy, and say why.

Each case materializes ``us/orders`` of the project's code location, in process, against the sandbox
over HTTP through a proxy that rewrites the chosen answers. The assets carry ``RetryPolicy(max_retries=2,
delay=10)``: before the fix a 403 or an ``invalid_client`` was attempted three times (30+ s of waiting
for the same answer). Now the step fails on its first attempt (no STEP_UP_FOR_RETRY) with a message
naming the marketplace; a 5xx that outlasts the client's own retries is still retried by the policy
(its attempts counted with a 0.5 s delay: ``quick_step_retries``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from . import support
from .proxy import Answer, TamperingProxy

DAY = (date.today() - timedelta(days=4)).isoformat()
ACCESS_DENIED = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                             "details": ""}]}


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[TamperingProxy]:
    proxy = TamperingProxy().start()
    sandbox = support.frozen_sandbox(support.now_utc(), public_base_url=proxy.url)
    proxy.upstream = sandbox.base_url
    config = support.write_config(tmp_path / "marketplaces.yaml", "us")
    with support.environment(**support.sandbox_env(proxy.url, tmp_path, tmp_path / "warehouse.duckdb", config)):
        yield proxy
    proxy.stop()
    sandbox.stop()


def _materialize() -> dg.ExecuteInProcessResult:
    defs = support.code_location()
    return dg.materialize([*defs.assets, *(defs.asset_checks or [])], selection=[dg.AssetKey(["us", "orders"])],
                          partition_key=DAY, resources=defs.resources, raise_on_error=False)


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """What the UI shows: step failures, and resource set-up failures (settings are checked there)."""
    texts = []
    for event in result.all_events:
        if event.event_type_value in ("STEP_FAILURE", "RESOURCE_INIT_FAILURE"):
            data = event.event_specific_data
            user = getattr(data, "user_failure_data", None)
            texts.append(user.description if user is not None else data.error.to_string())
    return texts


def _retries(result: dg.ExecuteInProcessResult) -> int:
    return sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def _answer_orders_with(status: int, body: dict):
    def rule(method: str, path: str, answer: Answer) -> Answer:
        if path.startswith("/orders/"):
            return Answer(status, {"content-type": "application/json"}, json.dumps(body).encode())
        return answer
    return rule


def test_a_403_names_the_marketplace_and_is_not_retried(rig: TamperingProxy) -> None:
    rig.rules.append(_answer_orders_with(403, ACCESS_DENIED))
    result = _materialize()
    assert not result.success
    (message,) = _failures(result)
    assert "marketplace us (ATVPDKIKX0DER, account na): Amazon denied access (HTTP 403)" in message, message
    assert "Not retried" in message
    assert _retries(result) == 0


def test_refused_credentials_are_not_retried(rig: TamperingProxy) -> None:
    def invalid_client(method: str, path: str, answer: Answer) -> Answer:
        if path.endswith("/auth/o2/token"):
            body = {"error": "invalid_client", "error_description": "Client authentication failed"}
            return Answer(401, {"content-type": "application/json"}, json.dumps(body).encode())
        return answer

    rig.rules.append(invalid_client)
    result = _materialize()
    (message,) = _failures(result)
    assert "marketplace us (ATVPDKIKX0DER, account na)" in message and "invalid_client" in message, message
    assert _retries(result) == 0


def test_a_bad_busy_timeout_setting_is_not_retried(rig: TamperingProxy) -> None:
    with support.environment(SP_ASSETS_DUCKDB_BUSY_TIMEOUT="soon"):
        result = _materialize()
    message = "\n".join(_failures(result))
    assert "SP_ASSETS_DUCKDB_BUSY_TIMEOUT: 'soon' is not allowed; use a number of seconds >= 0" in message, message
    assert _retries(result) == 0


def test_a_lasting_5xx_is_still_retried_by_the_policy(rig: TamperingProxy, quick_step_retries: dg.RetryPolicy
                                                     ) -> None:
    rig.rules.append(_answer_orders_with(503, {"errors": [{"code": "ServiceUnavailable", "message": "down"}]}))
    result = _materialize()
    assert not result.success
    assert quick_step_retries.max_retries == 2
    assert _retries(result) == 2  # RetryPolicy(max_retries=2): the error may pass, so it is retried
