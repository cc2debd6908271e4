"""Page tokens and page cutting shared by the inventory, inbound, outbound and catalog backends.

A token is stateless: it carries the query, the next offset and the moment the first page was
evaluated at (``as_of``), so every later page re-evaluates the same query at the same moment (a record
that changes while a client pages can neither vanish nor appear twice) and a token issued by one
sandbox process works in another with the same seed.

Tokens look like Amazon's: base64 with ``+``, ``/`` and ``=`` in them (a fixed binary prefix makes
every token start with ``++++////`` and its length ends it in ``=``), so a client that does not percent-encode a token exactly once
fails here as it would against Amazon. A MAC keyed by the seed catches truncated or altered tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_PREFIX = b"\xfb\xef\xbe\xff\xff\xff"  # base64 "++++////"
_MAC_BYTES = 10


class InvalidPageToken(ValueError):
    """A token this sandbox did not issue, one for another operation, or one that has expired."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None
    previous_token: str | None = None


class PageTokens:
    """Issues and checks the page tokens of one API (``kind``) for one seed.

    ``clock`` is wall-clock seconds (not monotonic) so that an expiry is meaningful across processes.
    """

    def __init__(self, seed: int, kind: str, clock: Callable[[], float] = time.time) -> None:
        self.kind = kind
        self._key = f"sp-sandbox-page-token:{seed}".encode()
        self._clock = clock

    def encode(self, data: dict[str, Any]) -> str:
        body = json.dumps({"k": self.kind, "t": self._clock(), **data}, separators=(",", ":"),
                          sort_keys=True).encode()
        if (len(_PREFIX) + _MAC_BYTES + len(body)) % 3 == 0:
            body += b" "  # a length that is not a multiple of 3 makes base64 end in "=" every time
        mac = hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.b64encode(_PREFIX + mac + body).decode("ascii")

    def decode(self, token: str, name: str, max_age: float | None = None) -> dict[str, Any]:
        """The data of a token this object issued; raises :class:`InvalidPageToken` saying what is wrong."""
        try:
            raw = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidPageToken(
                f"{name} could not be decoded; send it exactly as received, percent-encoded once "
                "(it contains '+', '/' and '=')") from None
        head, mac, body = raw[:len(_PREFIX)], raw[len(_PREFIX):len(_PREFIX) + _MAC_BYTES], \
            raw[len(_PREFIX) + _MAC_BYTES:]
        expected = hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]
        if head != _PREFIX or not hmac.compare_digest(mac, expected):
            raise InvalidPageToken(f"{name} is not a token this service issued (truncated or altered?)")
        data = json.loads(body)
        if data.get("k") != self.kind:
            raise InvalidPageToken(f"{name} was issued by another operation ({data.get('k')}), not {self.kind}")
        if max_age is not None and self._clock() - float(data["t"]) > max_age:
            raise InvalidPageToken(f"{name} has expired: it is valid for {max_age:g} seconds after it was "
                                   "issued; start the query again without it")
        return data


def cut_page(records: Sequence[T], offset: int, size: int, tokens: PageTokens,
             token_data: dict[str, Any]) -> Page[T]:
    """Records ``[offset, offset+size)``, with a next token (``token_data`` + offset) if more remain."""
    end = offset + size
    next_token = tokens.encode({**token_data, "o": end}) if end < len(records) else None
    return Page(list(records[offset:end]), next_token)


def to_moment(value: str) -> datetime:
    """A moment stored in a token (ISO with offset) back as an aware datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


def from_moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def page_size(extra: dict[str, Any], api: str, default: int) -> int:
    """The page size of ``api``: Amazon's by default; ``SandboxConfig.extra["page_sizes"][api]`` overrides
    it so that tests and demos can make a small catalog page."""
    value = (extra.get("page_sizes") or {}).get(api, default)
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"page_sizes[{api!r}] must be a positive integer, got {value!r}")
    return value
