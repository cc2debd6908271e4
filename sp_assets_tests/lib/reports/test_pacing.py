"""FBA reports Amazon generates at most once per period: the sandbox refuses, the client waits.

Amazon ends a request for such a type FATAL when one was generated for the seller and marketplace
less than ``request_interval_minutes`` (catalog) ago (amzn/selling-partner-api-models#4032). The
sandbox does the same (scaled by its speed); the lifecycle counts from the last request in its
ledger and waits the rest of the period before requesting, or, when the period ends after this
run's polling deadline, requests nothing and raises ``ReportPacedError`` (a retry comes later).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.ledger import ReportLedger
from sp_assets.lib.reports.lifecycle import PollPolicy, ReportFatalError, ReportPacedError, run_report
from sp_assets.lib.reports.request import ReportRequest
from sp_assets.sandbox.server import SandboxServer

from ..spapi.support import client_for

US = by_code("us").marketplace_id
PLANNING = "GET_FBA_INVENTORY_PLANNING_DATA"


def created(sb: SandboxServer) -> int:
    return requests.get(sb.base_url + "/_sandbox/stats", timeout=10).json().get(f"createReport.{PLANNING}", 0)


def test_a_once_per_period_report_is_refused_inside_its_period_and_the_client_waits_it_out(
        sandbox_factory: Callable[..., SandboxServer], tmp_path: Path) -> None:
    sb = sandbox_factory(speed=2000.0, orders_per_day=40,
                         extra={"report_queue_seconds": 0.05, "report_processing_seconds": 0.05})
    minutes = catalog.lookup(PLANNING).request_interval_minutes
    assert minutes == catalog.DAILY, "Amazon's daily FBA reports: once every 4 hours"
    period = minutes * 60 / sb.config.speed  # real seconds at the sandbox's speed
    request = ReportRequest(PLANNING, [US])
    ours, other_app = ReportLedger(tmp_path / "ours.sqlite"), ReportLedger(tmp_path / "other.sqlite")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with client_for(sb) as client:
        first = run_report(client, ours, request, work_dir=tmp_path / "work")
        assert first.status == "DONE" and first.rows > 0
        ours.mark_consumed(client.credential_id, request, first.report_id)

        # Another app (a ledger that never saw the first request) asks again inside the period: FATAL.
        with pytest.raises(ReportFatalError) as fatal:
            run_report(client, other_app, request, work_dir=tmp_path / "work")
        assert f"at most once every {minutes} minutes" in str(fatal.value.error_details)

        # Our ledger knows the first request: with too short a deadline nothing is requested at all...
        before = created(sb)
        with pytest.raises(ReportPacedError, match=f"{PLANNING} .*at most once every {minutes} minutes.*nothing was "
                                                   f"requested"):
            run_report(client, ours, request, poll=PollPolicy(timeout=60.0), work_dir=tmp_path / "work")
        assert created(sb) == before

        # ...and with the default deadline the client waits out the rest of the period, then gets the report.
        again = run_report(client, ours, request, sleep=sleep, work_dir=tmp_path / "work")
        assert again.status == "DONE" and again.report_id != first.report_id
        assert 0 < waits[0] <= period, "the first sleep is the rest of Amazon's period"
        assert created(sb) == before + 1
        first.cleanup()
        again.cleanup()
