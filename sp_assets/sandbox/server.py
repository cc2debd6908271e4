"""Start and stop a sandbox: in a background thread (tests, the demo) or as its own process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import uvicorn

from sp_assets.sandbox.app import build_app
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.state import SandboxState

READY_PREFIX = "SP-API sandbox ready at "


class SandboxServer:
    """A sandbox on a free loopback port, served by uvicorn in a daemon thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``seller`` and ``stats`` are the
    live server's objects, so tests can compare what they fetched with the ground truth.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState.build(self.config)
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.state.base_url

    @property
    def token_url(self) -> str:
        return self.base_url + "/auth/o2/token"

    @property
    def seller(self):
        return self.state.seller

    @property
    def stats(self):
        return self.state.stats

    def backend(self, name: str):
        return self.state.backends[name]

    def start(self, timeout: float = 30.0) -> SandboxServer:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose protocol is TCP, and
        # without it every answer on a kept-alive connection waits ~40 ms for Nagle's algorithm.
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        sock.listen(512)
        self._socket = sock
        port = sock.getsockname()[1]
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        self.state.base_url = f"http://{host}:{port}"
        app = build_app(self.state)
        uv_config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                   timeout_keep_alive=30, limit_concurrency=1000)
        self._server = uvicorn.Server(uv_config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._run, name="sp-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the SP-API sandbox did not start")
            time.sleep(0.01)
        return self

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SandboxProcess:
    """A sandbox in its own process (``python -m sp_assets.sandbox``), for crash and restart tests.

    ``args`` are command-line flags; the base URL is read from the ready line the process prints.
    """

    def __init__(self, args: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.args = list(args or [])
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    @property
    def token_url(self) -> str:
        return self.base_url + "/auth/o2/token"

    def start(self, timeout: float = 60.0) -> SandboxProcess:
        cmd = [sys.executable, "-m", "sp_assets.sandbox", "--port", "0", *self.args]
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=env, cwd=str(Path(__file__).resolve().parents[2]))
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith(READY_PREFIX):
                self.base_url = line[len(READY_PREFIX):].strip()
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.stop()
        raise RuntimeError("the SP-API sandbox process did not print its ready line")

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for _ in self.process.stdout:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
