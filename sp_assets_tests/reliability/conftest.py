"""Fixtures shared by the reliability tests."""

from __future__ import annotations

import dagster as dg
import pytest


@pytest.fixture
def quick_step_retries(monkeypatch: pytest.MonkeyPatch) -> dg.RetryPolicy:
    """The project's step retry policy with the same attempts, backoff and jitter, but a 0.5 s delay instead
    of 10 s, for the assets built while it is in place (every asset's retry policy comes from
    ``common.multi_asset_kwargs``). For tests that count the attempts, or derive a time bound from the
    policy in use (``retry_backoff_s(policy)``): waiting the production pauses (40 s) only slows them."""
    import sp_assets.defs.common as common

    production = common.RETRY
    assert production is not None
    quick = dg.RetryPolicy(max_retries=production.max_retries, delay=0.5, backoff=production.backoff,
                           jitter=production.jitter)
    monkeypatch.setattr(common, "RETRY", quick)
    return quick
