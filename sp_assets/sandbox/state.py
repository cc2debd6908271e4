"""The state of one running sandbox: settings, the seller, access tokens, buckets, faults, counters.

Every route module receives this object; per-API backends hang off ``backends`` under their API name
so that one API's module never needs to edit another's.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sp_assets.sandbox.backends.lwa import LwaBackend
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.faults import FaultInjector, FaultSpec
from sp_assets.sandbox.quota import QuotaBook
from sp_assets.sandbox.seller import SyntheticSeller


class Stats:
    """Counters per operation and outcome; served at ``/_sandbox/stats`` for out-of-process tests."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def get(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0)

    def calls(self, operation: str) -> int:
        """Calls that reached the operation's handler (not throttled, not faulted)."""
        return self.get(f"{operation}.served")

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class SandboxState:
    config: SandboxConfig
    seller: SyntheticSeller
    lwa: LwaBackend
    quota: QuotaBook
    faults: FaultInjector
    stats: Stats = field(default_factory=Stats)
    backends: dict[str, Any] = field(default_factory=dict)
    base_url: str = ""

    @classmethod
    def build(cls, config: SandboxConfig) -> SandboxState:
        spec = config.faults if isinstance(config.faults, FaultSpec) else FaultSpec.parse(config.faults)
        return cls(
            config=config,
            seller=SyntheticSeller(seed=config.seed, orders_per_day=config.orders_per_day),
            lwa=LwaBackend(lifetime_seconds=config.scaled_expiry(3600.0)),
            quota=QuotaBook(config.speed),
            faults=FaultInjector(spec, config.seed),
        )

    @property
    def public_base_url(self) -> str:
        """The base URL for links the sandbox hands out (report documents)."""
        return (self.config.public_base_url or self.base_url).rstrip("/")
