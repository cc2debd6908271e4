"""The failure a user sees first is the sentence, not a wrapper class name (issue 16, "Missing today")."""

from __future__ import annotations

import sys

import dagster as dg
from dagster._utils.error import serializable_error_info_from_exc_info

from sp_assets.defs.common import ClearFailure, clear_failure
from sp_assets.defs.pricing.assets import build_pricing_assets

from .conftest import AssetEnv, make_config, past_day, snapshot_date_config


def test_a_clear_failure_prints_as_its_sentence() -> None:
    failure = clear_failure(dg.Failure(description="us/orders: refused", allow_retries=False))
    assert isinstance(failure, dg.Failure) and isinstance(failure, ClearFailure) and failure.allow_retries is False
    try:
        raise failure
    except ClearFailure:
        info = serializable_error_info_from_exc_info(sys.exc_info())  # how Dagster records a step's error
    assert info.message.startswith("sp_assets: us/orders: refused"), info.message


def test_a_refused_run_shows_the_sentence_first(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"sku_selection": "advanced", "skus": ["SKU-1"]}})
    entry = config.get("us")
    assets = build_pricing_assets(entry)[:1]
    result = asset_env.materialize(assets, config, run_config=snapshot_date_config(assets, past_day(3)),
                                   raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert message.startswith("sp_assets: ") and "us/my_prices" in message.splitlines()[0], message
    assert "dagster._core" not in message.splitlines()[0]
