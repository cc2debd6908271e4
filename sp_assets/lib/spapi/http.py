"""``SPAPIClient``: one ``request()`` that does auth, quota, retries, typed errors, logging and stats.

Every SP-API call of the project goes through ``SPAPIClient.request``. In order, per attempt:

1. take a token from the shared bucket of (credential, operation), sleeping if needed, so the client
   waits for quota instead of running into 429;
2. get a valid LWA access token (refreshed before expiry, shared per credential);
3. send; on a connection error or 500/502/503/504, back off (exponential + jitter) and try again up
   to ``RetryPolicy.max_attempts``; on 429, empty the bucket, back off and retry the same call; on a
   401/403 whose body says the token expired or is invalid, refresh the token once and retry (each
   such answer earns one refresh, at most ``max_attempts`` per call);
4. adopt ``x-amzn-RateLimit-Limit`` when present, parse JSON, or raise a typed error carrying
   Amazon's code, message, details and request id.

Each attempt also has an overall deadline (``request_deadline_s``; for document downloads it grows
with the bytes announced or received, ``download_min_bytes_per_s``): the per-socket timeouts cannot
stop a server that trickles its answer. An attempt that runs out of time is retried like a reset
connection, and the last one raises ``DeadlineExceededError`` naming the operation and the deadline.
Any other exception from the libraries underneath leaves as ``ForeignError``: its type name and a
scrubbed message, never the original object (``InvalidHeader`` quotes the access token).

Pagination (``pages.py``) calls ``request`` once per page, so a 429 or 5xx on page 7 retries page 7,
not the whole iteration.
"""

from __future__ import annotations

import platform
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from sp_assets.lib.marketplaces import Marketplace

from .auth import AccessTokenProvider, shared_provider
from .credentials import LWACredentials
from .deadline import DeadlineHit, deadline
from .endpoints import AMAZON_SANDBOX_HOSTS, DEFAULT_TOKEN_URL, Endpoint, validate_url
from .errors import (
    APIError,
    ConfigError,
    DeadlineExceededError,
    InvalidResponseError,
    ServerError,
    SPAPIError,
    ThrottledError,
    TransportError,
    error_class_for,
    foreign_error,
    snippet,
)
from .quota import (
    PAGING,
    OperationQuota,
    PageLimit,
    TokenBucket,
    parse_rate_header,
    quota_for,
    shared_bucket,
    unearned_refill,
)
from .quota_store import StoredTokenBucket
from .redaction import Secret, get_logger
from .retry import RETRYABLE_EXCEPTIONS, RETRYABLE_STATUSES, RetryPolicy
from .sessions import new_session
from .stats import CallStats

log = get_logger(__name__)
QUOTA_WAIT_NOTICE_S = 3.0  # a quota wait this long (real seconds) is worth a line in the run's log
# urllib3 logs every URL at DEBUG, query included: a presigned document URL's signature is a credential
# for 5 minutes, so its records go through the same scrubbing (download_to registers the query).
get_logger("urllib3.connectionpool")

USER_AGENT = f"sp_assets/0.1 (Language=Python/{platform.python_version()}; Platform={platform.system()})"

# Amazon refuses CreatedBefore/LastUpdatedBefore later than now - 2 min; we keep a wider default margin
# because orders keep changing for a while and a late-arriving update would otherwise be missed.
DEFAULT_ORDERS_BEFORE_MARGIN = timedelta(minutes=15)
MIN_ORDERS_BEFORE_MARGIN = timedelta(minutes=2)

# Overall deadline of one attempt of an API call: twice the 60 s read timeout, so a slow but moving
# answer (a 100-order searchOrders page) always fits and a trickle is cut after two minutes.
DEFAULT_REQUEST_DEADLINE_S = 120.0
# A document download may take request_deadline_s plus one second per this many bytes (announced by
# Content-Length, or received so far): 50 kB/s is far below any working link to Amazon's S3.
DEFAULT_DOWNLOAD_MIN_BYTES_PER_S = 50_000.0

_TOKEN_PROBLEM = re.compile(r"token", re.IGNORECASE)
_TOKEN_STATE = re.compile(r"expired|invalid|revoked|malformed", re.IGNORECASE)


def format_param(name: str, value: Any) -> str:
    """One query value as Amazon wants it: ISO 8601 UTC with ``Z``, ``true``/``false``, plain text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"query parameter {name} got a naive datetime {value!r}; pass a timezone-aware one")
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def iso_z(value: datetime) -> str:
    """``2024-05-01T12:00:00Z``: UTC, seconds precision unless there are microseconds."""
    utc = value.astimezone(UTC)
    text = utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def encode_query(params: Mapping[str, Any] | None) -> str:
    """Percent-encode a query string (RFC 3986: space is ``%20``, ``+`` is ``%2B``, ``/`` is ``%2F``).

    Lists become one CSV parameter (Swagger's default ``collectionFormat: csv``): each element is
    encoded on its own and joined with a literal comma, so a SKU containing ``,`` or ``+`` survives.
    ``None`` values and empty lists are left out.
    """
    parts: list[str] = []
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            items = [quote(format_param(name, v), safe="") for v in value]
            if not items:
                continue
            encoded = ",".join(items)
        else:
            encoded = quote(format_param(name, value), safe="")
        parts.append(f"{quote(str(name), safe='')}={encoded}")
    return "&".join(parts)


def path_segment(value: str) -> str:
    """Encode one path parameter (order id, SKU, report id) so ``/`` or ``#`` cannot change the path."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class DownloadResult:
    """What ``download_to`` wrote: the file, its size, and the HTTP metadata the decoder needs."""

    path: Path
    bytes: int
    content_type: str
    charset: str | None
    content_encoding: str | None


def _charset_of(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def _public_url(url: str) -> str:
    """A URL without its query string: presigned document URLs carry a signature that grants access."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class SPAPIClient:
    """A thread-safe SP-API client for one credential and one endpoint.

    ``speed`` (default 1.0) multiplies the documented rates and divides backoff delays, so a client
    talking to a sandbox started with ``--speed X`` paces itself like the sandbox. Buckets and access
    tokens are shared process-wide per credential; ``stats`` is this instance's own.
    """

    def __init__(
        self,
        credentials: LWACredentials,
        endpoint: Endpoint | str,
        *,
        token_url: str | None = None,
        speed: float = 1.0,
        retry: RetryPolicy | None = None,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        orders_before_margin: timedelta = DEFAULT_ORDERS_BEFORE_MARGIN,
        quotas: Mapping[str, OperationQuota] | None = None,
        paging: Mapping[str, PageLimit] | None = None,
        user_agent: str = USER_AGENT,
        marketplace: Marketplace | None = None,
        request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S,
        download_min_bytes_per_s: float = DEFAULT_DOWNLOAD_MIN_BYTES_PER_S,
        max_pages_per_call: int | None = None,
        quota_store: Path | str | None = None,
    ) -> None:
        if not isinstance(credentials, LWACredentials):
            raise ConfigError(f"credentials must be LWACredentials, got {type(credentials).__name__}")
        base = endpoint.base_url if isinstance(endpoint, Endpoint) else endpoint
        token = token_url or (endpoint.token_url if isinstance(endpoint, Endpoint) else DEFAULT_TOKEN_URL)
        self.endpoint = Endpoint(validate_url(base, "endpoint"), validate_url(token, "token_url"))
        if not (isinstance(speed, int | float) and 0 < speed < float("inf")):
            raise ConfigError(f"speed must be a positive number (1.0 = Amazon's real rates), got {speed!r}")
        if orders_before_margin < MIN_ORDERS_BEFORE_MARGIN:
            raise ConfigError(
                f"orders_before_margin must be at least {MIN_ORDERS_BEFORE_MARGIN} (Amazon refuses "
                f"CreatedBefore/LastUpdatedBefore closer to now), got {orders_before_margin}"
            )
        for name, value in (("request_deadline_s", request_deadline_s),
                            ("download_min_bytes_per_s", download_min_bytes_per_s)):
            if not (isinstance(value, int | float) and 0 < value < float("inf")):
                raise ConfigError(f"{name} must be a positive number, got {value!r}")
        if max_pages_per_call is not None and (isinstance(max_pages_per_call, bool)
                                               or not isinstance(max_pages_per_call, int) or max_pages_per_call < 1):
            raise ConfigError(f"max_pages_per_call must be a whole number of pages >= 1, got {max_pages_per_call!r}")
        self.request_deadline_s = float(request_deadline_s)
        # Replaces quota.PAGING's cap for every paged call (None: the table's cap per operation and window).
        self.max_pages_per_call = max_pages_per_call
        self.download_min_bytes_per_s = float(download_min_bytes_per_s)
        self.credentials = credentials
        self.speed = float(speed)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.orders_before_margin = orders_before_margin
        self.user_agent = user_agent
        self.marketplace = marketplace
        self.stats = CallStats()
        # Where progress worth a user's eye goes (pages so far, long quota waits, report polls): the
        # orchestrator's run log, set by whoever runs the client; None says nothing.
        self.progress: Callable[[str], None] | None = None
        self._quotas = dict(quotas or {})
        # A SQLite file or PostgreSQL URL shared by every process of the account (quota_store.py); None: this process only.
        self.quota_store = quota_store
        self._paging = {**PAGING, **(paging or {})}
        self._tokens: AccessTokenProvider = shared_provider(
            credentials, self.endpoint.token_url, retry=self.retry, speed=self.speed
        )
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"SPAPIClient(endpoint={self.endpoint.base_url!r}, credential={self.credentials.fingerprint}, "
                f"speed={self.speed})")

    def __enter__(self) -> SPAPIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close this client's HTTP connections (buckets and tokens stay shared)."""
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
        self._local = threading.local()

    @property
    def token_provider(self) -> AccessTokenProvider:
        """The shared LWA access-token provider of this client's credential."""
        return self._tokens

    @property
    def credential_id(self) -> str:
        """The non-reversible id of the credential (for pool names and metadata)."""
        return self.credentials.fingerprint

    def tell(self, message: str) -> None:
        """Pass a progress line to ``progress`` (if set); a failing callback never fails a call."""
        if self.progress is None:
            return
        try:
            self.progress(message)
        except Exception:  # noqa: BLE001 (progress is a courtesy; the data path must not depend on it)
            log.debug("progress callback failed")

    def page_limit(self, operation: str) -> PageLimit | None:
        """The paging bound of ``operation`` (``quota.PAGING``, or this client's ``paging=``), if any."""
        return self._paging.get(operation)

    def bucket(self, operation: str) -> TokenBucket | StoredTokenBucket:
        """The shared token bucket this client uses for ``operation``."""
        quota = quota_for(operation, self._quotas)
        if self.endpoint.base_url in AMAZON_SANDBOX_HOSTS.values():
            # Amazon's static sandbox throttles every operation at 5/s, burst 15 (wire contract 1.1).
            quota = OperationQuota(quota.family, 5.0, 15)
        return shared_bucket(self.endpoint.base_url, self.credentials.fingerprint, operation, quota, self.speed,
                             store=self.quota_store)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = new_session(pool_maxsize=4)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    # ----------------------------------------------------------------------------------------------
    # API calls

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Call one SP-API operation and return the parsed JSON body (``None`` for an empty body).

        ``path`` is Amazon's path with path parameters already filled (use ``path_segment``); ``params``
        are encoded by ``encode_query``. Raises a subclass of ``APIError``, or ``TransportError``.
        """
        quota = quota_for(operation, self._quotas)
        call = _Call(self, operation, quota.family, method.upper(), path, params, json)
        self.stats.record(quota.family, calls=1)
        try:
            return call.run(self.bucket(operation))
        except SPAPIError:
            self.stats.record(quota.family, failed_calls=1)
            raise
        except Exception as exc:
            self.stats.record(quota.family, failed_calls=1)
            raise foreign_error(exc, f"{operation} ({call.method} {path})") from None

    def _send(self, method: str, url: str, token: Secret, json: Any) -> requests.Response:
        headers = {
            "x-amz-access-token": token.reveal(),
            "user-agent": self.user_agent,
            "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
            "accept": "application/json",
        }
        if json is not None:
            headers["content-type"] = "application/json"
        with deadline(self.request_deadline_s):
            return self._session().request(method, url, headers=headers, json=json, timeout=self.timeout)

    # ----------------------------------------------------------------------------------------------
    # Report document downloads: plain GETs of presigned URLs, no SP-API headers, no access token.

    def iter_download(self, url: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Yield the document's bytes (after HTTP ``Content-Encoding`` decoding) chunk by chunk.

        The document is first downloaded to a temporary file (restarting on a broken transfer, as
        ``download_to``), then read back: a caller never receives the partial bytes of a dropped
        connection followed by an error, which it could not undo.
        """
        with tempfile.TemporaryDirectory(prefix="sp-document-") as tmp:
            result = self.download_to(url, Path(tmp) / "document", chunk_size)
            with result.path.open("rb") as source:
                while chunk := source.read(chunk_size):
                    yield chunk

    def download_to(self, url: str, dest: str | Path, chunk_size: int = 1 << 16) -> DownloadResult:
        """Download ``url`` into ``dest`` (overwritten), restarting on a broken transfer.

        Connection errors (also mid-body) and 5xx are retried within ``RetryPolicy.max_attempts``;
        other statuses raise the typed error at once: a presigned URL that expired answers 403
        (``AccessDeniedError``), and the caller should ask ``getReportDocument`` for a fresh one.
        Counted in ``stats`` under the family ``downloads``.
        """
        target = Path(dest)
        public = _public_url(url)
        Secret(urlsplit(url).query)  # registers the signature for scrubbing; never logged by us anyway
        self.stats.record("downloads", calls=1)
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                self.stats.record("downloads", retries=1)
                time.sleep(self.retry.delay(attempt - 1, self.speed))
            started = time.monotonic()
            try:
                with deadline(self.request_deadline_s) as watch, self._session().get(
                        url, stream=True, timeout=self.timeout, headers={"user-agent": self.user_agent}) as response:
                    log.debug("GET %s -> %s in %.3fs (document download)", public, response.status_code,
                              time.monotonic() - started)
                    if response.status_code >= 400:
                        self._download_failed(response, url, attempt)
                        continue
                    announced = int(response.headers.get("content-length") or 0)
                    watch.extend(watch.started + watch.seconds + announced / self.download_min_bytes_per_s)
                    written = _write_body(response, target, chunk_size, lambda received: watch.extend(
                        watch.started + self.request_deadline_s + received / self.download_min_bytes_per_s))
            except RETRYABLE_EXCEPTIONS as exc:
                self.stats.record("downloads", connection_errors=1)
                if attempt >= self.retry.max_attempts:
                    self.stats.record("downloads", failed_calls=1)
                    if isinstance(exc, DeadlineHit):
                        raise DeadlineExceededError(
                            f"download of {public} did not complete within its overall deadline ({exc.seconds:g} s: "
                            f"{self.request_deadline_s:g} s plus 1 s per {self.download_min_bytes_per_s:g} bytes) "
                            f"on {attempt} attempts", operation="download", attempts=attempt) from None
                    raise TransportError(f"download of {public} failed after {attempt} attempts: "
                                         f"{type(exc).__name__}", operation="download", attempts=attempt) from None
                continue
            except SPAPIError:
                raise
            except requests.RequestException as exc:  # before OSError, which it subclasses
                self.stats.record("downloads", failed_calls=1)
                raise foreign_error(exc, f"download of {public}") from None
            except OSError:
                raise  # the local file (disk full...): our own text, no secret in it
            except Exception as exc:
                self.stats.record("downloads", failed_calls=1)
                raise foreign_error(exc, f"download of {public}") from None
            content_type = response.headers.get("content-type", "")
            return DownloadResult(target, written, content_type, _charset_of(content_type),
                                  response.headers.get("content-encoding"))

    def _download_failed(self, response: requests.Response, url: str, attempt: int) -> None:
        """Return (to retry) on a 5xx within the budget; raise the typed error otherwise."""
        if response.status_code in RETRYABLE_STATUSES:
            self.stats.record("downloads", server_errors=1)
            if attempt < self.retry.max_attempts:
                return
        self.stats.record("downloads", failed_calls=1)
        raise error_class_for(response.status_code)(
            status=response.status_code, operation="download", method="GET", path=urlsplit(url).path,
            request_id=response.headers.get("x-amzn-RequestId"), attempts=attempt,
            body_snippet=snippet(response.text),
        )


def _write_body(response: requests.Response, target: Path, chunk_size: int,
                progress: Callable[[int], None] = lambda received: None) -> int:
    written = 0
    with target.open("wb") as out:
        for chunk in response.iter_content(chunk_size):
            out.write(chunk)
            written += len(chunk)
            progress(written)
    return written


class _Call:
    """The state of one ``request()``: attempt counters and the retry decisions."""

    def __init__(self, client: SPAPIClient, operation: str, family: str, method: str, path: str,
                 params: Mapping[str, Any] | None, json: Any) -> None:
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        self.client = client
        self.operation = operation
        self.family = family
        self.method = method
        self.path = path
        query = encode_query(params)
        self.url = client.endpoint.base_url + path + (f"?{query}" if query else "")
        self.json = json
        self.failures = 0  # 5xx and connection errors
        self.throttles = 0  # 429s
        self.attempts = 0
        self.token_refreshes = 0  # 401/403 that blamed the access token

    def run(self, bucket: TokenBucket | StoredTokenBucket) -> Any:
        client = self.client
        while True:
            # Have the access token before taking a quota token: a cold LWA round trip between the
            # two would start our bucket's refill before Amazon's, and the next call would arrive
            # early and get a 429. (The second get() below is a cache hit unless the wait outlived it.)
            client._tokens.get()
            level = bucket.available()  # before our token: how close the bucket is to its cap
            waited = bucket.acquire()
            if waited:
                client.stats.record(self.family, quota_wait_seconds=waited)
                if waited >= QUOTA_WAIT_NOTICE_S:
                    client.tell(f"{self.operation}: waited {waited:.1f}s for Amazon's quota ({self.family})")
            if self.attempts:
                client.stats.record(self.family, retries=1)
            self.attempts += 1
            token = client._tokens.get()
            started = time.monotonic()
            try:
                response = client._send(self.method, self.url, token, self.json)
            except RETRYABLE_EXCEPTIONS as exc:
                self._on_connection_error(exc, time.monotonic() - started)
                continue
            in_flight = time.monotonic() - started
            self._log(response, in_flight)
            if response.status_code != 429:  # a 429 took no token; drain() below settles our count
                bucket.debit(unearned_refill(level if not waited else 1.0, bucket.rate, bucket.burst, in_flight))
            rate = parse_rate_header(response.headers.get("x-amzn-RateLimit-Limit"))
            if rate is not None and abs(rate - bucket.rate) > 1e-9:
                bucket.set_rate(rate)
            status = response.status_code
            if 200 <= status < 300:
                return self._parse_success(response)
            if status == 429:
                self._on_throttled(response, bucket)
            elif status in RETRYABLE_STATUSES:
                self._on_server_error(response)
            elif status in (401, 403) and self._may_refresh() and _says_token_expired(response):
                client.stats.record(self.family, token_refreshes_on_403=1)
                client._tokens.invalidate(token)
                self.token_refreshes += 1
            else:
                raise self._error(response)

    def _may_refresh(self) -> bool:
        """Each 403 that blames the token earns one refresh and retry, within the attempt budget, so
        a token endpoint whose tokens the API never accepts ends in ``AccessDeniedError``, not a loop."""
        return self.token_refreshes < self.client.retry.max_attempts

    def _log(self, response: requests.Response, elapsed: float) -> None:
        log.debug("%s %s %s -> %s in %.3fs (attempt %d, x-amzn-RequestId %s)", self.operation, self.method,
                  self.path, response.status_code, elapsed, self.attempts,
                  response.headers.get("x-amzn-RequestId", "-"))

    def _on_connection_error(self, exc: BaseException, elapsed: float) -> None:
        self.client.stats.record(self.family, connection_errors=1)
        self.failures += 1
        log.debug("%s %s %s -> %s after %.3fs (attempt %d)", self.operation, self.method, self.path,
                  type(exc).__name__, elapsed, self.attempts)
        if self.failures >= self.client.retry.max_attempts:
            if isinstance(exc, DeadlineHit):
                raise DeadlineExceededError(
                    f"{self.operation} ({self.method} {self.path}) got no complete answer within its overall "
                    f"deadline of {exc.seconds:g} s (request_deadline_s) on {self.failures} attempts",
                    operation=self.operation, attempts=self.attempts) from None
            raise TransportError(
                f"{self.operation} ({self.method} {self.path}) failed: {type(exc).__name__} on "
                f"{self.failures} attempts", operation=self.operation, attempts=self.attempts,
            ) from None
        self._pause(self.failures)

    def _on_server_error(self, response: requests.Response) -> None:
        self.client.stats.record(self.family, server_errors=1)
        self.failures += 1
        if self.failures >= self.client.retry.max_attempts:
            raise self._error(response, ServerError)
        self._pause(self.failures)

    def _on_throttled(self, response: requests.Response, bucket: TokenBucket | StoredTokenBucket) -> None:
        self.client.stats.record(self.family, throttled=1)
        self.throttles += 1
        bucket.drain()
        if self.throttles >= self.client.retry.max_throttled_attempts:
            raise self._error(response, ThrottledError)
        # The drained bucket makes the next acquire() wait 1/rate; the backoff adds to it on repeats.
        self._pause(self.throttles)

    def _pause(self, retry_number: int) -> None:
        time.sleep(self.client.retry.delay(retry_number, self.client.speed))

    def _parse_success(self, response: requests.Response) -> Any:
        if not response.content or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise InvalidResponseError(
                status=response.status_code, operation=self.operation, method=self.method, path=self.path,
                request_id=response.headers.get("x-amzn-RequestId"), attempts=self.attempts,
                body_snippet=f"not JSON ({response.headers.get('content-type', 'no content-type')}): "
                             + snippet(response.text),
            ) from None

    def _error(self, response: requests.Response, cls: type[APIError] | None = None) -> APIError:
        errors, body = _errors_of(response)
        error_type = cls or error_class_for(response.status_code)
        return error_type(
            status=response.status_code, operation=self.operation, method=self.method, path=self.path,
            errors=errors, request_id=response.headers.get("x-amzn-RequestId"), attempts=self.attempts,
            body_snippet="" if errors else (body or "empty body"),
        )


def _errors_of(response: requests.Response) -> tuple[list[dict[str, Any]], str]:
    """Amazon's ``errors`` list from an error answer, or ([], a description quoting the body's start)."""
    text = response.text
    if not text.strip():
        return [], ""
    try:
        body = response.json()
    except ValueError:
        return [], f"not JSON ({response.headers.get('content-type', 'no content-type')}): {snippet(text)}"
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [e for e in body["errors"] if isinstance(e, dict)], ""
    if isinstance(body, dict) and "error" in body:  # OAuth-style error from a proxy or gateway
        return [{"code": str(body.get("error")), "message": str(body.get("error_description", ""))}], ""
    return [], f"JSON without an errors list: {snippet(text)}"


def _says_token_expired(response: requests.Response) -> bool:
    """True when a 401/403 body blames the access token (expired, invalid...), not the role or region."""
    errors, text = _errors_of(response)
    blob = " ".join(f"{e.get('code', '')} {e.get('message', '')} {e.get('details', '')}" for e in errors) or text
    return bool(_TOKEN_PROBLEM.search(blob) and _TOKEN_STATE.search(blob))
