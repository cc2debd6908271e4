"""The embedded SP-API sandbox, used only when asked for (``SP_ASSETS_SANDBOX=1``).

With the request and no ``SP_API_ENDPOINT``, the first asset that needs the API in a process starts
one sandbox for that process (a thread on a free loopback port), so nothing has to be started by
hand. Its report state lives under the project's data folder, so a run process that restarts finds
its reports again. ``make demo`` and ``make dev`` (without credentials) ask for the sandbox, start
one shared sandbox process instead and export ``SP_API_ENDPOINT``; then every step process talks to
that one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sp_assets.defs.paths import data_dir
from sp_assets.lib.spapi.credentials import LWACredentials, Secret
from sp_assets.lib.spapi.endpoints import validate_url

if TYPE_CHECKING:  # the sandbox is the optional `sandbox` extra: imported only when one is started
    from sp_assets.sandbox.server import SandboxServer

SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.sp-assets-sandbox"
SANDBOX_CLIENT_SECRET = "sp-assets-sandbox-secret"
DEFAULT_SPEED = 100.0
DEFAULT_ORDERS_PER_DAY = 100

_lock = threading.Lock()
_server: SandboxServer | None = None


def sandbox_speed() -> float:
    """``SP_SANDBOX_SPEED``: how much faster than Amazon the sandbox (and so the client) runs."""
    raw = os.environ.get("SP_SANDBOX_SPEED", "").strip()
    if not raw:
        return DEFAULT_SPEED
    try:
        speed = float(raw)
    except ValueError:
        raise ValueError(f"SP_SANDBOX_SPEED: {raw!r} must be a positive number (1 = Amazon's real rates)") from None
    if speed <= 0:
        raise ValueError(f"SP_SANDBOX_SPEED: {raw!r} must be a positive number (1 = Amazon's real rates)")
    return speed


def sandbox_credentials(region: str, account: str | None = None) -> LWACredentials:
    """The sandbox's demo seller account for a region; a sandbox refresh token only works in its region.

    A named ``account`` gets its own token (``Atzr|sandbox-na-acme``), so its quota buckets are its own
    as on Amazon; the sandbox serves one synthetic seller, so every account sees the same data.
    """
    name = account or "demo"
    return LWACredentials(SANDBOX_CLIENT_ID, Secret(SANDBOX_CLIENT_SECRET), Secret(f"Atzr|sandbox-{region.lower()}-{name}"))


def _sandbox_classes() -> tuple[type, type]:
    """The sandbox's classes; a clear error where the `sandbox` extra (starlette, uvicorn) is missing."""
    try:
        from sp_assets.sandbox.config import SandboxConfig
        from sp_assets.sandbox.server import SandboxServer
    except ModuleNotFoundError as error:
        raise RuntimeError(
            f"SP_ASSETS_SANDBOX=1 asks for the embedded SP-API sandbox, but {error.name!r} is not installed: the "
            f"sandbox is the optional extra `pip install 'sp_assets[sandbox]'` (make demo, make dev and make test "
            f"install it). Nothing was fetched or written.") from None
    return SandboxConfig, SandboxServer


def sandbox_base_url() -> str:
    """``SP_API_ENDPOINT`` when a shared sandbox runs; otherwise this process's embedded one."""
    shared = os.environ.get("SP_API_ENDPOINT", "").strip()
    if shared:
        return validate_url(shared, "SP_API_ENDPOINT").rstrip("/")
    global _server
    with _lock:
        if _server is None:
            SandboxConfig, SandboxServer = _sandbox_classes()
            state_dir = Path(os.environ.get("SP_SANDBOX_STATE_DIR") or data_dir() / "sandbox_state")
            orders = int(os.environ.get("SP_SANDBOX_ORDERS_PER_DAY") or DEFAULT_ORDERS_PER_DAY)
            _server = SandboxServer(SandboxConfig(seed=int(os.environ.get("SP_SANDBOX_SEED") or 7),
                                                  speed=sandbox_speed(), orders_per_day=orders,
                                                  state_dir=state_dir)).start()
        return _server.base_url
