"""What every SP-API operation shares: request ids, access tokens, quotas, faults, error envelopes.

A route module declares an operation with :func:`api_route`, giving Amazon's operation name, rate and
burst; its handler is a plain function ``handler(req: ApiRequest, state) -> ApiResult`` that raises
:class:`ApiError` for Amazon's error answers. The wrapper here does, in Amazon's order: count the call,
inject faults, check the access token, take a token from the bucket, run the handler in a worker
thread (generating a big day of orders is CPU work), and render the answer with ``x-amzn-RequestId``
and, on 2xx/400/404, ``x-amzn-RateLimit-Limit``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from sp_assets.sandbox.backends.lwa import AccessToken
    from sp_assets.sandbox.state import SandboxState

MESSAGES = {
    400: ("InvalidInput", "Invalid Input"),
    403: ("Unauthorized", "Access to requested resource is denied."),
    404: ("NotFound", "Resource not found."),
    429: ("QuotaExceeded", "You exceeded your quota for the requested resource."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
}


class ApiError(Exception):
    """An error answer in Amazon's envelope: ``{"errors": [{"code", "message", "details"}]}``."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 details: str = "") -> None:
        default_code, default_message = MESSAGES.get(status, ("InvalidInput", "Invalid Input"))
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.details = details
        super().__init__(f"{self.status} {self.code}: {self.message} {self.details}")

    def body(self) -> dict:
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def invalid(details: str, message: str = "Invalid Input", code: str = "InvalidInput") -> ApiError:
    """A 400 whose details name the parameter and what is allowed, as a client would want."""
    return ApiError(400, code, message, details)


@dataclass
class ApiResult:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class ApiRequest:
    """A parsed request with validation helpers that raise Amazon-style 400s naming the field."""

    def __init__(self, request: Request, body: bytes, token: AccessToken | None) -> None:
        self.method = request.method
        self.path = request.url.path
        self.path_params: dict[str, str] = dict(request.path_params)
        self._query = request.query_params
        self.headers = request.headers
        self.body = body
        self.token = token

    @property
    def region(self) -> str:
        return self.token.region if self.token else ""

    @property
    def credential(self) -> str:
        return self.token.refresh_token if self.token else ""

    def has(self, name: str) -> bool:
        return name in self._query

    def query_names(self) -> list[str]:
        return list(self._query.keys())

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self._query.get(name)
        return default if value is None or value == "" else value

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise invalid(f"{name} is required")
        return value

    def list(self, name: str, max_items: int | None = None, allowed: tuple[str, ...] | None = None) -> list[str]:
        """An array parameter: CSV (Swagger's default) or repeated, both as Amazon accepts them.

        Names like ``marketplaceIds`` and ``marketplaceIds[]`` are both read.
        """
        raw = self._query.getlist(name) + self._query.getlist(name + "[]")
        values = [v for item in raw for v in item.split(",") if v != ""]
        if max_items is not None and len(values) > max_items:
            raise invalid(f"{name} accepts at most {max_items} values, got {len(values)}")
        if allowed is not None:
            bad = [v for v in values if v not in allowed]
            if bad:
                raise invalid(f"{name} has invalid value(s) {bad}; allowed: {', '.join(allowed)}")
        return values

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise invalid(f"{name} must be an integer between {low} and {high}") from None
        if not low <= number <= high:
            raise invalid(f"{name} must be between {low} and {high}, got {number}")
        return number

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise invalid(f"{name} must be true or false")
        return value.lower() == "true"

    def datetime(self, name: str) -> datetime | None:
        value = self.get(name)
        return None if value is None else parse_datetime(value, name)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise invalid("The request body is not valid JSON") from None

    def check_marketplace(self, marketplace_id: str) -> None:
        """A refresh token authorizes one region: other regions' marketplaces are denied (403)."""
        from sp_assets.lib.marketplaces import UnknownMarketplaceError, by_id

        try:
            marketplace = by_id(marketplace_id)
        except UnknownMarketplaceError:
            raise invalid(f"Invalid marketplace id {marketplace_id!r}") from None
        if self.token and marketplace.region != self.token.region:
            raise ApiError(403, details=f"The seller is not authorized in marketplace {marketplace_id} "
                                        f"(region {marketplace.region}); this token is for {self.token.region}")


def parse_datetime(value: str, name: str) -> datetime:
    """ISO 8601 as Amazon accepts it: ``2024-01-02T03:04:05Z``, with offset or fraction; naive = UTC."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid(f"Invalid date-time field(s) [{name}].", "Invalid Input") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(value: datetime) -> str:
    """Amazon's timestamp format: UTC with a ``Z``, whole seconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_response(body: Any, status: int, request_id: str, rate: float | None = None,
                  headers: dict[str, str] | None = None) -> Response:
    all_headers = {"x-amzn-RequestId": request_id}
    if rate is not None and (200 <= status < 300 or status in (400, 404)):
        all_headers["x-amzn-RateLimit-Limit"] = f"{rate:g}"
    all_headers.update(headers or {})
    content = b"" if body is None and status == 204 else json.dumps(body, separators=(",", ":")).encode()
    return Response(content, status_code=status, media_type="application/json", headers=all_headers)


DROP_FLAG = "sp_sandbox.drop"


# A handler returns Amazon's envelope (ApiResult) or, for a raw download, a starlette Response.
Handler = Callable[["ApiRequest", "SandboxState"], ApiResult | Response]


@dataclass(frozen=True)
class Operation:
    name: str
    rate: float
    burst: int
    needs_token: bool = True


def api_route(method: str, path: str, operation: Operation, handler: Handler,
              state: SandboxState) -> Route:
    """A starlette route that runs ``handler`` under Amazon's shared rules for ``operation``."""

    async def endpoint(request: Request) -> Response:
        return await _serve(request, operation, handler, state)

    return Route(path, endpoint, methods=[method], name=operation.name)


async def _serve(request: Request, op: Operation, handler: Handler, state: SandboxState) -> Response:
    request_id = str(uuid.uuid4())
    stats, faults, spec = state.stats, state.faults, state.faults.spec
    stats.add(f"{op.name}.requests")
    body = await request.body()

    if spec.slow and faults.draw(spec.slow):
        stats.add(f"{op.name}.fault_slow")
        await asyncio.sleep(spec.slow_seconds)
    if spec.drop and faults.draw(spec.drop):
        stats.add(f"{op.name}.fault_drop")
        request.scope[DROP_FLAG] = True  # app.drop_connections cuts the answer short
        return json_response({}, 200, request_id)
    if spec.error_5xx and faults.draw(spec.error_5xx):
        status = faults.choice([500, 503])
        stats.add(f"{op.name}.fault_{status}")
        return json_response(ApiError(status).body(), status, request_id)

    token = None
    if op.needs_token:
        value = request.headers.get("x-amz-access-token")
        if not value:
            stats.add(f"{op.name}.403")
            return json_response(ApiError(403, details="Access token is missing in the request header.").body(),
                                 403, request_id)
        token = state.lwa.lookup(value)
        if token is not None and spec.expire and state.lwa.is_valid(token) and faults.draw(spec.expire):
            stats.add(f"{op.name}.fault_expire")
            state.lwa.expire_now(token)
        if token is None or not state.lwa.is_valid(token):
            stats.add(f"{op.name}.403")
            detail = ("The access token you provided has expired." if token is not None
                      else "The access token you provided is revoked, malformed or invalid.")
            return json_response(ApiError(403, details=detail).body(), 403, request_id)

        throttled = spec.throttle and faults.draw(spec.throttle)
        bucket = state.quota.bucket(token.refresh_token, op.name, op.rate, op.burst)
        if throttled or not bucket.try_take():
            stats.add(f"{op.name}.429")
            return json_response(ApiError(429).body(), 429, request_id)

    api_request = ApiRequest(request, body, token)
    rate = op.rate * state.config.speed
    try:
        result = await run_in_threadpool(handler, api_request, state)
    except ApiError as error:
        stats.add(f"{op.name}.{error.status}")
        return json_response(error.body(), error.status, request_id, rate)
    stats.add(f"{op.name}.served")
    if isinstance(result, Response):
        result.headers["x-amzn-RequestId"] = request_id
        return result
    return json_response(result.body, result.status, request_id, rate, result.headers)
