"""The Data Kiosk client (``sp_assets.lib.data_kiosk``): query text against Amazon's schemas, and the
lifecycle against the sandbox over real HTTP (DONE, FATAL, CANCELLED, resuming after a crash)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from sp_assets.lib import data_kiosk as dk
from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.reports.ledger import ReportLedger
from sp_assets.lib.tablespec import frame_from_records
from sp_assets.sandbox.server import SandboxServer

from .spapi.support import client_for

US = by_code("us").marketplace_id
JP = by_code("jp").marketplace_id
SPEED = 2000.0
FAST = {"datakiosk_queue_seconds": 0.0, "datakiosk_processing_seconds": 0.0}


class SimulatedCrash(Exception):
    """Raised from the poll's sleep: the process "dies" after the query id is in the ledger."""


def fast(sandbox_factory: Callable[..., SandboxServer], **extra: Any) -> SandboxServer:
    return sandbox_factory(speed=SPEED, orders_per_day=40, extra={**FAST, **extra})


def created(sb: SandboxServer) -> int:
    return requests.get(sb.base_url + "/_sandbox/stats", timeout=10).json().get("createQuery.served", 0)


def past(days_ago: int) -> date:
    return (datetime.now(UTC) - timedelta(days=days_ago)).date()


@pytest.fixture
def ledger(tmp_path: Path) -> ReportLedger:
    return ReportLedger(tmp_path / "state" / "reports.sqlite")


# ------------------------------------------------------------------------------------------ queries
@pytest.mark.parametrize("dataset", list(dk.DATASETS.values()), ids=list(dk.DATASETS))
def test_every_built_query_validates_against_amazons_schema(dataset: dk.Dataset) -> None:
    text = dk.build_query(dataset, US, date(2026, 11, 1), date(2026, 11, 1))
    assert dk.validate_query(text) == []
    assert text.startswith(f"query {{ {dataset.schema} {{ {dataset.list_field}(")
    assert f'marketplaceIds: ["{US}"]' in text and 'startDate: "2026-11-01"' in text
    for item in dataset.fields:  # every column's path is selected
        assert item.path.split(".")[-1] in text


def test_an_invalid_field_or_argument_is_refused_naming_it() -> None:
    good = dk.build_query(dk.ECONOMICS, US, date(2026, 11, 1), date(2026, 11, 1))
    problems = dk.validate_query(good.replace("msku", "mskuu"))
    assert problems and "mskuu" in problems[0] and "Economics" in problems[0]
    assert any("startDate" in p for p in dk.validate_query(good.replace('startDate: "2026-11-01", ', "")))
    assert "not valid GraphQL" in dk.validate_query(good[:-3])[0]
    assert "exactly one dataset root field" in dk.validate_query("query { analytics_nothing { x } }")[0]
    with pytest.raises(dk.QueryValidationError, match="mskuu"):
        dk.check_query(good.replace("msku", "mskuu"))
    broken = dk.Dataset(key="broken", table="broken", schema=dk.ECONOMICS.schema, list_field="economics",
                        arguments=dk.ECONOMICS.arguments, fields=(dk.Field("x", "sales.noSuchThing", "BIGINT"),),
                        primary_key=(), description="")
    with pytest.raises(dk.QueryValidationError, match="noSuchThing"):
        dk.build_query(broken, US, date(2026, 11, 1), date(2026, 11, 1))


def test_the_ledger_key_is_its_own_kind_and_changes_with_the_query() -> None:
    request = dk.KioskRequest.build(dk.ECONOMICS, US, date(2026, 11, 1))
    key = request.ledger_key
    assert key.report_type == "DATA_KIOSK_ECONOMICS" and key.marketplace_ids == (US,)
    assert key.data_start == datetime(2026, 11, 1, tzinfo=UTC)
    other = dk.KioskRequest(dk.ECONOMICS, US, request.first, request.last, request.query.replace("fnsku ", ""))
    assert other.ledger_key.key != key.key


# ------------------------------------------------------------------------------------------ lifecycle
def test_done_query_loads_typed_rows_and_is_recorded(sandbox_factory, ledger: ReportLedger, tmp_path: Path) -> None:
    sb = fast(sandbox_factory)
    request = dk.KioskRequest.build(dk.ECONOMICS, US, past(5))
    with client_for(sb) as client:
        outcome = dk.run_query(client, ledger, request, work_dir=tmp_path / "work")
        entry = ledger.entry(client.credential_id, request.ledger_key)
    assert not outcome.resumed and outcome.path is not None and outcome.path.parent == tmp_path / "work"
    assert entry is not None and entry.report_id == outcome.query_id and entry.status == "DONE"
    assert [t["status"] for t in outcome.timeline][-1] == "DONE"
    rows = dk.rows(outcome, past(5))
    frame = frame_from_records(dk.ECONOMICS.spec, rows)
    assert frame.height == len(rows) > 0
    assert str(frame.schema["ordered_product_sales"]) == "Decimal(precision=18, scale=2)"
    assert all(r["currency"] == "USD" and r["msku"] and r["query_id"] == outcome.query_id for r in rows)
    for row in frame.iter_rows(named=True):
        assert row["net_proceeds"] == row["net_product_sales"] - row["total_fees"]
    outcome.cleanup()
    assert not outcome.path.exists()


def test_a_fatal_query_raises_with_the_error_document_and_is_not_resumed(sandbox_factory,
                                                                         ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory)
    good = dk.KioskRequest.build(dk.ECONOMICS, US, past(5))
    bad = dk.KioskRequest(dk.ECONOMICS, US, good.first, good.last, good.query.replace("fnsku", "fnskuu"))
    with client_for(sb) as client:
        with pytest.raises(dk.DataKioskFatalError, match="ended FATAL: .*fnskuu.*nothing was written") as failed:
            dk.run_query(client, ledger, bad)
        entry = ledger.entry(client.credential_id, bad.ledger_key)
        assert entry is not None and entry.status == "FATAL" and "fnskuu" in (entry.error or "")
        with pytest.raises(dk.DataKioskFatalError) as again:
            dk.run_query(client, ledger, bad)
    assert again.value.query_id != failed.value.query_id, "a FATAL query is never resumed"


def test_a_cancelled_query_raises_clearly_and_the_next_run_creates_a_new_one(sandbox_factory,
                                                                             ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory, datakiosk_queue_seconds=600.0)
    request = dk.KioskRequest.build(dk.SALES_TRAFFIC_BY_DATE, US, past(5))

    def crash(_seconds: float) -> None:
        raise SimulatedCrash()

    with client_for(sb) as client:
        with pytest.raises(SimulatedCrash):
            dk.run_query(client, ledger, request, sleep=crash)
        entry = ledger.entry(client.credential_id, request.ledger_key)
        assert entry is not None and entry.status == "IN_QUEUE"
        dk.cancel_query(client, entry.report_id)
        with pytest.raises(dk.DataKioskCancelledError, match="CANCELLED.*nothing was written"):
            dk.run_query(client, ledger, request)
        with pytest.raises(SimulatedCrash):
            dk.run_query(client, ledger, request, sleep=crash)
        fresh = ledger.entry(client.credential_id, request.ledger_key)
    assert fresh is not None and fresh.report_id != entry.report_id and created(sb) == 2


def test_a_relaunch_after_a_crash_resumes_the_same_query(sandbox_factory, ledger: ReportLedger) -> None:
    """The sandbox's clock is held while the first run polls, so it surely sees the query queued."""
    sb = fast(sandbox_factory, datakiosk_queue_seconds=600.0)
    frozen = datetime.now(UTC)
    sb.seller.clock = lambda: frozen
    request = dk.KioskRequest.build(dk.SALES_TRAFFIC_BY_ASIN, US, past(5))

    def crash(_seconds: float) -> None:
        raise SimulatedCrash()

    with client_for(sb) as client, pytest.raises(SimulatedCrash):
        dk.run_query(client, ledger, request, sleep=crash)
    sb.seller.clock = lambda: frozen + timedelta(seconds=601)
    with client_for(sb) as client:  # a new process: new client, same ledger file
        outcome = dk.run_query(client, ledger, request)
        assert outcome.resumed and created(sb) == 1, "no second createQuery for the same day"
        assert dk.rows(outcome, past(5)) and all(r["child_asin"] for r in dk.rows(outcome, past(5)))
        ledger.mark_consumed(client.credential_id, request.ledger_key, outcome.query_id)
        later = frozen + timedelta(seconds=1300)  # the fresh query's queue time passes while the run waits
        fresh = dk.run_query(client, ledger, request, sleep=lambda _s: setattr(sb.seller, "clock", lambda: later))
    assert not fresh.resumed and fresh.query_id != outcome.query_id and created(sb) == 2


def test_a_day_without_data_is_done_without_a_document(sandbox_factory, ledger: ReportLedger) -> None:
    sb = fast(sandbox_factory)
    request = dk.KioskRequest.build(dk.ECONOMICS, JP, datetime.now(UTC).date() + timedelta(days=2))
    with client_for(sb, "FE") as client:
        outcome = dk.run_query(client, ledger, request)
    assert outcome.path is None and outcome.document_id is None and dk.rows(outcome, request.first) == []


def test_money_is_exact_in_yen_and_dollars() -> None:
    assert dk.ECONOMICS.derived({"fees": [{"charges": [{"aggregatedDetail": {"totalAmount": {"amount": 0.1}}},
                                                       {"aggregatedDetail": {"totalAmount": {"amount": 0.2}}}]}]}) \
        == {"total_fees": Decimal("0.3")}


def test_every_page_of_a_paged_result_is_loaded(sandbox_factory, ledger: ReportLedger, tmp_path: Path) -> None:
    paged = fast(sandbox_factory, datakiosk_page_rows=3, datakiosk_gzip_min_bytes=600)  # gzip and plain pages
    whole = fast(sandbox_factory)
    request = dk.KioskRequest.build(dk.ECONOMICS, US, past(6))
    with client_for(paged) as client:
        outcome = dk.run_query(client, ledger, request, work_dir=tmp_path / "paged")
    with client_for(whole) as client:
        expected = dk.run_query(client, ReportLedger(tmp_path / "other.sqlite"), request)
    got, want = dk.rows(outcome, past(6)), dk.rows(expected, past(6))
    assert len(want) > 6 and created(paged) == -(-len(want) // 3), "one createQuery per page"
    strip = [{k: v for k, v in r.items() if k != "query_id"} for r in got]
    assert strip == [{k: v for k, v in r.items() if k != "query_id"} for r in want]
    assert [p.name for p in (tmp_path / "paged").iterdir()] == [outcome.path.name], "pages joined, parts removed"
