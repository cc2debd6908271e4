"""LWA access tokens: fetched with the refresh token, cached, refreshed before they expire.

One ``AccessTokenProvider`` per (token URL, credential) in the process (``shared_provider``), so the
clients of all marketplaces of one seller account share one access token instead of each fetching
its own. A lock makes sure only one thread refreshes at a time; the others wait and reuse its token.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from .credentials import LWACredentials
from .deadline import deadline
from .errors import AuthError, SPAPIError, foreign_error, snippet
from .redaction import Secret, get_logger
from .retry import RETRYABLE_EXCEPTIONS, RETRYABLE_STATUSES, RetryPolicy
from .sessions import new_session

log = get_logger(__name__)

DEFAULT_MARGIN_SECONDS = 60.0
DEFAULT_MARGIN_FRACTION = 0.1
# What an HTTP header value may be without requests refusing it (and quoting it in InvalidHeader).
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class AccessTokenProvider:
    """Hands out a valid access token for one credential.

    The token is refreshed when less than ``min(margin_seconds, margin_fraction * lifetime)`` of its
    life is left: 60 s of a real one-hour token, but only 10% of a 3.6 s sandbox token (where a fixed
    60 s margin would mean refreshing on every call). ``invalidate(token)`` forces the next ``get()`` to
    refresh, after a 403 says the token expired early; it is a no-op when another thread already
    replaced that token, so a burst of 403s causes one refresh, not one each.
    """

    def __init__(
        self,
        credentials: LWACredentials,
        token_url: str,
        *,
        retry: RetryPolicy | None = None,
        speed: float = 1.0,
        timeout: float | tuple[float, float] = (10.0, 30.0),
        deadline_s: float = 60.0,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
        margin_fraction: float = DEFAULT_MARGIN_FRACTION,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._credentials = credentials
        self._token_url = token_url
        self._retry = retry or RetryPolicy()
        self._speed = speed
        self._timeout = timeout
        self._deadline_s = deadline_s
        self._margin_seconds = margin_seconds
        self._margin_fraction = margin_fraction
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._session = new_session()
        self._token: Secret | None = None
        self._refresh_at = 0.0
        self._expires_at = 0.0
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"AccessTokenProvider(token_url={self._token_url!r}, credential={self._credentials.fingerprint})"

    def get(self) -> Secret:
        """A token that is valid for at least the margin; refreshes (under the lock) when needed."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._refresh_locked()
            assert self._token is not None
            return self._token

    def invalidate(self, token: Secret) -> None:
        """Drop ``token`` if it is still the cached one (a 403 said it expired or is invalid)."""
        with self._lock:
            if self._token is not None and self._token == token:
                self._token = None

    def _refresh_locked(self) -> None:
        body = self._exchange()
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthError(f"LWA token answer from {self._token_url} has no access_token")
        Secret(access)  # registered for scrubbing before anything can quote it
        if not _HEADER_SAFE.fullmatch(access):
            raise AuthError(f"LWA token answer from {self._token_url} has an access_token with whitespace or "
                            f"control characters, which cannot be sent as the x-amz-access-token header; "
                            f"allowed: printable ASCII without spaces")
        lifetime = _lifetime(body.get("expires_in"))
        now = self._clock()
        margin = min(self._margin_seconds, self._margin_fraction * lifetime)
        self._token = Secret(access)
        self._expires_at = now + lifetime
        self._refresh_at = now + lifetime - margin
        self.refreshes += 1
        log.debug("LWA access token refreshed for credential %s; expires in %.3fs",
                  self._credentials.fingerprint, lifetime)

    def _form(self) -> dict[str, str]:
        return {
            "grant_type": "refresh_token",
            "refresh_token": self._credentials.refresh_token.reveal(),
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret.reveal(),
        }

    def _exchange(self) -> dict[str, Any]:
        """POST the refresh token; retry transient failures; raise ``AuthError`` on a real refusal."""
        attempt = 0
        while True:
            attempt += 1
            started = self._clock()
            try:
                with deadline(self._deadline_s):
                    response = self._session.post(self._token_url, data=self._form(), timeout=self._timeout)
            except RETRYABLE_EXCEPTIONS as exc:
                if attempt >= self._retry.max_attempts:
                    raise AuthError(
                        f"LWA token request to {self._token_url} failed after {attempt} attempts: "
                        f"{type(exc).__name__}"
                    ) from None
                self._pause(attempt, f"{type(exc).__name__}")
                continue
            except SPAPIError:
                raise
            except Exception as exc:  # InvalidURL, InvalidHeader...: its text may quote the posted form
                raise foreign_error(exc, f"LWA token request to {self._token_url}") from None
            log.debug("POST %s -> %s in %.3fs", self._token_url, response.status_code, self._clock() - started)
            if response.status_code in RETRYABLE_STATUSES or response.status_code == 429:
                if attempt >= self._retry.max_attempts:
                    raise AuthError(
                        f"LWA token request to {self._token_url} failed after {attempt} attempts: "
                        f"HTTP {response.status_code}",
                        status=response.status_code,
                    )
                self._pause(attempt, f"HTTP {response.status_code}")
                continue
            return self._parse(response)

    def _pause(self, attempt: int, why: str) -> None:
        delay = self._retry.delay(attempt, self._speed)
        log.debug("LWA token request: %s, retrying in %.3fs", why, delay)
        self._sleep(delay)

    def _parse(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise AuthError(
                f"LWA token endpoint {self._token_url} answered HTTP {response.status_code} with a non-JSON "
                f"body: {snippet(response.text)!r}",
                status=response.status_code,
            ) from None
        if response.status_code != 200 or not isinstance(body, dict):
            error = str(body.get("error", "")) if isinstance(body, dict) else ""
            description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
            raise AuthError(
                f"LWA token endpoint {self._token_url} refused the refresh token: HTTP {response.status_code} "
                f"{error}: {description} (check LWA_APP_ID, LWA_CLIENT_SECRET and SP_API_REFRESH_TOKEN)",
                status=response.status_code,
                error=error,
                description=description,
            )
        return body


def _lifetime(expires_in: object) -> float:
    """Seconds the token lives; Amazon sends 3600. A missing value is taken as a short 60 s."""
    try:
        value = float(expires_in)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 60.0
    return value if value > 0 else 60.0


ProviderKey = tuple[str, str, str, str, float]
_providers: dict[ProviderKey, AccessTokenProvider] = {}
_providers_lock = threading.Lock()


def shared_provider(
    credentials: LWACredentials,
    token_url: str,
    *,
    retry: RetryPolicy | None = None,
    speed: float = 1.0,
) -> AccessTokenProvider:
    """The process-wide provider for this credential and token URL (created on first use)."""
    key = (token_url, credentials.client_id, credentials.client_secret.fingerprint(), credentials.fingerprint,
           float(speed))
    with _providers_lock:
        provider = _providers.get(key)
        if provider is None:
            provider = AccessTokenProvider(credentials, token_url, retry=retry, speed=speed)
            _providers[key] = provider
        return provider
