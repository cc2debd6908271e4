"""The client's session reads the environment once per host, and still honours it (issue 20, item 5)."""

from __future__ import annotations

import pytest

from sp_assets.lib.spapi.sessions import new_session
from sp_assets.sandbox.server import SandboxServer


def test_the_environment_is_read_once_per_host_not_per_call(sandbox: SandboxServer) -> None:
    session = new_session()
    for _ in range(5):
        assert session.get(sandbox.base_url + "/_sandbox/health", timeout=30).json() == {"status": "ok"}
    assert session.environment_reads == 1
    session.get(sandbox.base_url.replace("127.0.0.1", "localhost") + "/_sandbox/health", timeout=30)
    assert session.environment_reads == 2  # another host: its own reading (no_proxy may differ per host)


def test_proxies_and_ca_bundles_from_the_environment_still_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "sellingpartnerapi-eu.amazon.com")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/corporate.pem")
    session = new_session()
    na = session.merge_environment_settings("https://sellingpartnerapi-na.amazon.com/orders", {}, None, None, None)
    assert na["proxies"]["https"] == "http://proxy.example:3128"
    assert na["verify"] == "/etc/ssl/certs/corporate.pem"
    eu = session.merge_environment_settings("https://sellingpartnerapi-eu.amazon.com/orders", {}, None, None, None)
    assert "https" not in eu["proxies"]  # NO_PROXY, evaluated per host
    explicit = session.merge_environment_settings("https://sellingpartnerapi-na.amazon.com/x",
                                                  {"https": "http://other:1"}, None, False, None)
    assert explicit["proxies"]["https"] == "http://other:1" and explicit["verify"] is False  # the call's own win
