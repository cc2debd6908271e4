"""LWA access tokens against the sandbox's real token endpoint: cache, early refresh, one refresh at a time."""

from __future__ import annotations

import socket
import threading

import pytest

from sp_assets.lib.spapi import AuthError, RetryPolicy
from sp_assets.lib.spapi.auth import AccessTokenProvider

from .support import CLIENT_SECRET, credentials


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def grants(sandbox) -> int:
    return sandbox.stats.get("lwa.grant")


def test_token_is_cached_and_refreshed_before_expiry(sandbox) -> None:
    clock = ManualClock()
    provider = AccessTokenProvider(credentials(), sandbox.token_url, clock=clock)
    before = grants(sandbox)
    first = provider.get()
    assert grants(sandbox) == before + 1
    assert provider.get() == first and grants(sandbox) == before + 1  # cached
    lifetime = provider._expires_at - clock.now
    assert lifetime > 0
    margin = min(60.0, 0.1 * lifetime)
    clock.now += lifetime - margin - 0.01  # still inside the margin-free part of its life
    assert provider.get() == first and grants(sandbox) == before + 1
    clock.now += 0.02  # now within the margin: refreshed although not yet expired
    second = provider.get()
    assert second != first and grants(sandbox) == before + 2


def test_one_refresh_at_a_time(sandbox) -> None:
    provider = AccessTokenProvider(credentials(), sandbox.token_url)
    before = grants(sandbox)
    barrier = threading.Barrier(8)
    tokens = []
    lock = threading.Lock()

    def fetch() -> None:
        barrier.wait()
        token = provider.get()
        with lock:
            tokens.append(token)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert grants(sandbox) == before + 1
    assert all(t == tokens[0] for t in tokens)

    # A burst of "expired" reports about the same token causes one refresh, not one each.
    stale = tokens[0]
    provider.invalidate(stale)
    fresh = provider.get()
    provider.invalidate(stale)  # a late 403 about the old token must not throw away the new one
    assert provider.get() == fresh
    assert grants(sandbox) == before + 2


def test_refused_refresh_token_is_auth_error_without_secrets(sandbox) -> None:
    bad = "Atzr|not-a-sandbox-token-123456"
    provider = AccessTokenProvider(credentials(refresh_token=bad), sandbox.token_url)
    with pytest.raises(AuthError) as caught:
        provider.get()
    text = str(caught.value) + repr(caught.value) + repr(provider)
    assert "invalid_grant" in text and caught.value.status == 400
    assert bad not in text and CLIENT_SECRET not in text


def test_unreachable_token_endpoint_is_auth_error() -> None:
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = AccessTokenProvider(credentials(), f"http://127.0.0.1:{port}/auth/o2/token",
                                   retry=RetryPolicy(max_attempts=2, base_delay=0.0))
    with pytest.raises(AuthError, match="after 2 attempts"):
        provider.get()
