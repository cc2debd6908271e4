"""``make ui-check``: the Dagster UI in a real browser after ``make demo``, failing on any page or console error.

It starts ``make dev`` (the sandbox, the webserver and the daemon) on the demo's Dagster home,
launches a one-partition backfill of the first marketplace's orders through the webserver's GraphQL
API (the mutation the UI's "Materialize" dialog sends) and waits for the daemon to finish it, then
drives headless Chromium (Debian's ``/usr/bin/chromium``, through Playwright) over the pages a new
user opens: the Overview timeline, a job's page, the asset catalog, an asset's page, its partitions
tab and the backfill's page. Each page must show what it is about (a text the page cannot show
before its data arrived); any uncaught page error or console error fails the check. Screenshots go
to ``data/ui-check/``. Ctrl-C or the end of the check stops everything it started.

Playwright is not a project dependency: the Makefile target installs it into the venv, and this
module imports it only when the browser starts, so the rest (and its tests) work without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from sp_assets.defs.paths import PROJECT_ROOT, data_dir

CHROMIUM = os.environ.get("SP_ASSETS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
HOST = "127.0.0.1"
LOCATION = "sp_assets"  # workspace.yaml's location_name
PAGE_TIMEOUT_MS = 60_000  # a page must show its content within this (the first GraphQL answers can be slow)
SETTLE_MS = 5_000  # after the content shows, how long the page may keep loading before the screenshot
BACKFILL_TIMEOUT = 600.0
POLL_SECONDS = 2.0
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}"""
BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status error { message } }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}"""
DEMO_RUNS = """
query { runsOrError(filter: {tags: [{key: "sp_assets/demo", value: "1"}]}, limit: 50) {
  __typename ... on Runs { results { runId jobName } } } }"""


class UiCheckError(RuntimeError):
    """The check could not run (no demo, the UI did not start, the backfill failed) or a page failed."""


@dataclass
class Problems:
    """What went wrong in the browser, per page: uncaught page errors, console errors, missing content.

    ``on_console`` and ``on_page_error`` take Playwright's ``ConsoleMessage`` and ``Error`` (anything
    with ``type``/``text`` and ``message``), so the detection is testable without a browser.
    """

    page: str = "(no page)"
    found: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            self.found.append(f"{self.page}: console error: {message.text}")

    def on_page_error(self, error: Any) -> None:
        self.found.append(f"{self.page}: page error: {getattr(error, 'message', None) or error}")

    def missing(self, what: str, error: BaseException) -> None:
        self.found.append(f"{self.page}: {what} did not show ({str(error).splitlines()[0]})")

    @property
    def ok(self) -> bool:
        return not self.found


@dataclass(frozen=True)
class Page:
    """A page to open: a file name for its screenshot, its path and a text it must show."""

    name: str
    path: str
    shows: str


def pages(location: str, job: str, run_id: str, asset: Sequence[str], backfill_id: str) -> list[Page]:
    """The Overview timeline and the job's runs must show the demo's run (by its short id, as the UI
    shows it); the catalog, the asset, its partitions and the backfill their own content."""
    asset_path = "/".join(asset)
    return [
        Page("01-overview-timeline", "/overview/activity/timeline", job),
        Page("02-job-runs", f"/locations/{location}/jobs/{job}/runs", run_id[:8]),
        Page("03-asset-catalog", "/assets", asset[0]),
        Page("04-asset", f"/assets/{asset_path}", "Latest materialization"),
        Page("05-asset-partitions", f"/assets/{asset_path}?view=partitions", "Materialized"),
        Page("06-backfill", f"/runs/b/{backfill_id}", "100% completed"),
    ]


def dismiss_welcome(page: Any) -> None:
    """Close the "Join the Dagster community" dialog a new browser profile gets (it covers the page)."""
    skip = page.get_by_role("button", name="Skip", exact=True)
    if skip.count() and skip.first.is_visible():
        skip.first.click()


def browse(base: str, to_open: Sequence[Page], out_dir: Path) -> Problems:
    """Open each page in headless Chromium, wait for its text, screenshot it; collect every problem."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise UiCheckError("the Python package playwright is not installed in this environment; "
                           "`make ui-check` installs it (pip install playwright)") from None
    if not Path(CHROMIUM).is_file():
        raise UiCheckError(f"no Chromium at {CHROMIUM}; `make ui-check` installs Debian's (apt-get install "
                           "chromium), or set SP_ASSETS_CHROMIUM")
    out_dir.mkdir(parents=True, exist_ok=True)
    problems = Problems()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.on("console", problems.on_console)
            page.on("pageerror", problems.on_page_error)
            for target in to_open:
                problems.page = target.name
                try:
                    page.goto(base + target.path, wait_until="load", timeout=PAGE_TIMEOUT_MS)
                    page.get_by_text(target.shows).first.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
                except PlaywrightError as error:
                    problems.missing(repr(target.shows), error)
                try:  # the UI polls GraphQL, so the network may never go idle: this only lets it settle
                    page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
                except PlaywrightError:
                    pass
                dismiss_welcome(page)
                page.screenshot(path=str(out_dir / f"{target.name}.png"), full_page=True)
                print(f"  {target.name:<22} {base + target.path}", flush=True)
        finally:
            browser.close()
    return problems


def graphql(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.post(f"{base}/graphql", json={"query": query, "variables": variables or {}}, timeout=120)
    if response.status_code != 200:
        raise UiCheckError(f"GraphQL answered HTTP {response.status_code}: {response.text[:500]}")
    body = response.json()
    if body.get("errors"):
        raise UiCheckError(f"GraphQL errors: {body['errors']}")
    return body["data"]


def launch_backfill(base: str, asset: Sequence[str], partition: str) -> str:
    params = {"assetSelection": [{"path": list(asset)}], "partitionNames": [partition],
              "title": "make ui-check", "fromFailure": False}
    result = graphql(base, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise UiCheckError(f"launchPartitionBackfill of {'/'.join(asset)} {partition} answered "
                           f"{result['__typename']}: {result.get('message')}")
    return result["backfillId"]


def wait_for_backfill(base: str, backfill_id: str, timeout: float = BACKFILL_TIMEOUT) -> str:
    """Poll the backfill until the daemon has finished it; its final status."""
    deadline = time.monotonic() + timeout
    while True:
        backfill = graphql(base, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if backfill["__typename"] != "PartitionBackfill":
            raise UiCheckError(f"backfill {backfill_id}: {backfill['__typename']}: {backfill.get('message')}")
        if backfill["status"] in FINISHED:
            return backfill["status"]
        if time.monotonic() > deadline:
            raise UiCheckError(f"backfill {backfill_id} still {backfill['status']} after {timeout:.0f}s")
        time.sleep(POLL_SECONDS)


def demo_run(base: str) -> tuple[str, str]:
    """(job, run id) of a run the demo launched, a rolling job's if there is one (its page must list the
    run); fails naming ``make demo`` if there is none."""
    runs = graphql(base, DEMO_RUNS)["runsOrError"]
    results = runs.get("results") or []
    if not results:
        raise UiCheckError("this Dagster home has no run of `make demo`: run `make demo` first")
    run = next((run for run in results if run["jobName"].endswith("_rolling_job")), results[0])
    return run["jobName"], run["runId"]


def start_ui(port: str, log: Path) -> subprocess.Popen:
    """``make dev`` as its own process group (so one signal stops it and all it started), output to ``log``."""
    env = {**os.environ, "SP_ASSETS_UI_HOST": HOST, "SP_ASSETS_UI_PORT": port, "PYTHONUNBUFFERED": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "sp_assets.dev"], cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, process_group=0)


def log_tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return f"--- {log} (tail) ---\n" + "\n".join(text.splitlines()[-lines:])


def main() -> int:
    from sp_assets.defs.common import today_local
    from sp_assets.defs.config import load_config
    from sp_assets.local_env import prepare_dagster_home, stop_services, wait_for_webserver

    home = prepare_dagster_home()
    entry = load_config().marketplaces[0]
    asset = (entry.code, "orders")
    port = os.environ.get("SP_ASSETS_UI_PORT", "3000")
    base = f"http://{HOST}:{port}"
    out_dir = data_dir() / "ui-check"
    log = out_dir / "make_dev.log"
    print(f"Dagster home: {home}; starting `make dev` on {base} (its output: {log}) ...", flush=True)
    dev = start_ui(port, log)
    try:
        wait_for_webserver(base, [("make dev", dev)], timeout=300)
        job, run_id = demo_run(base)
        partition = (today_local(entry) - timedelta(days=1)).isoformat()
        backfill_id = launch_backfill(base, asset, partition)
        print(f"Backfill {backfill_id} of {'/'.join(asset)} {partition} launched; waiting for the daemon ...",
              flush=True)
        status = wait_for_backfill(base, backfill_id)
        if status != "COMPLETED_SUCCESS":
            raise UiCheckError(f"backfill {backfill_id} ended {status}; see {base}/runs/b/{backfill_id}")
        print(f"Backfill {status}. Opening the pages in Chromium ({CHROMIUM}):", flush=True)
        problems = browse(base, pages(LOCATION, job, run_id, asset, backfill_id), out_dir)
    except (UiCheckError, RuntimeError) as error:
        print(f"ui-check FAILED: {error}\n{log_tail(log)}", file=sys.stderr)
        return 1
    finally:
        stop_services([dev], grace_seconds=60.0)
    print(f"Screenshots: {out_dir}")
    if not problems.ok:
        for line in problems.found:
            print(f"FAILED {line}", file=sys.stderr)
        print(f"ui-check FAILED: {len(problems.found)} problem(s) in the browser", file=sys.stderr)
        return 1
    print("ui-check passed: no page error, no console error, every page showed its content.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
