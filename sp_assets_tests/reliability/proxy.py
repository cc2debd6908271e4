"""A small recording and tampering HTTP proxy in front of the SP-API sandbox (test-only).

The sandbox always answers like Amazon. To see what the client, the report lifecycle and the assets
do with answers Amazon (or a proxy, a load balancer, a truncating network) sometimes gives, this
server forwards every request to the sandbox over real HTTP and lets a test rewrite chosen answers:
a document with an extra column, an HTML error page where JSON was expected, and so on. It also
records each request's method, path and headers, so a test can check what the client sent (report
downloads must carry no access token).

Start it before the sandbox and give the sandbox ``public_base_url=proxy.url``: the presigned
document URLs the sandbox hands out then point at the proxy too.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

# Headers that describe one hop's transfer, not the message: never forwarded as they are.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host",
               "proxy-connection", "te", "trailer", "upgrade"}


@dataclass
class Answer:
    """An answer as the proxy will send it; a rule may change any part."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def document_bytes(self) -> bytes:
        """The body, gunzipped if it is gzip (report documents are stored gzipped)."""
        return gzip.decompress(self.body) if self.body[:2] == b"\x1f\x8b" else self.body


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


# A rule sees (method, path without query, the sandbox's answer) and returns the answer to send.
Rule = Callable[[str, str, Answer], Answer]


@dataclass
class Gate:
    """Holds the first answer whose request matches ``matches(method, path_with_query)``.

    With ``partial`` the status, headers and the first half of the body are sent before holding, so the
    client is mid-download; otherwise nothing is sent. ``arrived`` is set once the answer is held, and
    the rest goes out when ``release`` is set (a client killed meanwhile just gets nothing more).
    """

    matches: Callable[[str, str], bool]
    partial: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    used: bool = False


@dataclass
class TamperingProxy:
    upstream: str = ""
    rules: list[Rule] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)
    # Answers to matching requests (method, path with query) are sent one byte every ``trickle_interval``
    # seconds, like a server that never trips a per-read socket timeout.
    trickle: Callable[[str, str], bool] | None = None
    trickle_interval: float = 0.5

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._session = requests.Session()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_DELETE = do_PUT = _forward  # noqa: N815 (http.server's naming)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="tampering-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TamperingProxy:
        self._thread.start()
        return self

    def hold(self, matches: Callable[[str, str], bool], partial: bool = False) -> Gate:
        gate = Gate(matches, partial)
        with self._lock:
            self.gates.append(gate)
        return gate

    def stop(self) -> None:
        for gate in self.gates:
            gate.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._session.close()

    def requests_to(self, fragment: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.recorded if fragment in r.path]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.recorded.append(Recorded(handler.command, path, {k.lower(): v for k, v in handler.headers.items()},
                                          body))
            rules = list(self.rules)
        upstream = self._session.request(handler.command, self.upstream + handler.path, headers=headers, data=body,
                                         timeout=60, allow_redirects=False)
        answer = Answer(upstream.status_code,
                        {k.lower(): v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP},
                        upstream.content)
        for rule in rules:
            answer = rule(handler.command, path, answer)
        gate = self._gate_for(handler.command, handler.path)
        try:
            if gate is not None and not gate.partial:
                gate.arrived.set()
                gate.release.wait()
            handler.send_response(answer.status)
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            handler.send_header("content-length", str(len(answer.body)))
            handler.end_headers()
            if self.trickle is not None and self.trickle(handler.command, handler.path):
                self._send_slowly(handler, answer.body)
                return
            half = len(answer.body) // 2 if gate is not None and gate.partial else len(answer.body)
            handler.wfile.write(answer.body[:half])
            handler.wfile.flush()
            if half < len(answer.body):
                assert gate is not None
                gate.arrived.set()
                gate.release.wait()
                handler.wfile.write(answer.body[half:])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client is gone (killed by the test while the answer was held)

    def _send_slowly(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        """One byte per ``trickle_interval`` (the pace is the fault being simulated, not a synchronisation)."""
        for index in range(len(body)):
            handler.wfile.write(body[index:index + 1])
            handler.wfile.flush()
            time.sleep(self.trickle_interval)

    def _gate_for(self, method: str, full_path: str) -> Gate | None:
        with self._lock:
            for gate in self.gates:
                if not gate.used and gate.matches(method, full_path):
                    gate.used = True
                    return gate
        return None
