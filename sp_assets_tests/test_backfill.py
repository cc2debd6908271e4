"""``python -m sp_assets.backfill``: a reversed or malformed range is a sentence naming both dates;
anything else is ``dagster job backfill`` itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sp_assets
from sp_assets.backfill import RangeError, check_range, dagster_command

PROJECT = Path(sp_assets.__file__).resolve().parent.parent


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "PYTHONPATH": str(PROJECT)}
    return subprocess.run([sys.executable, "-m", "sp_assets.backfill", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_start_after_end_is_one_sentence_naming_both_dates(tmp_path: Path) -> None:
    done = _run("-w", "workspace.yaml", "-j", "us_rolling_job", "--from", "2026-10-31", "--to", "2026-10-01",
                "--noprompt", tmp_path=tmp_path)
    assert done.returncode == 2
    first = (done.stdout + done.stderr).splitlines()[0]
    assert first == ("sp_assets: --from 2026-10-31 is after --to 2026-10-01: a backfill runs from its first "
                     "partition to its last, so no partition lies between them; swap them: --from 2026-10-01 "
                     "--to 2026-10-31"), first
    assert "Traceback" not in done.stderr and not list(tmp_path.iterdir())  # Dagster never started


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "10/01/2026", "--to", "2026-10-31"], "--from '10/01/2026' is not a partition date; use YYYY-MM-DD"),
    (["--from=2026-10-01", "--to=2026-09-30"], "--from 2026-10-01 is after --to 2026-09-30"),
    (["--to", "2026-13-01"], "--to '2026-13-01' is not a partition date"),
])
def test_bad_ranges_are_refused_naming_the_option(args: list[str], message: str) -> None:
    with pytest.raises(RangeError, match=message.replace("(", r"\(")):
        check_range(["-j", "us_rolling_job", *args])


def test_a_good_range_goes_to_dagster_unchanged(tmp_path: Path) -> None:
    args = ["-j", "us_rolling_job", "--from", "2026-10-01", "--to", "2026-10-01", "--noprompt"]
    check_range(args)
    assert dagster_command(args) == [sys.executable, "-m", "dagster", "job", "backfill", *args]
    done = _run("--help", tmp_path=tmp_path)  # the process really becomes dagster's command
    assert done.returncode == 0 and "dagster job backfill" in done.stdout and "--from" in done.stdout
