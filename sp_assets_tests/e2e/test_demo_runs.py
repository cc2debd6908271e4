"""Issue 16: after ``make demo`` the demo's runs are where a newcomer looks first in the UI.

A small demo (one marketplace, two days) runs as ``make demo`` runs it (``python -m sp_assets.demo``,
its own sandbox), against a temporary Dagster home; then ``make dev`` starts on that home and the test
asks the webserver's GraphQL API what the UI asks: ``runsOrError`` by job (the Runs page and the
Overview timeline, which groups runs by their repository origin) and ``pipelineOrError(...).runs``
(a job's page, which lists only runs tagged with the job's repository and location). Runs executed
in process, as the demo did before, have no origin and appear on neither page.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import pytest

from sp_assets.defs.paths import PROJECT_ROOT

from .stack import DevStack, processes_with_env
from .test_ui_backfill import stack_env

pytestmark = pytest.mark.slow

DEMO_TIMEOUT = 600.0
LOCATION, REPOSITORY = "sp_assets", "__repository__"
JOBS = ("us_rolling_job", "us_snapshot_job", "us_unpartitioned_job")

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status jobName repositoryOrigin { repositoryLocationName repositoryName } } }
    ... on PythonError { message }
  }
}"""
JOB_RUNS = """
query JobRuns($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { runs(limit: 20) { runId status } }
    ... on PythonError { message }
    ... on PipelineNotFoundError { message }
  }
}"""
# "  us_rolling_job   ok   12.3s  13/13 assets, 26 partitions, 1,963 rows"
FINAL_LINE = re.compile(r"^\s+(\w+)\s+ok\s+[\d.]+s\s+(\d+)/(\d+) assets, (\d+) partitions, ([\d,]+) rows$", re.M)


def run_demo(stack: DevStack, tmp_path: Path) -> str:
    env = {**stack.env, "SP_ASSETS_DEMO_DAYS": "2"}
    try:
        result = subprocess.run([sys.executable, "-m", "sp_assets.demo"], cwd=PROJECT_ROOT, env=env, text=True,
                                capture_output=True, timeout=DEMO_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"the demo did not finish within {DEMO_TIMEOUT:.0f}s: {error.stdout}") from None
    (tmp_path / "demo.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def test_the_demo_runs_belong_to_the_code_location_and_show_on_the_jobs_pages(tmp_path: Path) -> None:
    stack = DevStack(tmp_path, stack_env(tmp_path))
    output = run_demo(stack, tmp_path)
    finished = {match[0]: match for match in FINAL_LINE.findall(output)}
    assert set(finished) == set(JOBS), output
    for job, done, total, _partitions, rows in finished.values():
        assert done == total and int(rows.replace(",", "")) > 0, (job, output)
    assert "Done in" in output and "us.orders" in output

    try:
        stack.start()
        for job in JOBS:
            runs = stack.graphql(RUNS, {"filter": {"pipelineName": job}})["runsOrError"]
            assert runs["__typename"] == "Runs", runs
            assert [(run["status"], run["repositoryOrigin"]) for run in runs["results"]] == [
                ("SUCCESS", {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY})], runs

            selector = {"pipelineName": job, "repositoryName": REPOSITORY, "repositoryLocationName": LOCATION}
            page = stack.graphql(JOB_RUNS, {"selector": selector})["pipelineOrError"]
            assert page["__typename"] == "Pipeline", page
            assert [run["runId"] for run in page["runs"]] == [runs["results"][0]["runId"]], page
        stack.interrupt()
        assert stack.wait_stopped(timeout=90) == 0, stack.log_tail()
        # make dev started its own sandbox here (no SP_API_ENDPOINT): Ctrl-C stops it with everything else.
        assert stack.leftovers() == [], stack.log_tail()
    finally:
        stack.kill_everything()


def test_ctrl_c_terminates_the_demo_runs_and_leaves_no_process(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the terminal's process group) once a run is going: the demo terminates its runs,
    launches nothing more and exits 130; no run stays in progress and no process of it is left."""
    env = {**stack_env(tmp_path), "DAGSTER_HOME": str(tmp_path / "dagster_home"), "SP_ASSETS_DEMO_DAYS": "2",
           "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen([sys.executable, "-m", "sp_assets.demo"], cwd=PROJECT_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines: list[str] = []
    going = threading.Event()

    def read() -> None:
        assert demo.stdout is not None
        for text in demo.stdout:
            lines.append(text)
            if " assets, " in text:  # a progress (or final) line: a run is going
                going.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert going.wait(timeout=DEMO_TIMEOUT), "".join(lines)
        os.killpg(demo.pid, signal.SIGINT)
        assert demo.wait(timeout=120) == 130, "".join(lines)
        reader.join(timeout=10)
        output = "".join(lines)
        assert "SIGINT: terminating the demo's runs;" in output and "Interrupted:" in output, output
        assert "DuckDB:" not in output, output  # no summary after an interrupted demo
        left: list[tuple[int, str]] = []
        for _ in range(50):  # each exiting process is given a moment; the deadline is the count
            left = processes_with_env("DAGSTER_HOME", env["DAGSTER_HOME"])
            if not left:
                break
            threading.Event().wait(0.2)
        assert left == [], left
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            runs = instance.get_runs()
        assert runs and all(run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.CANCELED,
                                           dg.DagsterRunStatus.FAILURE) for run in runs), runs
        assert len(runs) < len(JOBS) or any(run.status != dg.DagsterRunStatus.SUCCESS for run in runs), output
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=10)
        for pid, _command in processes_with_env("DAGSTER_HOME", env["DAGSTER_HOME"]):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
