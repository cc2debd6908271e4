"""Keep secrets out of logs, reprs and exception messages.

Two layers, because one is never enough with secrets:

1. ``Secret`` wraps a refresh token, client secret or access token; its ``repr``/``str``/``format``
   print ``'***'``, so an f-string or a dataclass repr cannot leak it. Only ``reveal()`` returns the
   value, and only the code that puts it on the wire calls it.
2. Every ``Secret`` registers its value here, and ``scrub(text)`` replaces any registered value in a
   text. Error messages built from server answers (an LWA error might echo the refresh token) and the
   client's log records go through it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections import OrderedDict

REDACTED = "***"
# Short values are not scrubbed: replacing "a" everywhere would garble messages and protect nothing.
_MIN_SCRUB_LENGTH = 8

# Values are kept (strongly: an exception text can outlive the Secret object that held the value),
# bounded so a long-running process that refreshes access tokens all day cannot grow without limit.
_MAX_KNOWN = 10_000
_lock = threading.Lock()
_known: OrderedDict[str, None] = OrderedDict()


class Secret:
    """A secret string whose printed forms are redacted.

    Equality compares values in constant time; the hash is of a digest, never the raw value.
    ``fingerprint()`` gives a stable, non-reversible id (for cache and quota keys, pool names).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"Secret needs a str, got {type(value).__name__}")
        self._value = value
        if len(value) >= _MIN_SCRUB_LENGTH:
            with _lock:
                _known[value] = None
                _known.move_to_end(value)
                while len(_known) > _MAX_KNOWN:
                    _known.popitem(last=False)

    def reveal(self) -> str:
        """The real value, for the one place that sends it over the wire."""
        return self._value

    def fingerprint(self, length: int = 16) -> str:
        """First ``length`` hex chars of SHA-256 of the value: safe to log, not reversible."""
        return hashlib.sha256(self._value.encode("utf-8")).hexdigest()[:length]

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))

    def __hash__(self) -> int:
        return hash(self.fingerprint(32))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the value to disk (Dagster pickles run config in places): refuse.
        raise TypeError("a Secret cannot be pickled; pass credentials by environment variable name instead")


def known_secret_values() -> list[str]:
    """The registered values, longest first (so a token containing another is replaced whole)."""
    with _lock:
        values = list(_known)
    return sorted(values, key=len, reverse=True)


def scrub(text: str) -> str:
    """Replace every registered secret value found in ``text`` with ``***``."""
    if not text:
        return text
    for value in known_secret_values():
        if value in text:
            text = text.replace(value, REDACTED)
    return text


class ScrubbingFilter(logging.Filter):
    """A logging filter that scrubs secrets from the formatted message and drops the args.

    Installed on the client's logger, so even a careless ``log.debug("%s", token.reveal())`` added
    later prints ``***``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            return True
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


def get_logger(name: str) -> logging.Logger:
    """A module logger with the ``ScrubbingFilter`` attached (filters do not inherit to children)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, ScrubbingFilter) for f in logger.filters):
        logger.addFilter(ScrubbingFilter())
    return logger
