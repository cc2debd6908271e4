"""Reports 2021-06-30: the API calls only (the lifecycle that uses them is ``lifecycle.py``).

createReport -> getReport (poll) -> getReportDocument -> ``SPAPIClient.download_to(url, ...)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sp_assets.lib.spapi.errors import InvalidResponseError
from sp_assets.lib.spapi.http import SPAPIClient, iso_z, path_segment
from sp_assets.lib.spapi.pages import REPORTS, iter_records, top_list

REPORTS_PATH = "/reports/2021-06-30/reports"
DOCUMENTS_PATH = "/reports/2021-06-30/documents"
PROCESSING_STATUSES = ("IN_QUEUE", "IN_PROGRESS", "DONE", "CANCELLED", "FATAL")
TERMINAL_STATUSES = frozenset({"DONE", "CANCELLED", "FATAL"})


def _aware(name: str, value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return iso_z(value)


def create_report(
    client: SPAPIClient,
    report_type: str,
    marketplace_ids: Sequence[str],
    *,
    data_start_time: datetime | None = None,
    data_end_time: datetime | None = None,
    report_options: Mapping[str, str] | None = None,
) -> str:
    """Request a report; returns its ``reportId`` (Amazon answers 202).

    Like every call, a connection error or 5xx is retried: if Amazon had created the report before the
    connection broke, a second report is requested. That costs quota, not correctness (the lifecycle
    keeps the id it got), so it is accepted rather than making POSTs unretryable.
    """
    ids = [marketplace_ids] if isinstance(marketplace_ids, str) else list(marketplace_ids)
    if not 1 <= len(ids) <= 25:
        raise ValueError(f"marketplace_ids must hold 1 to 25 ids, got {len(ids)}")
    body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": ids}
    start, end = _aware("data_start_time", data_start_time), _aware("data_end_time", data_end_time)
    if start:
        body["dataStartTime"] = start
    if end:
        body["dataEndTime"] = end
    if report_options:
        # Amazon wants string values ({"custom": "true"}); a Python bool would be sent as JSON true.
        body["reportOptions"] = {str(k): _option_text(v) for k, v in report_options.items()}
    answer = client.request("createReport", "POST", REPORTS_PATH, json=body)
    report_id = answer.get("reportId") if isinstance(answer, dict) else None
    if not report_id:
        raise InvalidResponseError(status=202, operation="createReport", method="POST", path=REPORTS_PATH,
                                   body_snippet=f"no reportId in {str(answer)[:200]!r}")
    return str(report_id)


def _option_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def get_report(client: SPAPIClient, report_id: str) -> dict[str, Any]:
    """One report's status record (``processingStatus``, ``reportDocumentId`` once DONE...)."""
    answer = client.request("getReport", "GET", f"{REPORTS_PATH}/{path_segment(report_id)}")
    return answer if isinstance(answer, dict) else {}


def get_reports(
    client: SPAPIClient,
    report_types: Sequence[str],
    *,
    processing_statuses: Sequence[str] | None = None,
    marketplace_ids: Sequence[str] | None = None,
    created_since: datetime | None = None,
    created_until: datetime | None = None,
    page_size: int = 100,
) -> Iterator[dict[str, Any]]:
    """Yield reports of the given types (1-10), newest first as Amazon orders them, all pages.

    Follow-up pages send ``nextToken`` alone, as Amazon requires. Amazon keeps 90 days of reports.
    """
    types = [report_types] if isinstance(report_types, str) else list(report_types)
    if not 1 <= len(types) <= 10:
        raise ValueError(f"report_types must hold 1 to 10 types, got {len(types)}")
    if processing_statuses:
        bad = [s for s in processing_statuses if s not in PROCESSING_STATUSES]
        if bad:
            raise ValueError(f"processing_statuses has unknown value(s) {bad}; allowed: {', '.join(PROCESSING_STATUSES)}")
    if marketplace_ids is not None and not 1 <= len(marketplace_ids) <= 10:
        raise ValueError(f"marketplace_ids must hold 1 to 10 ids, got {len(marketplace_ids)}")
    if not 1 <= page_size <= 100:
        raise ValueError(f"page_size must be 1..100, got {page_size}")
    params: dict[str, Any] = {
        "reportTypes": types,
        "processingStatuses": list(processing_statuses) if processing_statuses else None,
        "marketplaceIds": list(marketplace_ids) if marketplace_ids else None,
        "pageSize": page_size,
        "createdSince": _aware("created_since", created_since),
        "createdUntil": _aware("created_until", created_until),
    }
    yield from iter_records(client, "getReports", REPORTS_PATH, params, REPORTS, top_list("reports"))


def cancel_report(client: SPAPIClient, report_id: str) -> None:
    """Cancel a report; Amazon only cancels IN_QUEUE ones (others give a 400)."""
    client.request("cancelReport", "DELETE", f"{REPORTS_PATH}/{path_segment(report_id)}")


def get_report_document(client: SPAPIClient, report_document_id: str) -> dict[str, Any]:
    """``{reportDocumentId, url, compressionAlgorithm?}``; the URL expires after 5 minutes."""
    answer = client.request("getReportDocument", "GET", f"{DOCUMENTS_PATH}/{path_segment(report_document_id)}")
    if not isinstance(answer, dict) or not answer.get("url"):
        raise InvalidResponseError(status=200, operation="getReportDocument", method="GET",
                                   path=f"{DOCUMENTS_PATH}/{report_document_id}",
                                   body_snippet=f"no url in {str(answer)[:200]!r}")
    return answer
