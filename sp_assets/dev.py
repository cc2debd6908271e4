"""``make dev``: the sandbox, the Dagster webserver and the daemon on 127.0.0.1:3000.

All three share the project's Dagster home, so the runs of ``make demo`` show in the UI, and
backfills and schedules launched from the UI run (the daemon picks them up). Ctrl-C stops all three.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sp_assets.defs.paths import PROJECT_ROOT
from sp_assets.local_env import prepare_dagster_home, start_shared_sandbox

HOST = os.environ.get("SP_ASSETS_UI_HOST", "127.0.0.1")
PORT = os.environ.get("SP_ASSETS_UI_PORT", "3000")


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def main() -> int:
    home = prepare_dagster_home()
    sandbox = start_shared_sandbox()
    workspace = str(PROJECT_ROOT / "workspace.yaml")
    children = [
        subprocess.Popen([_bin("dagster-webserver"), "-w", workspace, "-h", HOST, "-p", PORT], cwd=PROJECT_ROOT),
        subprocess.Popen([_bin("dagster-daemon"), "run", "-w", workspace], cwd=PROJECT_ROOT),
    ]
    print(f"Dagster home: {home}")
    if sandbox is not None:
        print(f"SP-API sandbox: {sandbox.base_url}")
    print(f"Dagster UI: http://{HOST}:{PORT}  (Ctrl-C stops the UI, the daemon and the sandbox)", flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        if sandbox is not None:
            sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
