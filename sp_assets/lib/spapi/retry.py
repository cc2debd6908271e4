"""What is worth retrying, and how long to wait before the next attempt.

Shared by the API calls, the LWA token exchange and report document downloads, so the three agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import requests

# Transient server states: Amazon documents 500 and 503 as retryable; 502/504 come from its gateways.
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})

# Connection refused/reset, timeouts, a body cut off mid-way: all worth another attempt.
RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds and pacing of retries.

    ``max_attempts`` counts every try of one call for 5xx and connection errors (default 6, i.e. 5
    retries); ``max_throttled_attempts`` does the same for 429s, which are expected under load and so
    get a larger budget. Delays grow ``base * 2**n`` up to ``cap`` with jitter and are divided by the
    client's ``speed``, so a sandbox running 1000x faster is also retried 1000x sooner.
    """

    max_attempts: int = 6
    max_throttled_attempts: int = 10
    base_delay: float = 1.0
    max_delay: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.max_throttled_attempts < 1:
            raise ValueError(f"max_throttled_attempts must be >= 1, got {self.max_throttled_attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must be >= 0")

    def delay(self, retry_number: int, speed: float = 1.0) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry): "equal jitter".

        Half the exponential delay is fixed, half random, so retries of many threads spread out but
        never collapse to zero.
        """
        exp = min(self.max_delay, self.base_delay * (2 ** max(0, retry_number - 1)))
        return (exp / 2 + random.uniform(0, exp / 2)) / speed
