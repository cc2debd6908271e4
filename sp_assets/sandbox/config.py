"""Settings of one sandbox process, shared by the command line and the Python entry point."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from sp_assets.sandbox.faults import FaultSpec

EXPIRY_FLOOR_SECONDS = 2.0


@dataclass
class SandboxConfig:
    """Everything that shapes a sandbox's behaviour.

    ``speed`` scales every rate, delay and expiry: 1.0 is Amazon's real numbers, 1000 makes a
    one-per-minute operation allow about 17 calls a second while keeping the bucket's burst, so
    that tests are fast and benchmarks stay exact against the bucket limit.
    """

    seed: int = 7
    speed: float = 1.0
    orders_per_day: int = 300
    faults: FaultSpec | str = ""
    state_dir: Path | str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    allow_remote: bool = False
    # The base URL put into report document links; defaults to the address the server binds.
    public_base_url: str | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.faults, str):
            self.faults = FaultSpec.parse(self.faults)
        if not (self.speed > 0):
            raise ValueError(f"speed must be a positive number (1 = Amazon's real rates), got {self.speed!r}")
        if int(self.orders_per_day) < 0:
            raise ValueError(f"orders_per_day must be >= 0, got {self.orders_per_day!r}")
        self.orders_per_day = int(self.orders_per_day)
        if self.state_dir is not None:
            self.state_dir = Path(self.state_dir)
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is not a loopback address; the sandbox binds 127.0.0.1 by default "
                "and only binds another address when explicitly allowed (--allow-remote)"
            )

    def scaled(self, seconds: float) -> float:
        """A real-world duration (report delay, bucket refill) scaled by ``speed``."""
        return seconds / self.speed

    def scaled_expiry(self, seconds: float) -> float:
        """A lifetime (access token, page token, document URL) scaled by ``speed``, but never shorter
        than ``EXPIRY_FLOOR_SECONDS`` (or the real lifetime, if that is shorter).

        A token that expires before a round trip can finish tests nothing: at speed 1000 Amazon's
        30-second inventory page token would last 30 ms, less than a busy machine needs to send
        the next request.
        """
        return max(seconds / self.speed, min(seconds, EXPIRY_FLOOR_SECONDS))


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
