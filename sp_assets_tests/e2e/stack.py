"""``make dev`` as a test fixture: the real sandbox, webserver and daemon, and their clean-up.

``DevStack`` runs ``python -m sp_assets.dev`` (what ``make dev`` runs) in its own session with a
temporary Dagster home, talks to the webserver's GraphQL API the way the UI does, stops the stack
with a terminal-style Ctrl-C, and finds every process it left behind: each one carries the unique
temporary ``DAGSTER_HOME`` in its environment, so none can hide in another process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sp_assets.defs.paths import PROJECT_ROOT
from sp_assets.local_env import wait_for_webserver
from sp_assets.local_postgres import free_port
from sp_assets_tests.reliability.proxy import TamperingProxy

POLL_SECONDS = 0.5  # how often a test asks the webserver; each wait has its own deadline


def processes_with_env(name: str, value: str) -> list[tuple[int, str]]:
    """(pid, command line) of every process whose environment has ``name=value`` (Linux /proc)."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if wanted not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            state = next((line.split()[1] for line in (entry / "status").read_text().splitlines()
                          if line.startswith("State:")), "?")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if state != "Z":  # a zombie has already exited; its parent just has not reaped it yet
            found.append((int(entry.name), command))
    return found


class DevStack:
    """``python -m sp_assets.dev`` with its own Dagster home, DuckDB file, data folder and port."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.home = tmp_path / "dagster_home"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "make_dev.log"
        self.env = {**env, "DAGSTER_HOME": str(self.home), "SP_ASSETS_UI_HOST": "127.0.0.1",
                    "SP_ASSETS_UI_PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        self.process: subprocess.Popen | None = None

    # ------------------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 180.0) -> dict:
        """Start the stack and wait until the UI answers ``/server_info``; returns its answer."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "sp_assets.dev"], cwd=PROJECT_ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            info = wait_for_webserver(self.url, [("make dev", self.process)], timeout=timeout)
        except RuntimeError as error:
            raise AssertionError(f"{error}\n{self.log_tail()}") from None
        assert info is not None
        return info

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to the foreground process group (dev and the sandbox)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGINT)

    def wait_stopped(self, timeout: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"make dev did not stop within {timeout:.0f}s of Ctrl-C\n{self.log_tail()}") from None

    def leftovers(self, timeout: float = 15.0) -> list[tuple[int, str]]:
        """Processes of this stack still alive after ``timeout`` (each exiting one is given the time)."""
        deadline = time.monotonic() + timeout
        while True:
            found = processes_with_env("DAGSTER_HOME", str(self.home))
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def kill_everything(self) -> None:
        """Whatever happened: SIGKILL the stack's session and any process that carries its Dagster home."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
        for pid, _command in processes_with_env("DAGSTER_HOME", str(self.home)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "--- make dev log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    # -------------------------------------------------------------------------------- GraphQL
    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                                 timeout=60)
        assert response.status_code == 200, f"GraphQL HTTP {response.status_code}: {response.text[:2000]}\n{self.log_tail()}"
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


# ------------------------------------------------------------- the shared stack (conftest.py)
@dataclass
class SharedStack:
    stack: DevStack
    proxy: TamperingProxy
    server_info: dict  # the webserver's /server_info
    postgres: dict[str, str] | None  # the DAGSTER_PG_* settings; None on the default profile
    no_postgres: str  # why not, when ``postgres`` is None
