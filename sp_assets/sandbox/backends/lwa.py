"""Login with Amazon: refresh-token grants and the access tokens they issue.

Sandbox refresh tokens name their region: ``Atzr|sandbox-<na|eu|fe>-<name>``. A token only works for
marketplaces of its own region, as a real seller authorization does.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

REFRESH_TOKEN_RE = re.compile(r"^Atzr\|sandbox-(na|eu|fe)-[A-Za-z0-9_.\-]{1,64}$")


class LwaError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


@dataclass
class AccessToken:
    value: str
    refresh_token: str
    region: str
    expires_at: float

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


class LwaBackend:
    def __init__(self, lifetime_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock
        self._tokens: dict[str, AccessToken] = {}
        self._lock = threading.Lock()
        self.grants = 0

    def grant(self, form: dict[str, str]) -> dict:
        """Answer a ``grant_type=refresh_token`` request the way LWA does (OAuth2 error bodies)."""
        grant_type = form.get("grant_type", "")
        if grant_type != "refresh_token":
            raise LwaError(400, "unsupported_grant_type", "grant_type must be refresh_token")
        if not form.get("client_id") or not form.get("client_secret"):
            raise LwaError(401, "invalid_client", "Client authentication failed")
        refresh_token = form.get("refresh_token", "")
        match = REFRESH_TOKEN_RE.match(refresh_token)
        if not match:
            raise LwaError(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        token = AccessToken(
            value="Atza|" + secrets.token_urlsafe(48),
            refresh_token=refresh_token,
            region=match.group(1).upper(),
            expires_at=self._clock() + self.lifetime_seconds,
        )
        with self._lock:
            self._tokens[token.value] = token
            self.grants += 1
        return {
            "access_token": token.value,
            "token_type": "bearer",
            "expires_in": max(1, int(self.lifetime_seconds)),
            "refresh_token": refresh_token,
        }

    def lookup(self, value: str) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(value)

    def is_valid(self, token: AccessToken) -> bool:
        return not token.expired(self._clock())

    def expire_now(self, token: AccessToken) -> None:
        """Fault injection: the token stops working before its announced lifetime."""
        with self._lock:
            token.expires_at = min(token.expires_at, self._clock())
