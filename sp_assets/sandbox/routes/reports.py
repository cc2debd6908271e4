"""Reports API 2021-06-30 routes, plus the presigned document downloads they hand out.

Validation follows Amazon's model (``reports_2021-06-30.json``) and the wire contract (section 2.9):
createReport answers 202 ``{"reportId"}``; settlement reports cannot be requested; ``reportOptions``
values must be strings; getReports' ``nextToken`` must be the only parameter; only IN_QUEUE reports
can be cancelled; document URLs expire after 5 minutes (scaled by speed) and then answer 403 with an
S3-style XML body, so a client has to call getReportDocument again.

Which types exist, their options and whether they can be requested are the catalog's
(``sp_assets/lib/reports/catalog.py``); which ones this sandbox generates is ``report_documents``'.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import formatdate
from typing import Any

from starlette.responses import FileResponse, Response
from starlette.routing import Route

from sp_assets.lib.reports import catalog
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox import report_documents_json
from sp_assets.sandbox.backends.reports import STATUSES, ReportsBackend, seller_key
from sp_assets.sandbox.operations import (
    ApiError,
    ApiRequest,
    ApiResult,
    Operation,
    api_route,
    invalid,
    parse_datetime,
)
from sp_assets.sandbox.routes.documents import (
    created_window,
    decode_offset_token,
    encode_offset_token,
    s3_error,
    s3_refusal,
)
from sp_assets.sandbox.state import SandboxState

BASE = "/reports/2021-06-30"
CREATE = Operation("createReport", 0.0167, 15)
GET_REPORTS = Operation("getReports", 0.0222, 10)
GET_REPORT = Operation("getReport", 2.0, 15)
CANCEL = Operation("cancelReport", 0.0222, 10)
GET_DOCUMENT = Operation("getReportDocument", 0.0167, 15)
DOWNLOAD = Operation("downloadReportDocument", 0.0, 0, needs_token=False)
_GET_REPORTS_PARAMS = ("reportTypes", "processingStatuses", "marketplaceIds", "pageSize", "createdSince",
                       "createdUntil")


def build(state: SandboxState) -> list[Route]:
    backend = ReportsBackend(state)
    state.backends["reports"] = backend
    return [
        api_route("POST", f"{BASE}/reports", CREATE, create_report, state),
        api_route("GET", f"{BASE}/reports", GET_REPORTS, get_reports, state),
        api_route("GET", f"{BASE}/reports/{{reportId}}", GET_REPORT, get_report, state),
        api_route("DELETE", f"{BASE}/reports/{{reportId}}", CANCEL, cancel_report, state),
        api_route("GET", f"{BASE}/documents/{{reportDocumentId}}", GET_DOCUMENT, get_report_document, state),
        api_route("GET", "/_documents/{documentId}", DOWNLOAD, download_document, state),
    ]


def _backend(state: SandboxState) -> ReportsBackend:
    return state.backends["reports"]


# ---------------------------------------------------------------------------------------------- createReport
def create_report(req: ApiRequest, state: SandboxState) -> ApiResult:
    content_type = req.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type not in ("application/json", ""):
        raise ApiError(415, "InvalidInput", "Unsupported Media Type",
                       f"Content-Type must be application/json, got {content_type!r}")
    body = req.json()
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object with reportType and marketplaceIds")
    row = _report_type(body.get("reportType"))
    marketplace_ids = _marketplace_ids(body.get("marketplaceIds"), req)
    now = state.seller.now()
    start = _body_time(body, "dataStartTime", now)
    end = _body_time(body, "dataEndTime", now)
    if start > end:
        raise invalid(f"dataStartTime ({body.get('dataStartTime')}) must not be after dataEndTime "
                      f"({body.get('dataEndTime')})")
    options = _report_options(body.get("reportOptions"), row)
    problem = report_documents_json.period_problem(row.name, options, start, end)
    if problem:
        raise invalid(problem, "Invalid input")
    if not row.sends_window and "dataStartTime" not in body:
        start = end = now
    record = _backend(state).create(seller_key(req.credential), req.region, row.name, marketplace_ids,
                                    start, end, options)
    return ApiResult({"reportId": record.report_id}, status=202)


def _report_type(value: Any) -> catalog.ReportType:
    if not isinstance(value, str) or not value:
        raise invalid("reportType is required and must be a string")
    row = catalog.CATALOG.get(value)
    if value in catalog.REMOVED:
        raise invalid(f"Report type {value} is no longer supported: {catalog.REMOVED[value]}", "Invalid input")
    if row is not None and not row.creatable:
        raise invalid(f"Report type {value} cannot be requested: Amazon generates settlement reports once per "
                      "settlement period; find them with getReports", "Invalid input")
    if row is None or value not in docs.served_types():
        raise invalid(f"Invalid reportType {value!r}; this sandbox serves: {', '.join(docs.served_types())}",
                      "Invalid input")
    return row


def _marketplace_ids(value: Any, req: ApiRequest) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise invalid("marketplaceIds is required: a list of 1 to 25 marketplace id strings")
    if len(value) > 25:
        raise invalid(f"marketplaceIds accepts at most 25 values, got {len(value)}")
    for marketplace_id in value:
        req.check_marketplace(marketplace_id)
    return list(dict.fromkeys(value))


def _body_time(body: dict, name: str, default: datetime) -> datetime:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid(f"{name} must be an ISO 8601 date-time string")
    return parse_datetime(value, name)


def _report_options(value: Any, row: catalog.ReportType) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("reportOptions must be an object of string keys to string values")
    bad = [f"{k} ({type(v).__name__})" for k, v in value.items() if not isinstance(v, str)]
    if bad:
        raise invalid(f"reportOptions values must be strings; not strings: {', '.join(bad)}")
    for name, allowed in row.options.items():
        if name in value and value[name] not in allowed:
            raise invalid(f"reportOptions.{name} {value[name]!r} is not valid for {row.name}; "
                          f"allowed: {', '.join(allowed)}")
    return dict(value)


# ---------------------------------------------------------------------------------------------- getReport(s)
def get_report(req: ApiRequest, state: SandboxState) -> ApiResult:
    report_id = req.path_params["reportId"]
    record = _backend(state).get(seller_key(req.credential), req.region, report_id)
    if record is None:
        raise ApiError(404, "NotFound", "Resource not found.", f"No report with reportId {report_id!r}")
    return ApiResult(record.render(state.seller.now()))


def get_reports(req: ApiRequest, state: SandboxState) -> ApiResult:
    if req.has("nextToken"):
        others = [n for n in req.query_names() if n != "nextToken"]
        if others:
            raise invalid(f"NextToken cannot be specified with other input parameters (got {', '.join(others)})")
        query, offset = decode_offset_token(req.get("nextToken") or "", invalid(
            "Invalid nextToken: pass the nextToken of a previous getReports answer unchanged (percent-encoded)"))
    else:
        query, offset = _reports_query(req, state), 0
    now = state.seller.now()
    records = _backend(state).list(
        seller_key(req.credential), req.region, query["reportTypes"], query["processingStatuses"],
        query["marketplaceIds"], datetime.fromisoformat(query["createdSince"]),
        datetime.fromisoformat(query["createdUntil"]),
    )
    page = records[offset:offset + query["pageSize"]]
    body: dict[str, Any] = {"reports": [r.render(now) for r in page]}
    if offset + query["pageSize"] < len(records):
        body["nextToken"] = encode_offset_token(query, offset + query["pageSize"])
    return ApiResult(body)


def _reports_query(req: ApiRequest, state: SandboxState) -> dict[str, Any]:
    report_types = req.list("reportTypes", max_items=10)
    if not report_types:
        raise invalid("reportTypes is required (1 to 10 report types) unless nextToken is given")
    statuses = req.list("processingStatuses", allowed=STATUSES)
    marketplace_ids = req.list("marketplaceIds", max_items=10)
    for marketplace_id in marketplace_ids:
        req.check_marketplace(marketplace_id)
    since, until = created_window(req, state.seller.now())
    return {"reportTypes": report_types, "processingStatuses": statuses, "marketplaceIds": marketplace_ids,
            "pageSize": req.integer("pageSize", 10, 1, 100), "createdSince": since.isoformat(),
            "createdUntil": until.isoformat()}



# ---------------------------------------------------------------------------------------------- cancelReport
def cancel_report(req: ApiRequest, state: SandboxState) -> ApiResult:
    report_id = req.path_params["reportId"]
    try:
        status = _backend(state).cancel(seller_key(req.credential), req.region, report_id)
    except KeyError:
        raise ApiError(404, "NotFound", "Resource not found.", f"No report with reportId {report_id!r}") from None
    if status != "IN_QUEUE":
        raise invalid(f"Only reports with processingStatus IN_QUEUE can be cancelled; report {report_id} is "
                      f"{status}")
    return ApiResult(None, status=200)


# ---------------------------------------------------------------------------------------------- documents
def get_report_document(req: ApiRequest, state: SandboxState) -> ApiResult:
    document_id = req.path_params["reportDocumentId"]
    content_encoding = req.boolean("enableContentEncodingUrlHeader", False)
    backend = _backend(state)
    document = backend.document(seller_key(req.credential), req.region, document_id)
    if document is None:
        raise ApiError(404, "NotFound", "Resource not found.", f"No report document {document_id!r}")
    body: dict[str, Any] = {"reportDocumentId": document.document_id,
                            "url": backend.document_url(state.public_base_url, document, content_encoding)}
    if document.compression:
        body["compressionAlgorithm"] = document.compression
    return ApiResult(body)


def download_document(req: ApiRequest, state: SandboxState) -> Response:
    """The presigned URL: no access token; 403 once expired, as S3 answers."""
    document_id = req.path_params["documentId"]
    backend = _backend(state)
    problem = backend.urls.check(document_id, req.get("expires") or "", req.get("signature") or "",
                                 req.get("ce") or "")
    if problem is not None:
        state.stats.add(f"downloadReportDocument.{problem}")
        return s3_refusal(problem)
    found = backend.document_file(document_id)
    if found is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    path, document = found
    headers = {"Last-Modified": formatdate(path.stat().st_mtime, usegmt=True)}
    if req.get("ce") == "gzip":
        headers["Content-Encoding"] = "gzip"
    state.stats.add("downloadReportDocument.bytes", path.stat().st_size)
    content_type = state.faults.declared_content_type(document.content_type)
    keep = state.faults.spec.truncate
    if keep is not None and document.compression:
        body = path.read_bytes()
        return Response(body[:int(len(body) * keep)], media_type=content_type, headers=headers)
    return FileResponse(path, media_type=content_type, headers=headers)

