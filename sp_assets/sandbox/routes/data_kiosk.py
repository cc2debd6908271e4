"""Data Kiosk API 2023-11-15 routes, plus the presigned document downloads they hand out.

Validation follows Amazon's model (``dataKiosk_2023-11-15.json``): createQuery takes a JSON body
``{"query", "paginationToken"?}`` and answers 202 ``{"queryId"}``; a query longer than 8000 characters
(whitespace collapsed) is refused with 400, while a query that does not validate against the dataset's
schema is accepted and ends FATAL with an error document (``backends/data_kiosk.py``); a
``paginationToken`` must come from a DONE query with the same query text (else 400). getQueries pages
with ``paginationToken``; cancelQuery answers 204 for a query IN_QUEUE or IN_PROGRESS (and for one already
CANCELLED), 400 for a finished one; getDocument answers ``{documentId, documentUrl}``, a URL that expires
after 5 minutes (scaled by speed) and then answers 403 with an S3-style XML body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import FileResponse, Response
from starlette.routing import Route

from sp_assets.sandbox.backends.data_kiosk import MAX_QUERY_CHARS, STATUSES, DataKioskBackend, compact
from sp_assets.sandbox.backends.reports import seller_key
from sp_assets.sandbox.operations import ApiError, ApiRequest, ApiResult, Operation, api_route, invalid
from sp_assets.sandbox.routes.documents import (
    created_window,
    decode_offset_token,
    encode_offset_token,
    s3_error,
    s3_refusal,
)
from sp_assets.sandbox.state import SandboxState

BASE = "/dataKiosk/2023-11-15"
CREATE = Operation("createQuery", 0.0167, 15)
GET_QUERIES = Operation("getQueries", 0.0222, 10)
GET_QUERY = Operation("getQuery", 2.0, 15)
CANCEL = Operation("cancelQuery", 0.0222, 10)
GET_DOCUMENT = Operation("getDocument", 0.0167, 15)
DOWNLOAD = Operation("downloadDataKioskDocument", 0.0, 0, needs_token=False)


def build(state: SandboxState) -> list[Route]:
    state.backends["data_kiosk"] = DataKioskBackend(state)
    return [
        api_route("POST", f"{BASE}/queries", CREATE, create_query, state),
        api_route("GET", f"{BASE}/queries", GET_QUERIES, get_queries, state),
        api_route("GET", f"{BASE}/queries/{{queryId}}", GET_QUERY, get_query, state),
        api_route("DELETE", f"{BASE}/queries/{{queryId}}", CANCEL, cancel_query, state),
        api_route("GET", f"{BASE}/documents/{{documentId}}", GET_DOCUMENT, get_document, state),
        api_route("GET", "/_datakiosk/{documentId}", DOWNLOAD, download_document, state),
    ]


def _backend(state: SandboxState) -> DataKioskBackend:
    return state.backends["data_kiosk"]


def _not_found(what: str) -> ApiError:
    return ApiError(404, "NotFound", "Resource not found.", what)


# ---------------------------------------------------------------------------------------------- createQuery
def create_query(req: ApiRequest, state: SandboxState) -> ApiResult:
    content_type = req.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type not in ("application/json", ""):
        raise ApiError(415, "InvalidInput", "Unsupported Media Type",
                       f"Content-Type must be application/json, got {content_type!r}")
    body = req.json()
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object with a query string (CreateQuerySpecification)")
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise invalid("query is required: the GraphQL query text as a string")
    if len(compact(query)) > MAX_QUERY_CHARS:
        raise invalid(f"query must be at most {MAX_QUERY_CHARS} characters after unnecessary whitespace is "
                      f"removed; got {len(compact(query))}")
    token = body.get("paginationToken")
    if token is not None and not isinstance(token, str):
        raise invalid("paginationToken must be a string: pagination.nextToken of a Query object, unchanged")
    try:
        record = _backend(state).create(seller_key(req.credential), query, token)
    except ValueError as error:
        raise invalid(str(error)) from None
    return ApiResult({"queryId": record.query_id}, status=202)


# ---------------------------------------------------------------------------------------------- getQuery/ies
def get_query(req: ApiRequest, state: SandboxState) -> ApiResult:
    query_id = req.path_params["queryId"]
    record = _backend(state).get(seller_key(req.credential), query_id)
    if record is None:
        raise _not_found(f"No query with queryId {query_id!r}")
    return ApiResult(record.render(state.seller.now()))


def get_queries(req: ApiRequest, state: SandboxState) -> ApiResult:
    if req.has("paginationToken"):
        query, offset = decode_offset_token(req.get("paginationToken") or "", invalid(
            "Invalid paginationToken: pass pagination.nextToken of a previous getQueries answer unchanged "
            "(percent-encoded)"))
    else:
        query, offset = _queries_filter(req, state), 0
    page_size = req.integer("pageSize", 10, 1, 100)
    now = state.seller.now()
    records = _backend(state).list(seller_key(req.credential), query["processingStatuses"],
                                   datetime.fromisoformat(query["createdSince"]),
                                   datetime.fromisoformat(query["createdUntil"]))
    page = records[offset:offset + page_size]
    body: dict[str, Any] = {"queries": [r.render(now) for r in page]}
    if offset + page_size < len(records):
        body["pagination"] = {"nextToken": encode_offset_token(query, offset + page_size)}
    return ApiResult(body)


def _queries_filter(req: ApiRequest, state: SandboxState) -> dict[str, Any]:
    statuses = req.list("processingStatuses", allowed=STATUSES)
    since, until = created_window(req, state.seller.now())
    return {"processingStatuses": statuses, "createdSince": since.isoformat(), "createdUntil": until.isoformat()}



# ---------------------------------------------------------------------------------------------- cancelQuery
def cancel_query(req: ApiRequest, state: SandboxState) -> ApiResult:
    query_id = req.path_params["queryId"]
    try:
        status = _backend(state).cancel(seller_key(req.credential), query_id)
    except KeyError:
        raise _not_found(f"No query with queryId {query_id!r}") from None
    if status in ("DONE", "FATAL"):
        raise invalid(f"Only queries with processingStatus IN_QUEUE or IN_PROGRESS can be cancelled; query "
                      f"{query_id} is {status}")
    return ApiResult(None, status=204)


# ---------------------------------------------------------------------------------------------- documents
def get_document(req: ApiRequest, state: SandboxState) -> ApiResult:
    document_id = req.path_params["documentId"]
    backend = _backend(state)
    document = backend.document(seller_key(req.credential), document_id)
    if document is None:
        raise _not_found(f"No Data Kiosk document {document_id!r}")
    return ApiResult({"documentId": document.document_id,
                      "documentUrl": backend.document_url(state.public_base_url, document)})


def download_document(req: ApiRequest, state: SandboxState) -> Response:
    """The presigned URL: no access token; 403 once expired, as S3 answers."""
    document_id = req.path_params["documentId"]
    backend = _backend(state)
    problem = backend.urls.check(document_id, req.get("expires") or "", req.get("signature") or "")
    if problem is not None:
        state.stats.add(f"downloadDataKioskDocument.{problem}")
        return s3_refusal(problem)
    found = backend.document_file(document_id)
    if found is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    path, document = found
    headers = {"Content-Encoding": "gzip"} if document.gzip else {}
    return FileResponse(path, media_type="application/x-ndjson", headers=headers)

