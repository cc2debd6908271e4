"""Answers that are not JSON (an HTML error page from a proxy or a load balancer) give clear typed errors.

The sandbox always answers JSON, as Amazon does, so these tests put a tiny real HTTP server in front,
the way a misbehaving proxy would be; the LWA token still comes from the sandbox.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sp_assets.lib.spapi import InvalidInputError, InvalidResponseError, RetryPolicy, ServerError, SPAPIClient

from .support import credentials

HTML = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>" + "x" * 500 + "</body></html>"
ANSWERS = {"/html200": 200, "/html400": 400, "/html502": 502, "/empty": 200}


class _Proxy(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?")[0]
        _Proxy.hits[path] = _Proxy.hits.get(path, 0) + 1
        body = b"" if path == "/empty" else HTML.encode()
        self.send_response(ANSWERS.get(path, 404))
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.send_header("x-amzn-RequestId", "proxy-request-1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy_client(sandbox) -> Iterator[SPAPIClient]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Proxy.hits = {}
    client = SPAPIClient(credentials(), f"http://127.0.0.1:{server.server_address[1]}",
                         token_url=sandbox.token_url, speed=1000.0,
                         retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    yield client
    client.close()
    server.shutdown()
    server.server_close()


def test_html_with_200_is_invalid_response_quoting_the_body(proxy_client: SPAPIClient) -> None:
    with pytest.raises(InvalidResponseError) as caught:
        proxy_client.request("getOrder", "GET", "/html200")
    text = str(caught.value)
    assert "not JSON (text/html)" in text and "<!DOCTYPE html><html><head><title>502 Bad Gateway" in text
    assert "JSONDecodeError" not in text and len(caught.value.body_snippet) < 260
    assert caught.value.request_id == "proxy-request-1"


def test_html_with_400_keeps_the_status_type(proxy_client: SPAPIClient) -> None:
    with pytest.raises(InvalidInputError) as caught:
        proxy_client.request("getOrder", "GET", "/html400")
    assert "not JSON" in str(caught.value) and "502 Bad Gateway" in str(caught.value)
    assert _Proxy.hits["/html400"] == 1


def test_html_502_is_retried_then_server_error(proxy_client: SPAPIClient) -> None:
    with pytest.raises(ServerError) as caught:
        proxy_client.request("getOrder", "GET", "/html502")
    assert caught.value.status == 502 and "502 Bad Gateway" in str(caught.value)
    assert _Proxy.hits["/html502"] == 3


def test_empty_body_is_none(proxy_client: SPAPIClient) -> None:
    assert proxy_client.request("cancelReport", "GET", "/empty") is None
