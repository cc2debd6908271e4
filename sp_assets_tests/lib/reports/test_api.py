"""The Reports API calls against the sandbox (the domains' calls are tested in sp_assets_tests/lib/test_<domain>.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sp_assets.lib.reports.api import (
    TERMINAL_STATUSES,
    cancel_report,
    create_report,
    get_report,
    get_report_document,
    get_reports,
)
from sp_assets.lib.spapi import AccessDeniedError, NotFoundError, RetryPolicy
from sp_assets_tests.lib.spapi.support import US, client_for, wait_until

# ------------------------------------------------------------------------------------------------
# reports: the calls (the lifecycle is sp_assets/lib/reports/lifecycle.py's)


def test_report_calls_and_document_download(sandbox_factory, tmp_path: Path) -> None:
    sb = sandbox_factory(faults="")
    with client_for(sb) as client:
        report_id = create_report(client, "GET_MERCHANT_LISTINGS_ALL_DATA", [US], report_options={"custom": True})
        assert wait_until(lambda: get_report(client, report_id)["processingStatus"] in TERMINAL_STATUSES, 20)
        report = get_report(client, report_id)
        assert report["processingStatus"] == "DONE"
        document = get_report_document(client, report["reportDocumentId"])
        result = client.download_to(document["url"], tmp_path / "doc.bin")
        raw = result.path.read_bytes()
        data = gzip.decompress(raw) if document.get("compressionAlgorithm") == "GZIP" else raw
        assert result.bytes == len(raw) > 0 and result.charset
        header = data.decode(result.charset).splitlines()[0]
        assert "seller-sku" in header
        # Streaming gives the same bytes.
        assert b"".join(client.iter_download(document["url"])) == raw
        with pytest.raises(NotFoundError):
            get_report(client, "999999999999")


def test_document_download_survives_faults(sandbox_factory, tmp_path: Path) -> None:
    sb = sandbox_factory(faults="5xx=0.3,drop=0.3")
    with client_for(sb, retry=RetryPolicy(max_attempts=12)) as client:
        report_id = create_report(client, "GET_AFN_INVENTORY_DATA", [US])
        assert wait_until(lambda: get_report(client, report_id)["processingStatus"] in TERMINAL_STATUSES, 20)
        document_id = get_report(client, report_id)["reportDocumentId"]

        def fresh_url() -> str:  # a presigned URL lives 5 min / speed = 0.3 s here: fetch one per download
            return get_report_document(client, document_id)["url"]

        copies = [client.download_to(fresh_url(), tmp_path / f"{n}.bin").path.read_bytes() for n in range(6)]
        streamed = [b"".join(client.iter_download(fresh_url())) for _ in range(2)]
    assert len(copies[0]) > 20 and all(c == copies[0] for c in copies + streamed)
    faults = sb.stats.snapshot()
    assert sum(v for k, v in faults.items() if k.startswith("downloadReportDocument.fault")) > 0
    downloads = client.stats.family("downloads")
    assert downloads.calls == 8 and downloads.retries > 0 and downloads.failed_calls == 0


def test_expired_document_url_is_access_denied(sandbox_factory, tmp_path: Path) -> None:
    sb = sandbox_factory()
    with client_for(sb) as client:
        report_id = create_report(client, "GET_AFN_INVENTORY_DATA", [US])
        assert wait_until(lambda: get_report(client, report_id)["processingStatus"] in TERMINAL_STATUSES, 20)
        url = get_report_document(client, get_report(client, report_id)["reportDocumentId"])["url"]

        def expired() -> bool:  # the URL lives 5 min / speed 1000 = 0.3 s
            try:
                client.download_to(url, tmp_path / "doc")
            except AccessDeniedError as error:
                assert "Request has expired" in str(error) and "signature" not in str(error).lower()
                return True
            return False

        assert wait_until(expired, 10, 0.05)


def test_get_reports_sends_next_token_alone(sandbox_factory) -> None:
    sb = sandbox_factory()
    with client_for(sb) as client:
        reports = list(get_reports(client, ["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"], page_size=2))
    ids = [r["reportId"] for r in reports]
    assert len(ids) > 2 and len(set(ids)) == len(ids)
    assert sb.stats.get("getReports.served") == -(-len(ids) // 2)
    assert sb.stats.get("getReports.400") == 0


def test_cancel_report(sandbox_factory) -> None:
    sb = sandbox_factory(speed=1.0)  # slow: the report stays IN_QUEUE long enough to cancel
    with client_for(sb) as client:
        report_id = create_report(client, "GET_AFN_INVENTORY_DATA", [US])
        assert cancel_report(client, report_id) is None
        assert get_report(client, report_id)["processingStatus"] == "CANCELLED"
