"""Issue 18, item 4: paging and reading have bounds.

* A server (here the fault proxy in front of the sandbox) that hands out a new continuation token on
  every page must not be followed for ever: the pages of one call stop at the cap derived from
  Amazon's page size and the query's window (``quota.PAGING``), with an error naming the operation,
  the window and the cap.
* A server that trickles its answer one byte at a time never trips the per-read socket timeout; each
  request has an overall deadline, is retried like any transient failure, and finally fails with an
  error naming the operation and the deadline. Document downloads get a deadline that grows with the
  size, so a slow but moving download of a large document still completes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sp_assets.lib.orders import get_orders
from sp_assets.lib.spapi import DeadlineExceededError, LWACredentials, PaginationError, RetryPolicy, Secret
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.spapi.quota import PAGING, page_cap
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxServer

from .proxy import Answer, TamperingProxy

US = "ATVPDKIKX0DER"
CREDENTIALS = LWACredentials("amzn1.application-oa2-client.bounds", Secret("bounds-client-secret-0001"),
                             Secret("Atzr|sandbox-na-bounds"))


@pytest.fixture
def proxied_sandbox() -> Iterator[tuple[TamperingProxy, SandboxServer]]:
    proxy = TamperingProxy().start()
    # Fast enough that 200 pages take no time: the cap, not the quota, must end the loop.
    with SandboxServer(SandboxConfig(seed=3, speed=100_000.0, orders_per_day=20, public_base_url=proxy.url)) as sandbox:
        proxy.upstream = sandbox.base_url
        yield proxy, sandbox
    proxy.stop()


def test_a_new_continuation_token_every_page_stops_at_the_cap(proxied_sandbox) -> None:
    proxy, sandbox = proxied_sandbox
    served = 0

    def endless(method: str, path: str, answer: Answer) -> Answer:
        nonlocal served
        if path != "/orders/v0/orders":
            return answer
        served += 1
        if served > 1_000:  # without a cap the client would page until the token expired: fail instead
            return Answer(400, {"content-type": "application/json"},
                          b'{"errors": [{"code": "InvalidInput", "message": "test guard: 1,000 pages"}]}')
        body = {"payload": {"Orders": [], "NextToken": f"fresh-token-{served}"}}
        return Answer(200, {"content-type": "application/json"}, json.dumps(body).encode())

    proxy.rules.append(endless)
    client = SPAPIClient(CREDENTIALS, proxy.url, token_url=proxy.url + "/auth/o2/token", speed=100_000.0)
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    began = time.monotonic()
    with pytest.raises(PaginationError) as stopped:
        list(get_orders(client, [US], created_after=start, created_before=start + timedelta(days=1),
                        now=start + timedelta(days=30)))
    cap = page_cap(PAGING["getOrders"], 1.0, 100)
    assert served == cap == 200
    assert str(stopped.value).startswith(f"getOrders: still a continuation token after {cap} pages, the cap for "
                                         "the window 2026-03-01T08:00:00Z to 2026-03-02T08:00:00Z (1.00 days)")
    assert time.monotonic() - began < 60


class _Trickle(BaseHTTPRequestHandler):
    """Answers 200 with a declared body, then sends it one byte every ``interval`` seconds."""

    protocol_version = "HTTP/1.1"
    interval = 0.25
    body = b'{"payload": {"Orders": []}}' + b" " * 200
    requests_seen = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).requests_seen += 1
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        try:
            for byte in self.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(self.interval)  # the server's own pace, not test synchronisation
        except OSError:
            pass  # the client gave up

    def do_POST(self) -> None:  # noqa: N802 (the LWA token endpoint answers at once)
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({"access_token": "Atza|trickle-test-access-token", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trickle() -> Iterator[str]:
    _Trickle.requests_seen = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_trickling_answer_hits_the_overall_deadline_and_is_retried(trickle: str) -> None:
    client = SPAPIClient(CREDENTIALS, trickle, token_url=trickle + "/auth/o2/token", request_deadline_s=1.0,
                         retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    began = time.monotonic()
    with pytest.raises(DeadlineExceededError) as late:
        client.request("getOrders", "GET", "/orders/v0/orders", params={"MarketplaceIds": US})
    elapsed = time.monotonic() - began
    # Two attempts of about one second each; the per-read timeout (60 s) never fired.
    assert 2.0 <= elapsed < 10.0, elapsed
    assert _Trickle.requests_seen == 2
    assert str(late.value) == ("getOrders (GET /orders/v0/orders) got no complete answer within its overall deadline "
                               "of 1 s (request_deadline_s) on 2 attempts")
    assert late.value.__cause__ is None and late.value.__suppress_context__
    assert client.stats.as_dict()["orders"]["connection_errors"] == 2


def test_a_trickling_document_download_hits_a_deadline_that_scales_with_its_size(trickle: str,
                                                                                tmp_path: Path) -> None:
    # 227 bytes at 4 bytes/s take ~57 s; allowed: 0.5 s + 227 / 200 s = ~1.6 s.
    client = SPAPIClient(CREDENTIALS, trickle, token_url=trickle + "/auth/o2/token", request_deadline_s=0.5,
                         download_min_bytes_per_s=200.0, retry=RetryPolicy(max_attempts=1))
    began = time.monotonic()
    with pytest.raises(DeadlineExceededError, match=r"^download of http://127\.0\.0\.1:\d+/_documents/d did not "
                                                    r"complete within its overall deadline \(1\.6\d* s: 0\.5 s plus "
                                                    r"1 s per 200 bytes\) on 1 attempts$"):
        client.download_to(trickle + "/_documents/d?signature=abc", tmp_path / "document")
    assert 1.5 <= time.monotonic() - began < 10.0


def test_a_slow_but_moving_download_of_a_larger_document_completes(trickle: str, tmp_path: Path) -> None:
    # 227 bytes at ~200 bytes/s take ~1.1 s, over the 0.5 s base deadline; allowed: 0.5 s + 227 / 100 s.
    _Trickle.interval = 0.005
    try:
        client = SPAPIClient(CREDENTIALS, trickle, token_url=trickle + "/auth/o2/token", request_deadline_s=0.5,
                             download_min_bytes_per_s=100.0, retry=RetryPolicy(max_attempts=1))
        result = client.download_to(trickle + "/_documents/d", tmp_path / "document")
    finally:
        _Trickle.interval = 0.25
    assert result.bytes == len(_Trickle.body) and result.path.read_bytes() == _Trickle.body
