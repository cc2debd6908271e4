"""No secret in anything the client lets out: logs at DEBUG (ours, urllib3's), stdout/stderr, reprs, errors."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sp_assets.lib.orders import get_order_items, get_orders
from sp_assets.lib.reports.api import create_report, get_report, get_report_document
from sp_assets.lib.spapi import AccessDeniedError, AuthError, RetryPolicy, ServerError

from .support import CLIENT_SECRET, DE, REFRESH_TOKENS, US, client_for, past_day, wait_until


def test_no_secret_in_logs_output_reprs_or_errors(sandbox_factory, caplog: pytest.LogCaptureFixture,
                                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sb = sandbox_factory(faults="expire=0.3")
    start, end = past_day()
    bad_refresh = "Atzr|revoked-refresh-token-0123456789"
    access_tokens: set[str] = set()
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        client = client_for(sb)
        orders = list(get_orders(client, [US], created_after=start, created_before=end))
        for order in orders[:8]:
            get_order_items(client, order["AmazonOrderId"])
            access_tokens.add(client.token_provider.get().reveal())
        with pytest.raises(AccessDeniedError) as denied:  # a failing call: another region's marketplace
            list(get_orders(client, [DE], created_after=start, created_before=end))
        with pytest.raises(AuthError) as refused:  # LWA refuses the refresh token
            client_for(sb, refresh_token=bad_refresh).request("getOrder", "GET", "/orders/v0/orders/x")
        failing = client_for(sandbox_factory(faults="5xx=1.0"), retry=RetryPolicy(max_attempts=2, base_delay=0.01))
        with pytest.raises(ServerError) as server_error:
            failing.request("getOrderItems", "GET", "/orders/v0/orders/111-1111111-1111111/orderItems")
        access_tokens.add(failing.token_provider.get().reveal())
        # A report document download: its presigned URL's signature must not be logged either.
        report_id = create_report(client, "GET_AFN_INVENTORY_DATA", [US])
        assert wait_until(lambda: get_report(client, report_id)["processingStatus"] == "DONE", 20)
        url = get_report_document(client, get_report(client, report_id)["reportDocumentId"])["url"]
        client.download_to(url, tmp_path / "doc")
        for error in (denied.value, refused.value, server_error.value):
            texts += [str(error), repr(error), str(error.__dict__)]
        texts += [repr(client), repr(client.credentials), str(client.credentials), repr(client.token_provider),
                  repr(client.stats), str(client.stats.as_dict())]
        print(*texts, sep="\n")  # what a careless caller would print
        logging.getLogger("sp_assets.test").debug("credentials: %s / %r", client.credentials, client.credentials)
    assert sb.stats.get("getOrderItems.fault_expire") > 0 and len(access_tokens) >= 2
    captured = capsys.readouterr()
    everything = "\n".join([caplog.text, captured.out, captured.err, *texts])
    # The DEBUG log really describes each call (method, path, status, elapsed, request id)...
    assert "getOrders GET /orders/v0/orders -> 200 in" in caplog.text
    assert "x-amzn-RequestId" in caplog.text and "-> 403" in caplog.text
    # ...and contains none of the secrets, nor does anything else.
    assert "/_documents/" in caplog.text  # the download was logged (path only)
    secrets = {REFRESH_TOKENS["NA"], bad_refresh, CLIENT_SECRET, *access_tokens, urlsplit(url).query}
    for secret in secrets:
        assert secret not in everything
    # Not even the distinctive part of a token (e.g. a prefix-stripped copy).
    for token in access_tokens:
        assert token.split("|", 1)[1] not in everything


# --- issue 18: echoed secrets --------------------------------------------------------------------


def test_scrub_catches_url_encoded_masked_and_cut_echoes() -> None:
    from urllib.parse import quote, quote_plus

    from sp_assets.lib.spapi.errors import snippet
    from sp_assets.lib.spapi.redaction import Secret, scrub

    refresh = "Atzr|echo-test-refresh/token+value 42"
    secret = "amzn1.oa2-cs.v1.echo-test-client-secret-77"
    Secret(refresh), Secret(secret)
    for form in (refresh, quote(refresh, safe=""), quote(refresh), quote_plus(refresh),
                 quote_plus(refresh).replace("%7C", "%7c").replace("%2F", "%2f").replace("%2B", "%2b"), secret):
        assert scrub(f"you sent refresh_token={form}&x=1") == "you sent refresh_token=***&x=1", form
    assert scrub(f"client_secret={secret[:-4]}****") == "client_secret=*******"  # masked: all but 4 chars
    assert scrub(f"cut here: {secret[:9]}") == "cut here: ***"  # any >= 8 leading characters
    assert scrub(f"too short to tell: {secret[:7]}") == f"too short to tell: {secret[:7]}"
    # Scrubbed before it is cut: the 12 characters left by a cut at 200 are not left behind.
    body = "x" * 188 + " " + secret
    assert secret[:8] not in snippet(body) and snippet(body).endswith("***")


def test_an_access_token_with_a_newline_leaves_the_client_as_a_scrubbed_unchained_error(sandbox) -> None:
    import time

    from sp_assets.lib.spapi import ForeignError, Secret

    client = client_for(sandbox)
    token = "Atza|access-token-with-a-newline-0123456789\n"
    provider = client.token_provider
    with provider._lock:  # as if the token endpoint had answered it (auth.py now refuses such a token)
        provider._token, provider._refresh_at = Secret(token), time.monotonic() + 3600
    try:
        with pytest.raises(ForeignError) as failed:
            client.request("getOrder", "GET", "/orders/v0/orders/111-1111111-1111111")
    finally:
        provider.invalidate(Secret(token))
    text = str(failed.value)
    assert text.startswith("getOrder (GET /orders/v0/orders/111-1111111-1111111) failed: InvalidHeader: ")
    assert "***" in text and token.strip() not in text and token.strip()[:8] not in text
    assert failed.value.original_type == "InvalidHeader"
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


def test_a_token_answer_with_whitespace_in_the_access_token_is_refused_by_name(sandbox_factory) -> None:
    from sp_assets.lib.spapi import AuthError
    from sp_assets.lib.spapi.auth import AccessTokenProvider

    class Stub(AccessTokenProvider):
        def _exchange(self):
            return {"access_token": "Atza|whitespace-token-0123456789\r\n", "expires_in": 3600}

    provider = Stub(client_for(sandbox_factory()).credentials, "http://127.0.0.1:1/auth/o2/token")
    with pytest.raises(AuthError, match="has an access_token with whitespace or control characters") as refused:
        provider.get()
    assert "whitespace-token" not in str(refused.value)
