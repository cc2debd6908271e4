"""Per-family call counters that assets put in their metadata (calls, retries, 429s, quota waits...).

They answer "why was this run slow" without reading logs: a run with 40 429s and 300 s of quota wait
is quota-bound; one with many 5xx retries had an unhealthy upstream.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields


@dataclass
class FamilyStats:
    """Counters of one API family (orders, reports...). ``calls`` counts ``request()`` invocations;
    HTTP requests sent = calls + retries."""

    calls: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    token_refreshes_on_403: int = 0
    failed_calls: int = 0
    quota_wait_seconds: float = 0.0

    def as_dict(self) -> dict[str, int | float]:
        out: dict[str, int | float] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = round(value, 3) if isinstance(value, float) else value
        return out

    def add(self, other: FamilyStats, sign: int = 1) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + sign * getattr(other, f.name))


class CallStats:
    """Thread-safe counters per API family, one object per client instance.

    ``snapshot()`` returns an independent copy; ``since(earlier)`` the difference, so an asset can
    report the calls of its own run on a shared client; ``reset()`` zeroes everything.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: dict[str, FamilyStats] = {}

    def record(self, family: str, **increments: int | float) -> None:
        """Add ``increments`` (field name -> amount) to ``family``'s counters."""
        with self._lock:
            stats = self._families.setdefault(family, FamilyStats())
            for name, amount in increments.items():
                setattr(stats, name, getattr(stats, name) + amount)

    def family(self, family: str) -> FamilyStats:
        """A copy of one family's counters (zeros when it was never called)."""
        with self._lock:
            return _copy(self._families.get(family, FamilyStats()))

    def total(self) -> FamilyStats:
        """All families added up."""
        total = FamilyStats()
        with self._lock:
            for stats in self._families.values():
                total.add(stats)
        return total

    def snapshot(self) -> CallStats:
        copy = CallStats()
        with self._lock:
            for name, stats in self._families.items():
                copy._families[name] = _copy(stats)
        return copy

    def since(self, earlier: CallStats) -> CallStats:
        """Counters accumulated after ``earlier`` was snapshotted."""
        diff = self.snapshot()
        for name, stats in earlier.snapshot()._families.items():
            diff._families.setdefault(name, FamilyStats()).add(stats, sign=-1)
        return diff

    def reset(self) -> None:
        with self._lock:
            self._families.clear()

    def as_dict(self) -> dict[str, dict[str, int | float]]:
        """``{family: {counter: value}}`` plus ``"total"``; plain types, ready for asset metadata."""
        with self._lock:
            out = {name: stats.as_dict() for name, stats in sorted(self._families.items())}
        out["total"] = self.total().as_dict()
        return out

    def __repr__(self) -> str:
        return f"CallStats({self.as_dict()})"


def _copy(stats: FamilyStats) -> FamilyStats:
    return FamilyStats(**{f.name: getattr(stats, f.name) for f in fields(stats)})
