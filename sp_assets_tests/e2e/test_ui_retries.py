"""Issue 16, item 3, on ``make dev``: a deterministic refusal is not retried as a new run; a transient
failure still is.

``dagster.yaml`` turns run retries on (``run_retries: max_retries: 1``): the daemon re-launches a
failed run once. The real stack runs (``python -m sp_assets.dev``: webserver and daemon) against a
sandbox behind a proxy that rewrites Amazon's answers: the stack the PostgreSQL instance test shares
(``daemon_stack`` in ``conftest.py``), so on PostgreSQL where its server is installed. Runs are
launched over the UI's GraphQL (``launchRun``, the asset job, one partition of ``us/orders``).

* Amazon answers every searchOrders with 403: the step fails at once (no step retry), and the run is
  tagged so that Dagster does not retry it (``dagster/retry_on_asset_or_op_failure=false``): the
  daemon says "Not retrying run" in the run's log, and the run stays the only one.
* Amazon answers 503 until the first run has failed: the step retries run out, the run fails, and
  the daemon launches its retry run, which succeeds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from sp_assets.defs.common import NOT_RETRIED_TAG, RUN_RETRY_ON_STEP_FAILURE_TAG
from sp_assets_tests.reliability.proxy import Answer, TamperingProxy

from .stack import POLL_SECONDS, DevStack, SharedStack

pytestmark = pytest.mark.slow

DAY = (date.today() - timedelta(days=12)).isoformat()
RUN_TIMEOUT = 240.0
LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""
RUNS = """
query Runs {
  runsOrError {
    ... on Runs { results { runId status rootRunId parentRunId tags { key value } } }
  }
}"""
RUN_LOG = """
query Log($id: ID!) {
  logsForRun(runId: $id) {
    ... on EventConnection { events { __typename ... on MessageEvent { message } } }
  }
}"""
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
WILL_RETRY_TAG = "dagster/will_retry"  # set by the run worker just after it stores the failure
LAUNCHED_TAG = "sp_assets_tests/ui_retries"  # on the runs this test launches; Dagster copies tags to a retry


def launch(stack: DevStack) -> str:
    params = {
        "selector": {"repositoryLocationName": "sp_assets", "repositoryName": "__repository__",
                     "jobName": "__ASSET_JOB", "assetSelection": [{"path": ["us", "orders"]}]},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": DAY}, {"key": LAUNCHED_TAG, "value": "1"}]},
    }
    result = stack.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def runs(stack: DevStack) -> list[dict]:
    """The runs of us/orders this test launched and their retries (sensors such as the marts' automation
    may launch runs of their own on the same stack: those are not this test's business)."""
    found = stack.graphql(RUNS)["runsOrError"]["results"]
    return [r for r in found if tags_of(r).get(LAUNCHED_TAG) == "1"]


def decided(stack: DevStack, run_id: str) -> dict | None:
    """The run once it has finished and, if it failed, Dagster has tagged whether it will retry it: the run
    worker stores the failure and then the tag (``dagster/will_retry``), so a poll can see one without the
    other."""
    run = next((r for r in runs(stack) if r["runId"] == run_id), None)
    if run is None or run["status"] not in FINISHED:
        return None
    return run if run["status"] != "FAILURE" or WILL_RETRY_TAG in tags_of(run) else None


def tags_of(run: dict) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in run["tags"]}


def messages(stack: DevStack, run_id: str) -> list[str]:
    events = stack.graphql(RUN_LOG, {"id": run_id})["logsForRun"]["events"]
    return [event.get("message") or "" for event in events]


def wait_until(condition, timeout: float, what: str, stack: DevStack):
    """Poll the stack (the daemon acts on its own schedule: nothing to join on) until ``condition``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}: {runs(stack)}\n{stack.log_tail()}")
        time.sleep(POLL_SECONDS)


def answer_orders_with(status: int, body: dict, until: list[bool]):
    """A proxy rule: searchOrders answers ``status`` while ``until`` is empty."""
    def rule(method: str, path: str, answer: Answer) -> Answer:
        if path.startswith("/orders/") and not until:
            return Answer(status, {"content-type": "application/json"}, json.dumps(body).encode())
        return answer
    return rule


@pytest.fixture
def rig(daemon_stack: SharedStack) -> Iterator[tuple[DevStack, TamperingProxy]]:
    assert not daemon_stack.proxy.rules, "the proxy must pass the sandbox's answers through"
    try:
        yield daemon_stack.stack, daemon_stack.proxy
    finally:
        daemon_stack.proxy.rules.clear()  # the next test on the stack gets the sandbox's answers


def test_a_refused_run_is_not_retried_and_a_transient_failure_is(rig) -> None:
    stack, proxy = rig
    # 1. Deterministic: Amazon denies access. One failed run, tagged, and the daemon says it will not retry.
    denied = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                          "details": ""}]}
    proxy.rules.append(answer_orders_with(403, denied, []))
    refused = launch(stack)
    run = wait_until(lambda: decided(stack, refused), RUN_TIMEOUT, "the refused run to finish", stack)
    assert run["status"] == "FAILURE"
    tags = tags_of(run)
    assert tags[RUN_RETRY_ON_STEP_FAILURE_TAG] == "false" and tags[NOT_RETRIED_TAG] == "us/orders", tags
    assert tags.get(WILL_RETRY_TAG) == "false", tags
    wait_until(lambda: any("Not retrying run" in m for m in messages(stack, refused)), RUN_TIMEOUT,
               "the daemon to decide about the refused run", stack)
    assert [r["runId"] for r in runs(stack)] == [refused]
    assert any("Amazon denied access (HTTP 403)" in m for m in messages(stack, refused))

    # 2. Transient: 503 until the first run has failed; the daemon launches the retry run, which succeeds.
    proxy.rules.clear()
    healed: list[bool] = []
    proxy.rules.append(answer_orders_with(503, {"errors": [{"code": "ServiceUnavailable", "message": "down"}]},
                                          healed))
    flaky = launch(stack)
    run = wait_until(lambda: decided(stack, flaky), RUN_TIMEOUT, "the failing run to finish", stack)
    assert run["status"] == "FAILURE"
    assert tags_of(run).get(WILL_RETRY_TAG) == "true", tags_of(run)
    healed.append(True)
    retry = wait_until(lambda: next((r for r in runs(stack) if r["parentRunId"] == flaky and r["status"] in FINISHED),
                                    None), RUN_TIMEOUT, "the retry run", stack)
    assert retry["status"] == "SUCCESS" and retry["rootRunId"] == flaky
    assert RUN_RETRY_ON_STEP_FAILURE_TAG not in tags_of(retry)
    assert len(runs(stack)) == 3
