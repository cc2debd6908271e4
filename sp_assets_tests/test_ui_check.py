"""``make ui-check``'s module: it imports without playwright, and it catches what it must catch.

The full check (``make dev``, a backfill, the Dagster UI in Chromium) is run by ``make ui-check``
itself. Here the failure detection is tested twice: on Playwright-shaped messages (always), and in
the real browser on local pages served over HTTP, one clean and one that logs a console error and
throws (skipped, saying why, where playwright or Chromium is absent).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sp_assets import ui_check
from sp_assets.ui_check import Page, Problems, UiCheckError


@dataclass
class Message:
    type: str
    text: str


@dataclass
class PageError:
    message: str


def test_console_errors_and_page_errors_are_problems_and_other_messages_are_not() -> None:
    problems = Problems()
    problems.page = "04-asset"
    for kind in ("log", "info", "warning", "debug"):
        problems.on_console(Message(kind, "noise"))
    assert problems.ok
    problems.on_console(Message("error", "Failed to load resource: 500"))
    problems.on_page_error(PageError("TypeError: x is undefined"))
    assert not problems.ok
    assert problems.found == ["04-asset: console error: Failed to load resource: 500",
                              "04-asset: page error: TypeError: x is undefined"]


def test_the_pages_show_the_demo_run_on_the_job_page_and_the_asset_and_backfill_by_path() -> None:
    opened = {page.name: page for page in ui_check.pages("sp_assets", "us_rolling_job", "cf47ea1d-0000", ("us", "orders"),
                                                         "abcdefgh")}
    assert opened["02-job-runs"] == Page("02-job-runs", "/locations/sp_assets/jobs/us_rolling_job/runs", "cf47ea1d")
    assert opened["05-asset-partitions"].path == "/assets/us/orders?view=partitions"
    assert opened["06-backfill"].path == "/runs/b/abcdefgh"
    assert len(opened) == 6


def test_without_a_browser_the_check_fails_naming_what_is_missing(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setattr(ui_check, "CHROMIUM", str(tmp_path / "no-chromium"))
    expected = "playwright" if importlib.util.find_spec("playwright") is None else "no Chromium at"
    with pytest.raises(UiCheckError, match=expected):
        ui_check.browse("http://127.0.0.1:9", [Page("x", "/", "x")], tmp_path / "shots")


HEAD = '<head><link rel="icon" href="data:,"></head>'  # no favicon request (its 404 is a console error too)
GOOD = f"<html>{HEAD}<body><h1>All is well</h1></body></html>"
BAD = (f"<html>{HEAD}<body><h1>All is well</h1><script>console.error('boom from the page');"
       "setTimeout(() => { throw new Error('kaboom'); }, 0);</script></body></html>")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "good.html").write_text(GOOD)
    (root / "bad.html").write_text(BAD)

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_in_chromium_a_page_that_logs_an_error_or_throws_fails_and_a_clean_page_passes(
        site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed here (`make ui-check` installs it into the venv)")
    if not Path(ui_check.CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {ui_check.CHROMIUM} (`make ui-check` installs Debian's chromium)")
    monkeypatch.setattr(ui_check, "PAGE_TIMEOUT_MS", 5_000)  # the page whose text never shows
    monkeypatch.setattr(ui_check, "SETTLE_MS", 1_000)
    shots = tmp_path / "shots"
    problems = ui_check.browse(site, [Page("good", "/good.html", "All is well"),
                                      Page("bad", "/bad.html", "All is well"),
                                      Page("empty", "/good.html", "text that never shows")], shots)
    assert sorted(path.name for path in shots.iterdir()) == ["bad.png", "empty.png", "good.png"]
    assert not any(line.startswith("good:") for line in problems.found), problems.found
    assert any(line.startswith("bad: console error:") and "boom from the page" in line for line in problems.found)
    assert any(line.startswith("bad: page error:") and "kaboom" in line for line in problems.found)
    assert any(line.startswith("empty: 'text that never shows' did not show") for line in problems.found)
