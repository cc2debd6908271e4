"""Token buckets per (refresh token, operation), as Amazon's usage plans define them.

Each bucket holds ``burst`` tokens and refills at ``rate`` per second (scaled by the sandbox speed).
A call takes one token; an empty bucket means 429 QuotaExceeded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        """Take a token if one is there; never waits (the server answers 429 instead)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class QuotaBook:
    """All buckets of one sandbox; rates are Amazon's documented ones times ``speed``."""

    def __init__(self, speed: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.speed = speed
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, credential: str, operation: str, rate: float, burst: int) -> TokenBucket:
        key = (credential, operation)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(rate * self.speed, burst, self._clock)
                self._buckets[key] = bucket
            return bucket
