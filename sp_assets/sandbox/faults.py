"""Fault injection chosen at start, off by default.

A spec is a comma-separated list of ``name=value``:

========== ===================================================================================
``5xx``     fraction of API calls answered 500 InternalFailure or 503 ServiceUnavailable
``drop``    fraction of API calls whose connection is dropped before a complete answer
``429``     fraction of API calls answered 429 QuotaExceeded although the bucket had a token
``expire``  fraction of API calls whose access token is expired early (403, as Amazon answers)
``fatal``   ``first``: every report (and Data Kiosk query) ends FATAL on its first request (a new
            request succeeds); a number: that fraction of reports (and queries) ends FATAL
``slow``    ``fraction:seconds``: that fraction of API calls is delayed by that many (real) seconds
``charset`` a charset name: every flat-file document is declared in it (``Content-Type``), its
            bytes unchanged (``charset=Shift_JIS`` on a German document: the wrong declaration)
``truncate`` a fraction: every report document download is cut to that share of its bytes, with a
            matching ``Content-Length`` (a clean HTTP answer carrying a gzip stream that ends early)
========== ===================================================================================

The draw is made from a generator seeded by the sandbox seed, so a single-threaded client sees the
same faults on every run.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

_KNOWN = ("5xx", "drop", "429", "expire", "fatal", "slow", "charset", "truncate")
_CHARSET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$")


@dataclass(frozen=True)
class FaultSpec:
    error_5xx: float = 0.0
    drop: float = 0.0
    throttle: float = 0.0
    expire: float = 0.0
    fatal_first: bool = False
    fatal_rate: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 0.0
    charset: str | None = None
    truncate: float | None = None

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """Parse ``"5xx=0.2,drop=0.05,429=0.1,expire=0.1,fatal=first,slow=0.1:2"``; errors name the part."""
        values: dict = {}
        for part in (text or "").split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not sep or name not in _KNOWN:
                raise ValueError(
                    f"faults: bad item {part!r}; expected name=value with name one of {', '.join(_KNOWN)}"
                )
            value = value.strip()
            if name == "fatal":
                if value.lower() == "first":
                    values["fatal_first"] = True
                else:
                    values["fatal_rate"] = _fraction(name, value)
            elif name == "slow":
                frac, _, secs = value.partition(":")
                values["slow"] = _fraction(name, frac)
                try:
                    values["slow_seconds"] = float(secs or "1")
                except ValueError:
                    raise ValueError(f"faults: slow seconds must be a number, got {secs!r}") from None
            elif name == "charset":
                if not _CHARSET_RE.match(value):
                    raise ValueError(f"faults: charset must be a charset name such as Shift_JIS, got {value!r}")
                values["charset"] = value
            elif name == "truncate":
                values["truncate"] = _fraction(name, value)
            else:
                key = {"5xx": "error_5xx", "drop": "drop", "429": "throttle", "expire": "expire"}[name]
                values[key] = _fraction(name, value)
        return cls(**values)

    @property
    def any(self) -> bool:
        return any((self.error_5xx, self.drop, self.throttle, self.expire, self.fatal_first,
                    self.fatal_rate, self.slow, self.charset, self.truncate is not None))


def _fraction(name: str, value: str) -> float:
    try:
        f = float(value)
    except ValueError:
        raise ValueError(f"faults: {name} must be a fraction between 0 and 1, got {value!r}") from None
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"faults: {name} must be a fraction between 0 and 1, got {value!r}")
    return f


class FaultInjector:
    """Draws faults for each call from a seeded generator; thread-safe."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()

    def draw(self, fraction: float) -> bool:
        if fraction <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < fraction

    def declared_content_type(self, content_type: str) -> str:
        """The ``Content-Type`` a flat-file document is served with: its own, or the ``charset`` fault's."""
        if self.spec.charset is None or not content_type.startswith("text/tab-separated-values"):
            return content_type
        return f"text/tab-separated-values; charset={self.spec.charset}"

    def choice(self, options: list):
        with self._lock:
            return self._rng.choice(options)
