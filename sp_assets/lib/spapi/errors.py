"""Typed errors of the SP-API client.

Callers (assets, the report lifecycle) branch on the type: a ``NotFoundError`` for a report document
means something else than a ``ThrottledError`` after all retries. Every error that comes from an
answer carries Amazon's ``code``, ``message``, ``details`` and the ``x-amzn-RequestId`` (what Amazon
support asks for). All message texts go through ``scrub`` so no secret ends up in a traceback.
"""

from __future__ import annotations

from typing import Any

from .redaction import scrub, scrub_then_cut

BODY_SNIPPET_CHARS = 200


class SPAPIError(Exception):
    """Base class of everything this package raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(scrub(message))


class ConfigError(SPAPIError, ValueError):
    """Bad configuration (endpoint URL, speed, margins...); the message names the field."""


class MissingCredentialsError(ConfigError):
    """No value for a credential; the message lists every environment variable that was looked at."""


class AuthError(SPAPIError):
    """The LWA token exchange failed (``invalid_grant``, ``invalid_client``, a non-JSON answer...)."""

    def __init__(self, message: str, *, status: int | None = None, error: str = "", description: str = "") -> None:
        self.status = status
        self.error = scrub(error)
        self.description = scrub(description)
        super().__init__(message)


class TransportError(SPAPIError):
    """The connection failed (reset, refused, timeout) on every attempt."""

    def __init__(self, message: str, *, operation: str, attempts: int) -> None:
        self.operation = operation
        self.attempts = attempts
        super().__init__(message)


class PaginationError(SPAPIError):
    """The server sent a continuation token it had sent before, or more pages than the window can hold."""


class DeadlineExceededError(TransportError):
    """One request took longer than its overall deadline (a server trickling its answer byte by byte).

    Raised only after the client's own retries; each attempt that ran out of time counts as a
    transient failure, like a connection reset.
    """


class ForeignError(SPAPIError):
    """An exception from a library under the client (requests, urllib3, json, ssl...), re-raised with
    its type name and a scrubbed message, and without the original attached: its text or arguments
    may hold a secret (``InvalidHeader`` quotes the header value, the access token)."""

    def __init__(self, message: str, *, original_type: str) -> None:
        self.original_type = original_type
        super().__init__(message)


class APIError(SPAPIError):
    """An SP-API answer with an error status, after any retries the status allows."""

    def __init__(
        self,
        *,
        status: int,
        operation: str,
        method: str,
        path: str,
        errors: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        attempts: int = 1,
        body_snippet: str = "",
    ) -> None:
        self.status = status
        self.operation = operation
        self.method = method
        self.path = path
        self.errors = [{k: scrub(str(v)) for k, v in e.items()} for e in (errors or []) if isinstance(e, dict)]
        first = self.errors[0] if self.errors else {}
        self.code: str = first.get("code", "")
        self.message: str = first.get("message", "")
        self.details: str = first.get("details", "")
        self.request_id = request_id
        self.attempts = attempts
        self.body_snippet = scrub(body_snippet)
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.operation} ({self.method} {self.path}) failed: HTTP {self.status}"
        if self.code or self.message:
            text += f" {self.code}: {self.message}".rstrip(": ")
        if self.details:
            text += f" (details: {self.details})"
        if len(self.errors) > 1:
            text += f" [+{len(self.errors) - 1} more error(s)]"
        if self.body_snippet and not self.errors:
            text += f"; body starts: {self.body_snippet!r}"
        if self.attempts > 1:
            text += f" after {self.attempts} attempts"
        text += f" [x-amzn-RequestId: {self.request_id or 'none'}]"
        return text


class InvalidInputError(APIError):
    """HTTP 400: Amazon rejected the parameters. Not retried: the same call would fail again."""


class AccessDeniedError(APIError):
    """HTTP 401/403: wrong region, missing role, or a token that stayed invalid after one refresh."""


class NotFoundError(APIError):
    """HTTP 404: the resource (order, report, document) does not exist."""


class ThrottledError(APIError):
    """HTTP 429 on every attempt: the quota stayed exhausted (or the operation is disabled)."""


class ServerError(APIError):
    """HTTP 5xx on every attempt."""


class InvalidResponseError(APIError):
    """The answer was not the JSON it should be (an HTML error page from a proxy, a truncated body)."""


def foreign_error(exc: BaseException, context: str) -> ForeignError:
    """``exc`` (from requests, urllib3, json, ssl...) as a ``ForeignError``: type name kept, text scrubbed.

    Raise it ``from None``: chaining would carry the unscrubbed original into every traceback.
    """
    name = type(exc).__name__
    return ForeignError(f"{context} failed: {name}: {scrub(str(exc))}", original_type=name)


def error_class_for(status: int) -> type[APIError]:
    """The typed error for a final HTTP status."""
    if status == 400:
        return InvalidInputError
    if status in (401, 403):
        return AccessDeniedError
    if status == 404:
        return NotFoundError
    if status == 429:
        return ThrottledError
    if status >= 500:
        return ServerError
    return APIError


def snippet(text: str, limit: int = BODY_SNIPPET_CHARS) -> str:
    """The first ``limit`` characters of a body, for messages about answers that are not JSON.

    Scrubbed before it is cut: a cut through an echoed secret would leave a piece too short to find.
    """
    return scrub_then_cut(text, limit)
