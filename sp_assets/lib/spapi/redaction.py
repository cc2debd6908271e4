"""Keep secrets out of logs, reprs and exception messages.

Two layers, because one is never enough with secrets:

1. ``Secret`` wraps a refresh token, client secret or access token; its ``repr``/``str``/``format``
   print ``'***'``, so an f-string or a dataclass repr cannot leak it. Only ``reveal()`` returns the
   value, and only the code that puts it on the wire calls it.
2. Every ``Secret`` registers its value here, and ``scrub(text)`` replaces any registered value in a
   text. Error messages built from server answers (an LWA error might echo the refresh token) and the
   client's log records go through it.

An echo rarely quotes a secret verbatim: a token endpoint or proxy that answers 400 with the posted
form shows it URL-encoded (``Atzr%7C...``, ``+`` for a space), and a server that truncates or masks
shows only its start (all but the last 4 characters). So each value is registered in its raw and
URL-encoded forms (``quote`` and ``quote_plus``, upper- and lower-case escapes), and ``scrub``
replaces every run of at least ``_MIN_SCRUB_LENGTH`` leading characters of any form. Scrub first,
truncate after (``scrub_then_cut``): cutting first could leave a prefix too short to recognise.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from collections import OrderedDict
from urllib.parse import quote, quote_plus

REDACTED = "***"
# Short values are not scrubbed: replacing "a" everywhere would garble messages and protect nothing.
_MIN_SCRUB_LENGTH = 8

# Values are kept (strongly: an exception text can outlive the Secret object that held the value),
# bounded so a long-running process that refreshes access tokens all day cannot grow without limit.
_MAX_KNOWN = 10_000
_lock = threading.Lock()
_known: OrderedDict[str, None] = OrderedDict()
# Every form of every known value, by its first _MIN_SCRUB_LENGTH characters (kept up to date on
# registration and eviction, so a process refreshing tokens all day never rebuilds it).
_by_prefix: dict[str, list[str]] = {}
_longest_form = 0


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
            _register(value)

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


def _register(value: str) -> None:
    global _longest_form
    with _lock:
        if value in _known:
            _known.move_to_end(value)
            return
        _known[value] = None
        for form in secret_forms(value):
            forms = _by_prefix.setdefault(form[:_MIN_SCRUB_LENGTH], [])
            forms.append(form)
            forms.sort(key=len, reverse=True)
            _longest_form = max(_longest_form, len(form))
        while len(_known) > _MAX_KNOWN:
            evicted, _ = _known.popitem(last=False)
            for form in secret_forms(evicted):
                forms = _by_prefix.get(form[:_MIN_SCRUB_LENGTH], [])
                if form in forms:
                    forms.remove(form)
                if not forms:
                    _by_prefix.pop(form[:_MIN_SCRUB_LENGTH], None)


def known_secret_values() -> list[str]:
    """The registered values, longest first (so a token containing another is replaced whole)."""
    with _lock:
        values = list(_known)
    return sorted(values, key=len, reverse=True)


def secret_forms(value: str) -> set[str]:
    """How ``value`` may appear in an echo: raw, and URL-encoded as a query or a posted form would be.

    Escapes come in upper case (Python, ``requests``) and lower case (some servers re-encode).
    """
    encoded = {quote(value, safe=""), quote(value), quote_plus(value)}
    lower = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), form) for form in encoded}
    return {value, *encoded, *lower}


def _common_prefix_length(text: str, start: int, form: str) -> int:
    length = 0
    limit = min(len(form), len(text) - start)
    while length < limit and text[start + length] == form[length]:
        length += 1
    return length


def scrub(text: str) -> str:
    """Replace every registered secret found in ``text`` with ``***``, in any of its echoed forms.

    Any run of at least ``_MIN_SCRUB_LENGTH`` characters that starts a form of a secret is replaced,
    so a truncated or masked echo (the first 40 of 44 characters) is caught as well as a whole one.
    """
    if not text or len(text) < _MIN_SCRUB_LENGTH:
        return text
    pieces: list[str] = []
    position = start = 0
    with _lock:
        if not _by_prefix:
            return text
        while start <= len(text) - _MIN_SCRUB_LENGTH:
            forms = _by_prefix.get(text[start:start + _MIN_SCRUB_LENGTH])
            if forms is None:
                start += 1
                continue
            length = max(_common_prefix_length(text, start, form) for form in forms)
            pieces.append(text[position:start])
            pieces.append(REDACTED)
            position = start = start + length
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)


def scrub_then_cut(text: str, limit: int) -> str:
    """``text`` scrubbed, then cut to ``limit`` characters (with ``...``): never the other way round."""
    text = text.strip()
    # Only the head can show: scrub it with room for the longest form that could start inside it.
    head = limit + _longest_form + 1
    cut = len(text) > head
    text = scrub(text[:head]).strip()
    return text if len(text) <= limit and not cut else text[:limit] + "..."


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
