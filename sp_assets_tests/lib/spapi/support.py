"""Helpers for the SP-API client tests: a client pointed at a sandbox, and a fixed past day."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sp_assets.lib.spapi import LWACredentials, RetryPolicy, Secret, SPAPIClient

# The same values as sp_assets_tests/conftest.py (importing a conftest is not supported by pytest).
CLIENT_ID = "amzn1.application-oa2-client.sandbox"
CLIENT_SECRET = "sandbox-client-secret-do-not-log"
REFRESH_TOKENS = {"NA": "Atzr|sandbox-na-demo", "EU": "Atzr|sandbox-eu-demo", "FE": "Atzr|sandbox-fe-demo"}
US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
DE = "A1PA6795UKMFR9"


def credentials(region: str = "NA", refresh_token: str | None = None) -> LWACredentials:
    return LWACredentials(CLIENT_ID, Secret(CLIENT_SECRET), Secret(refresh_token or REFRESH_TOKENS[region]))


def client_for(sandbox: Any, region: str = "NA", *, refresh_token: str | None = None,
               retry: RetryPolicy | None = None, **options: Any) -> SPAPIClient:
    """A client for ``sandbox`` at the sandbox's speed (so its buckets mirror the server's)."""
    return SPAPIClient(credentials(region, refresh_token), sandbox.base_url, token_url=sandbox.token_url,
                       speed=sandbox.config.speed, retry=retry, **options)


def past_day(days_ago: int = 20) -> tuple[datetime, datetime]:
    """A whole UTC day far enough back that no order of it changes any more."""
    day = date.today() - timedelta(days=days_ago)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01) -> bool:
    """Poll ``condition`` until true or the deadline passes (no bare sleeps as synchronisation)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
