"""Helpers tests share: the sandbox's test credentials and plain-HTTP callers with an access token.

Sandbox tests talk to the sandbox with ``requests`` directly, never through the project's client,
so a client bug cannot hide a sandbox bug (or the reverse).

An access token lives ``3600 s / speed`` (2 s at speed 2000), so a test that holds one token for
many calls fails on a busy machine, where those calls take longer. ``SandboxCaller`` therefore asks
for a new token whenever the sandbox itself answers that the one it sent has expired: expiry is
judged by the sandbox's clock, never by a guess about how fast this machine is. Only tests about
access tokens themselves use the raw ``access_token``.
"""

from __future__ import annotations

from typing import Any, Protocol

import requests

SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret-do-not-log"
SANDBOX_REFRESH_TOKENS = {"NA": "Atzr|sandbox-na-demo", "EU": "Atzr|sandbox-eu-demo", "FE": "Atzr|sandbox-fe-demo"}

# What the sandbox (as Amazon) says in a 403 for an access token past its lifetime.
EXPIRED_DETAIL = "The access token you provided has expired."
# A caller re-grants at most this many times for one call before it gives up.
MAX_GRANTS_PER_CALL = 5


class Sandbox(Protocol):
    """A ``SandboxServer`` or ``SandboxProcess``: anything with the two URLs a caller needs."""

    @property
    def base_url(self) -> str: ...

    @property
    def token_url(self) -> str: ...


def access_token(sb: Sandbox, refresh_token: str) -> str:
    """An access token for ``refresh_token`` from the sandbox's LWA endpoint."""
    answer = requests.post(sb.token_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                                "client_id": SANDBOX_CLIENT_ID,
                                                "client_secret": SANDBOX_CLIENT_SECRET}, timeout=30)
    answer.raise_for_status()
    return answer.json()["access_token"]


def says_token_expired(answer: requests.Response) -> bool:
    """True when the sandbox refused a call because its access token had expired (by the sandbox's clock)."""
    if answer.status_code != 403:
        return False
    try:
        errors = answer.json().get("errors") or []
    except ValueError:
        return False
    return any(isinstance(e, dict) and e.get("details") == EXPIRED_DETAIL for e in errors)


class SandboxCaller:
    """Calls one sandbox as one seller (refresh token) and always sends a token the sandbox accepts.

    The token is granted on first use and granted again when the sandbox answers that it expired; the
    refused call is then sent again. That resend is safe for every operation, POST included: the sandbox
    checks the token before anything else (no quota taken, no report created), as Amazon does.
    """

    def __init__(self, sb: Sandbox, refresh_token: str) -> None:
        self.base_url = sb.base_url
        self._sb = sb
        self.refresh_token = refresh_token
        self._token: str | None = None
        self.grants = 0

    def __repr__(self) -> str:
        return f"SandboxCaller({self.base_url!r}, {self.refresh_token!r})"

    @property
    def token(self) -> str:
        """The current access token (granted now if there is none yet)."""
        if self._token is None:
            self._token = access_token(self._sb, self.refresh_token)
            self.grants += 1
        return self._token

    @property
    def headers(self) -> dict[str, str]:
        """The header of the current token, for a test that builds its own request."""
        return {"x-amz-access-token": self.token}

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> requests.Response:
        """``requests.request`` with the seller's token; ``path_or_url`` is a path on the sandbox or a URL."""
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        extra_headers = kwargs.pop("headers", None) or {}
        kwargs.setdefault("timeout", 30)
        for _ in range(MAX_GRANTS_PER_CALL):
            answer = requests.request(method, url, headers={**extra_headers, **self.headers}, **kwargs)
            if not says_token_expired(answer):
                return answer
            self._token = None
        raise AssertionError(f"{method} {url}: the sandbox said a fresh access token had expired "
                             f"{MAX_GRANTS_PER_CALL} times in a row")

    def get(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path_or_url, **kwargs)

    def post(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path_or_url, **kwargs)

    def delete(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path_or_url, **kwargs)


def caller(sb: Sandbox, refresh_token: str) -> SandboxCaller:
    """A ``SandboxCaller`` for ``refresh_token`` on ``sb``."""
    return SandboxCaller(sb, refresh_token)
