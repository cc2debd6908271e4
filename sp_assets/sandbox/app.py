"""The starlette application: the LWA endpoint, every API's routes, and the sandbox's own endpoints."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sp_assets.sandbox.backends.lwa import LwaError
from sp_assets.sandbox.operations import DROP_FLAG
from sp_assets.sandbox.state import SandboxState

# One module per API under sandbox/routes; a module that does not exist yet is skipped.
ROUTE_MODULES = (
    "orders", "orders_2026", "inventory", "pricing", "catalog", "inbound", "outbound", "sellers", "reports",
    "data_kiosk", "product_fees", "finances",
)


def build_app(state: SandboxState) -> ASGIApp:
    routes: list[Route] = [
        Route("/auth/o2/token", _token_endpoint(state), methods=["POST"]),
        Route("/_sandbox/health", _health, methods=["GET"]),
        Route("/_sandbox/stats", _stats_endpoint(state), methods=["GET"]),
    ]
    for name in ROUTE_MODULES:
        module_name = f"sp_assets.sandbox.routes.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        routes.extend(importlib.import_module(module_name).build(state))
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return drop_connections(app)


def _token_endpoint(state: SandboxState):
    async def token(request: Request) -> Response:
        # LWA takes application/x-www-form-urlencoded; parse_qsl avoids a multipart dependency.
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        try:
            body = state.lwa.grant(form)
        except LwaError as error:
            state.stats.add("lwa.error")
            return JSONResponse({"error": error.error, "error_description": error.description},
                                status_code=error.status)
        state.stats.add("lwa.grant")
        return JSONResponse(body)

    return token


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _stats_endpoint(state: SandboxState):
    async def stats(request: Request) -> Response:
        return JSONResponse(state.stats.snapshot())

    return stats


def drop_connections(app: ASGIApp) -> ASGIApp:
    """Turn an answer flagged by fault injection into a connection closed mid-answer.

    The client sees what a dropped connection looks like on the wire: headers promising a body,
    a few bytes, then EOF.
    """

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def guarded_send(message: Message) -> None:
            if not scope.get(DROP_FLAG):
                await send(message)
            elif message["type"] == "http.response.start":
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
                await send({"type": "http.response.body", "body": b'{"payload":', "more_body": True})

        await app(scope, receive, guarded_send)

    return wrapper


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
