"""The report lifecycle (``sp_assets.lib.reports.lifecycle``) against the sandbox over real HTTP.

Covers the DONE path, resuming after a crash without a second createReport (checked on the server's
own counters at ``/_sandbox/stats``), CANCELLED as an outcome, FATAL with the error document's text,
expired document URLs, charsets, the quote option and drift-friendly parsing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.reports.decoding import transcode_to_utf8
from sp_assets.lib.reports.ledger import ReportLedger
from sp_assets.lib.reports.lifecycle import (
    PollPolicy,
    ReportDownloadError,
    ReportFatalError,
    ReportTimeoutError,
    StatusEvent,
    run_report,
)
from sp_assets.lib.reports.parsing import (
    ReportParseError,
    flatten_sales_and_traffic,
    read_tsv,
    tsv_record_batches,
)
from sp_assets.lib.reports.request import ReportRequest, day_window
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.server import SandboxServer

from ..spapi.support import REFRESH_TOKENS, client_for

US = by_code("us").marketplace_id
JP = by_code("jp").marketplace_id
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
RETURNS = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
SPEED = 2000.0


class SimulatedCrash(Exception):
    """Raised from the status callback: the process "dies" after the report id is in the ledger."""


def fast(sandbox_factory: Callable[..., SandboxServer], **config: Any) -> SandboxServer:
    extra = {"report_url_ttl_seconds": 5.0, **config.pop("extra", {})}
    config.setdefault("orders_per_day", 40)
    return sandbox_factory(speed=SPEED, extra=extra, **config)


def server_stats(sb: SandboxServer) -> dict[str, int]:
    """The sandbox's counters over HTTP, as a crash test in another process would read them."""
    return requests.get(sb.base_url + "/_sandbox/stats", timeout=10).json()


def day(days_ago: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


def orders_request(days_ago: int = 8) -> ReportRequest:
    return ReportRequest(ALL_ORDERS, [US], *day_window(day(days_ago)))


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> ReportLedger:
    """Every lifecycle test on both ledgers: the SQLite file, and PostgreSQL (``SP_ASSETS_REPORT_LEDGER``
    as a URL), where several machines share it."""
    if request.param == "sqlite":
        return ReportLedger(tmp_path / "state" / "reports.sqlite")
    return ReportLedger(request.getfixturevalue("new_pg_database")())


def ledger_dump(ledger: ReportLedger) -> str:
    """Every row the ledger holds, as text."""
    if not ledger.is_postgres:
        with sqlite3.connect(ledger.path) as conn:
            return "\n".join(conn.iterdump())
    import psycopg2  # type: ignore[import-untyped]

    assert ledger.url is not None
    with psycopg2.connect(ledger.url) as conn, conn.cursor() as cursor:
        rows = []
        for table in ("reports", "report_attempts"):
            cursor.execute(f"SELECT * FROM {table}")
            rows += [repr(row) for row in cursor.fetchall()]
    return "\n".join(rows)


# ------------------------------------------------------------------------------------------ lifecycle
def test_done_path_gives_a_utf8_tsv_and_records_the_ledger(sandbox_factory, ledger: ReportLedger,
                                                          tmp_path: Path) -> None:
    sb = fast(sandbox_factory)
    events: list[StatusEvent] = []
    request = orders_request()
    with client_for(sb) as client:
        outcome = run_report(client, ledger, request, on_status=events.append, work_dir=tmp_path / "work")
        credential = client.credential_id
    assert outcome.status == "DONE" and not outcome.resumed and outcome.path is not None
    assert outcome.path.parent == tmp_path / "work" and outcome.charset == "cp1252"
    truth = sb.seller.orders_created_between(US, day(8), day(7))
    assert outcome.rows == sum(len(o.items) for o in truth)
    table = outcome.table()
    assert table.columns[:3] == ["amazon_order_id", "merchant_order_id", "purchase_date"]
    rows = table.rows()
    assert {r["amazon_order_id"] for r in rows} == {o.amazon_order_id for o in truth}
    assert rows[0]["merchant_order_id"] is None, "empty values are NULL"
    assert [e.status for e in events][-1] == "DONE" and events[-1].elapsed >= events[0].elapsed
    assert all(e.report_id == outcome.report_id for e in events)
    entry = ledger.entry(credential, request)
    assert entry is not None and entry.status == "DONE" and entry.document_id == outcome.document_id
    assert server_stats(sb)[f"createReport.{ALL_ORDERS}"] == 1
    outcome.cleanup()
    assert not outcome.path.exists()


def test_a_relaunched_run_resumes_the_same_report(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory, extra={"report_queue_seconds": 0.3})
    request = orders_request(9)

    def crash_at_first_status(event: StatusEvent) -> None:
        raise SimulatedCrash(event.report_id)

    with client_for(sb) as client, pytest.raises(SimulatedCrash) as crashed:
        run_report(client, ledger, request, on_status=crash_at_first_status)
    with client_for(sb) as client:
        entry = ledger.entry(client.credential_id, request)
    assert entry is not None and entry.report_id == str(crashed.value), "the id was recorded before polling"
    with client_for(sb) as client:  # a new process: new client, same ledger file
        outcome = run_report(client, ledger, request)
        assert outcome.status == "DONE" and outcome.resumed
        assert outcome.report_id == str(crashed.value)
        assert server_stats(sb)[f"createReport.{ALL_ORDERS}"] == 1, "no second createReport for the partition"

        # Once the caller has stored the data, the next run asks Amazon for fresh data.
        ledger.mark_consumed(client.credential_id, request, outcome.report_id)
        fresh = run_report(client, ledger, request)
        assert not fresh.resumed and fresh.report_id != outcome.report_id
        assert ledger.attempts(client.credential_id, request) == [(outcome.report_id, "DONE"),
                                                                  (fresh.report_id, "DONE")]
    assert server_stats(sb)[f"createReport.{ALL_ORDERS}"] == 2


def test_a_report_amazon_no_longer_knows_is_requested_again(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory)
    request = orders_request(10)
    with client_for(sb) as client:
        ledger.record_requested(client.credential_id, request, "50000000001")  # e.g. from another environment
        outcome = run_report(client, ledger, request)
        assert outcome.status == "DONE" and not outcome.resumed and outcome.report_id != "50000000001"
        assert [a[0] for a in ledger.attempts(client.credential_id, request)] == ["50000000001", outcome.report_id]
    assert server_stats(sb)[f"createReport.{ALL_ORDERS}"] == 1


def test_cancelled_is_an_outcome_without_data(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory, orders_per_day=0)
    with client_for(sb) as client:
        outcome = run_report(client, ledger, orders_request(3))
        entry = ledger.entry(client.credential_id, orders_request(3))
    assert outcome.status == "CANCELLED" and outcome.path is None and not outcome.has_data
    assert entry is not None and entry.status == "CANCELLED"


def test_fatal_raises_with_the_error_document_and_the_next_run_requests_anew(sandbox_factory,
                                                                            ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory, faults="fatal=first")
    request = orders_request(11)
    with client_for(sb) as client:
        with pytest.raises(ReportFatalError) as fatal:
            run_report(client, ledger, request)
        assert "submit a new report request" in (fatal.value.error_details or "")
        assert fatal.value.report_id in str(fatal.value)
        entry = ledger.entry(client.credential_id, request)
        assert entry is not None and entry.status == "FATAL" and "submit a new" in (entry.error or "")
        outcome = run_report(client, ledger, request)
    assert outcome.status == "DONE" and not outcome.resumed
    assert server_stats(sb)[f"createReport.{ALL_ORDERS}"] == 2


def test_an_expired_document_url_is_fetched_again(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory, extra={"report_url_expired_first": True})
    with client_for(sb) as client:
        outcome = run_report(client, ledger, ReportRequest("GET_MERCHANT_LISTINGS_ALL_DATA", [US]))
    assert outcome.status == "DONE" and outcome.url_refreshes == 1
    stats = server_stats(sb)
    assert stats["downloadReportDocument.ExpiredToken"] == 1 and stats["getReportDocument.served"] == 2

    never = fast(sandbox_factory, extra={"report_url_ttl_seconds": -1.0})
    with client_for(never) as client, pytest.raises(ReportDownloadError, match="refused 3 times"):
        run_report(client, ledger, ReportRequest("GET_MERCHANT_LISTINGS_ALL_DATA", [US]),
                   poll=PollPolicy(max_url_refreshes=2))


def test_a_run_that_waits_too_long_times_out_and_keeps_the_id(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory, extra={"report_queue_seconds": 600.0})
    request = orders_request(12)
    with client_for(sb) as client:
        with pytest.raises(ReportTimeoutError, match="IN_QUEUE") as late:
            run_report(client, ledger, request, poll=PollPolicy(timeout=200.0))  # 0.1 s at speed 2000
        entry = ledger.entry(client.credential_id, request)
    assert entry is not None and entry.report_id == late.value.report_id and entry.status == "IN_QUEUE"


# ------------------------------------------------------------------------------------------ documents
def test_japanese_listing_is_transcoded_from_shift_jis(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory)
    with client_for(sb, region="FE") as client:
        outcome = run_report(client, ledger, ReportRequest("GET_MERCHANT_LISTINGS_ALL_DATA", [JP]))
    assert outcome.charset == "cp932"
    rows = outcome.table().rows()
    assert [r["item_name"] for r in rows] == [p.title for p in sb.seller.products(JP)]
    assert "ステンレス" in outcome.path.read_text(encoding="utf-8")


def _quoted_comment_window(sb: SandboxServer) -> tuple[datetime, str]:
    """A recent day whose returns include a buyer comment starting with a double quote."""
    now = datetime.now(UTC)
    for days_ago in range(5, 60):
        start = day(days_ago)
        for event in docs.returns_between(sb.seller, US, start, start + timedelta(days=1), now):
            if event.comment.startswith('"'):
                return start, event.comment
    raise AssertionError("no return with a quoted comment in 60 days")


def test_the_quote_option_decides_how_a_leading_quote_is_read(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory, orders_per_day=300)
    start, comment = _quoted_comment_window(sb)
    with client_for(sb) as client:
        outcome = run_report(client, ledger, ReportRequest(RETURNS, [US], *day_window(start)))
    literal = [r["customer_comments"] for r in read_tsv(outcome.path, quote=None)]
    quoted = [r["customer_comments"] for r in read_tsv(outcome.path, quote='"')]
    assert comment in literal, "quote=None keeps every byte as Amazon wrote it"
    assert comment not in quoted and len(quoted) == len(literal) == outcome.rows
    with pytest.raises(ReportParseError, match="quote"):
        read_tsv(outcome.path, quote="'")


def test_sales_and_traffic_is_parsed_and_flattened(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory)
    request = ReportRequest(docs.SALES_AND_TRAFFIC, [US], *day_window(day(8)),
                            options={"dateGranularity": "DAY", "asinGranularity": "CHILD"})
    with client_for(sb) as client:
        outcome = run_report(client, ledger, request)
    assert outcome.path is not None and outcome.path.suffix == ".json" and outcome.rows is None
    flat = flatten_sales_and_traffic(outcome.data)
    (by_date,) = flat.by_date
    assert by_date["date"] == day(8).date().isoformat() and by_date["marketplace_id"] == US
    assert {"ordered_product_sales_amount", "ordered_product_sales_currency_code", "units_ordered",
            "browser_page_views", "sessions"} <= set(by_date)
    truth = [o for o in sb.seller.orders_created_between(US, day(8), day(7)) if o.status != "Canceled"]
    assert Decimal(str(by_date["ordered_product_sales_amount"])) == sum(
        (i.item_price for o in truth for i in o.items), Decimal(0))
    assert flat.by_asin and all(r["child_asin"] and r["sku"] is None for r in flat.by_asin)
    assert sum(r["units_ordered"] for r in flat.by_asin) == by_date["units_ordered"]


# ------------------------------------------------------------------------------------------ units
def test_parsing_keeps_every_column_and_tolerates_drift(tmp_path: Path) -> None:
    path = tmp_path / "drift.tsv"
    path.write_text("\ufeffDate\tMSKU\tStarting Warehouse Balance\tStartingWarehouseBalance\tBrand New Column\n"
                    "05/2025\tTEE \"VINTAGE\" L\t10\t11\tx\n"
                    "06/2025\tKIT#7 SET\t\n"
                    "07/2025\tA\t1\t2\t3\tsurprise\n", encoding="utf-8")
    table = read_tsv(path, quote=None)
    assert table.columns == ["date", "msku", "starting_warehouse_balance", "starting_warehouse_balance_2",
                             "brand_new_column"]
    first, short, long = table.rows()
    assert first["msku"] == 'TEE "VINTAGE" L' and first["starting_warehouse_balance_2"] == "11"
    assert short["starting_warehouse_balance"] is None and short["brand_new_column"] is None
    assert long["extra_1"] == "surprise"
    (batch,) = list(tsv_record_batches(table))
    assert batch.num_rows == 3 and batch.schema.names[-1] == "extra_1"

    japanese = tmp_path / "jp.tsv"
    japanese.write_text("注文番号\tsku\n1\tA\n", encoding="utf-8")
    with pytest.raises(ReportParseError, match="header_map"):
        read_tsv(japanese)
    assert read_tsv(japanese, header_map={"注文番号": "order-id"}).columns == ["order_id", "sku"]


def test_transcoding_follows_the_declared_charset_then_falls_back(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.write_bytes("item-name\nKöln Café – 5€\n".encode("cp1252"))
    undeclared = transcode_to_utf8(raw, tmp_path / "a.tsv", declared=None, fallback="Cp1252")
    assert undeclared.charset == "cp1252" and undeclared.lines == 2
    assert (tmp_path / "a.tsv").read_text(encoding="utf-8") == "item-name\nKöln Café – 5€\n"
    wrong = transcode_to_utf8(raw, tmp_path / "b.tsv", declared="UTF-8", fallback="UTF-8")
    assert wrong.charset == "cp1252", "a declared charset that fails is dropped for the next candidate"
    bom = tmp_path / "bom"
    bom.write_bytes("\ufeffsku\tname\nA\tÄ".encode())
    result = transcode_to_utf8(bom, tmp_path / "c.tsv", declared="utf-8", fallback=None)
    assert (tmp_path / "c.tsv").read_text(encoding="utf-8") == "sku\tname\nA\tÄ" and result.lines == 2


def test_requests_validate_and_have_a_stable_key() -> None:
    start, end = day_window(datetime(2025, 3, 1, tzinfo=UTC))
    assert end == datetime(2025, 3, 1, 23, 59, 59, tzinfo=UTC)
    one = ReportRequest(ALL_ORDERS, US, start, end, {"b": "2", "a": "1"})
    two = ReportRequest(ALL_ORDERS, [US], start, end, {"a": "1", "b": "2"})
    assert one == two and one.key == two.key and one.marketplace_ids == (US,)
    with pytest.raises(ValueError, match="'custom' \\(bool\\)"):
        ReportRequest("GET_MERCHANT_LISTINGS_ALL_DATA", [US], options={"custom": True})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="timezone-aware"):
        ReportRequest(ALL_ORDERS, [US], datetime(2025, 3, 1), end)
    with pytest.raises(ValueError, match="must not be after"):
        ReportRequest(ALL_ORDERS, [US], end, start)
    with pytest.raises(ValueError, match="report_type"):
        ReportRequest("all orders", [US])
    with pytest.raises(ValueError, match="1 to 25"):
        ReportRequest(ALL_ORDERS, [US] * 26)


def test_the_ledger_stores_no_secret(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory)
    with client_for(sb) as client:
        run_report(client, ledger, ReportRequest("GET_MERCHANT_LISTINGS_ALL_DATA", [US]))
    dump = ledger_dump(ledger)
    assert REFRESH_TOKENS["NA"] not in dump and "sandbox-client-secret" not in dump
    assert "GET_MERCHANT_LISTINGS_ALL_DATA" in dump


def test_the_ledger_lock_holds_against_another_process_view(ledger: ReportLedger) -> None:
    """"Look up or request" is serialized per key across processes (and machines, on PostgreSQL): a second
    ledger object on the same store (another process's view) waits, then gives up naming the timeout."""
    other = ReportLedger(ledger.url or ledger.path)
    request, other_request = orders_request(8), orders_request(9)
    with ledger.lock("fingerprint", request):
        with pytest.raises(TimeoutError):
            with other.lock("fingerprint", request, timeout=0.2):
                pass
        with other.lock("fingerprint", other_request, timeout=5):  # another key is not blocked
            pass
    with other.lock("fingerprint", request, timeout=5):  # released with the block
        pass


def test_a_ledger_that_is_neither_a_file_nor_postgres_is_refused(tmp_path: Path) -> None:
    from sp_assets.lib.reports.ledger import LedgerError

    with pytest.raises(LedgerError) as refused:
        ReportLedger("sqlite://user:pa55-word-x@host/ledger")
    message = str(refused.value)
    assert message.startswith("SP_ASSETS_REPORT_LEDGER='sqlite://user:***@host/ledger'")
    assert "postgresql://" in message and "pa55-word-x" not in message and "nothing was written" in message


def test_a_postgres_ledger_that_fails_mid_call_names_the_variable_without_the_password(
        new_pg_database: Callable[[], str]) -> None:
    """A statement that fails on the server (here: its table dropped by someone) is the ledger's error,
    naming the variable and the URL without its password, not psycopg2's bare exception."""
    import psycopg2

    from sp_assets.lib.reports.ledger import LedgerError

    url = new_pg_database()
    ledger = ReportLedger(url.replace("postgresql://sp_assets@", "postgresql://sp_assets:not-a-secret-pw@"))
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute("DROP TABLE reports")
    with pytest.raises(LedgerError) as raised:
        ledger.entry("fingerprint", orders_request(8))
    message = str(raised.value)
    assert message.startswith("SP_ASSETS_REPORT_LEDGER: using the report ledger at postgresql://sp_assets:***@")
    assert "reports" in message and "not-a-secret-pw" not in message and raised.value.__cause__ is None
