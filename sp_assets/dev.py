"""``make dev``: the sandbox, the Dagster webserver and the daemon on 127.0.0.1:3000.

Without credentials (environment or ``.env``) it asks for the sandbox (``SP_ASSETS_SANDBOX=1``,
inherited by the webserver, the daemon and their runs) and starts it; with credentials it starts no
sandbox and the runs use Amazon.

All three share the project's Dagster home, so the runs of ``make demo`` show in the UI, and
backfills and schedules launched from the UI run (the daemon picks them up). Ctrl-C stops all three.

The webserver and the daemon each lead their own process group (their code servers and run workers
stay in it), so the terminal's Ctrl-C reaches this process and the sandbox, not them: this process
sends each group SIGTERM, waits for every member to exit and kills what is left after a grace
period, so nothing outlives ``make dev``. A second Ctrl-C skips the grace period.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

from sp_assets.defs.paths import PROJECT_ROOT
from sp_assets.local_env import (
    prepare_dagster_home,
    real_credentials_configured,
    start_service,
    start_shared_sandbox,
    stop_services,
    venv_bin,
    wait_for_webserver,
)

HOST = os.environ.get("SP_ASSETS_UI_HOST", "127.0.0.1")
PORT = os.environ.get("SP_ASSETS_UI_PORT", "3000")
GRACE_SECONDS = 20.0


class StopRequest:
    """SIGINT and SIGTERM set ``event``; a second one sets ``hurry`` (no grace period)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.hurry = threading.Event()
        self.signals = 0
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        self.signals += 1
        if self.signals == 1:
            print(f"\n{signal.Signals(signum).name}: stopping the UI, the daemon and the sandbox "
                  "(Ctrl-C again to kill them now) ...", flush=True)
        else:
            self.hurry.set()
        self.event.set()


def check_port_free(host: str, port: int) -> None:
    """Fail at once, naming the setting, when the UI's port is taken (the webserver would say so
    only after loading the code location)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError as error:
            raise RuntimeError(f"{host}:{port} is not free ({error.strerror}); is another `make dev` running? "
                               "Choose another port with SP_ASSETS_UI_PORT") from None


def start_dagster(workspace: str) -> list[tuple[str, subprocess.Popen]]:
    return [
        ("dagster-webserver", start_service("dagster-webserver", [
            venv_bin("dagster-webserver"), "-w", workspace, "-h", HOST, "-p", PORT])),
        ("dagster-daemon", start_service("dagster-daemon", [venv_bin("dagster-daemon"), "run", "-w", workspace])),
    ]


def watch(services: list[tuple[str, subprocess.Popen]], stop: StopRequest) -> int:
    """Wait for Ctrl-C (exit code 0) or for a service to die (exit code 1, naming it)."""
    while not stop.event.is_set():
        for name, process in services:
            if process.poll() is not None:
                print(f"{name} exited with code {process.returncode}; stopping the others", file=sys.stderr)
                return 1
        stop.event.wait(1.0)
    return 0


def main() -> int:
    stop = StopRequest()
    home = prepare_dagster_home()
    sandbox = None
    services: list[tuple[str, subprocess.Popen]] = []
    url = f"http://{HOST}:{PORT}"
    try:
        check_port_free(HOST, int(PORT))
        print(f"Dagster home: {home}")
        if real_credentials_configured():
            # The user's own seller account: never start (or point anything at) the sandbox.
            print("SP-API: your credentials (environment or .env); SP_ASSETS_SANDBOX=1 uses the sandbox instead",
                  flush=True)
        else:
            sandbox = start_shared_sandbox()
            print(f"SP-API sandbox: {os.environ['SP_API_ENDPOINT']}", flush=True)
        if stop.event.is_set():
            return 0
        services = start_dagster(str(PROJECT_ROOT / "workspace.yaml"))
        if wait_for_webserver(url, services, stop=stop.event) is not None:
            print(f"\nDagster UI: {url}  (Ctrl-C stops the UI, the daemon and the sandbox)\n", flush=True)
        return watch(services, stop)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        stop_services([process for _name, process in services], GRACE_SECONDS, hurry=stop.hurry)
        if sandbox is not None:
            sandbox.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
