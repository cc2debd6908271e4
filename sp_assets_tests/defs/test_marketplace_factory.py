"""The one per-marketplace factory: the same code location as before, from one configuration read.

``known_definitions.json`` lists what ``marketplaces.yaml`` (as committed) gives: every asset key,
check, job, schedule and resource. After an intended change to the configuration or a domain,
regenerate it from ``sp_assets.definitions.defs()`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import dagster as dg
import pytest

import sp_assets
import sp_assets.defs.config as config_module
from sp_assets.definitions import defs as load_defs
from sp_assets.defs.common import REFRESH_TAG, ROLLING, UNPARTITIONED, asset_kwargs, multi_asset_kwargs
from sp_assets.defs.marketplace_factory import project_definitions
from sp_assets.defs.resources import resource_key
from sp_assets_tests.defs.conftest import make_config

warnings.filterwarnings("ignore", category=dg.BetaWarning)

KNOWN = Path(__file__).with_name("known_definitions.json")


def summary(definitions: dg.Definitions) -> dict[str, list[str]]:
    graph = definitions.resolve_asset_graph()
    repository = definitions.get_repository_def()
    return {
        "assets": sorted(k.to_user_string() for k in graph.materializable_asset_keys),
        "checks": sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys),
        "jobs": sorted(j.name for j in repository.get_all_jobs() if not j.name.startswith("__")),
        "schedules": sorted(s.name for s in repository.schedule_defs),
        "resources": sorted(definitions.resources or {}),
    }


@pytest.fixture
def committed_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SP_ASSETS_CONFIG", raising=False)


def test_the_code_location_has_exactly_the_known_assets_checks_jobs_schedules_and_resources(
        committed_config: None) -> None:
    assert summary(load_defs()) == json.loads(KNOWN.read_text(encoding="utf-8"))


def test_the_configuration_is_read_once_per_definitions_load(committed_config: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    parse = config_module.parse_config

    def counting_parse(*args, **kwargs):
        reads.append(kwargs.get("source", "?"))
        return parse(*args, **kwargs)

    monkeypatch.setattr(config_module, "parse_config", counting_parse)
    load_defs()
    assert len(reads) == 1, reads
    load_defs()
    assert len(reads) == 2, "each definitions load reads the file again (a changed file is picked up)"


def test_only_resource_key_spells_a_marketplace_resource_key() -> None:
    package = Path(sp_assets.__file__).parent
    spelled = [f"{path.relative_to(package)}:{number}"
               for path in sorted(package.rglob("*.py"))
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if re.search(r"""["']sp_api_(\{|["'])""", line)]
    assert spelled == ["defs/resources.py:" + str(_line_of_resource_key())], spelled


def _line_of_resource_key() -> int:
    from sp_assets.defs import resources

    lines = Path(resources.__file__).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if 'f"sp_api_{code}"' in line)


def test_one_helper_gives_partitioned_and_unpartitioned_asset_arguments() -> None:
    entry = make_config({"us": {}}).get("us")
    daily = asset_kwargs(entry, "orders", "orders", "rolling", "d")
    flat = asset_kwargs(entry, "marketplace_participations", "sellers", UNPARTITIONED, "d")
    assert daily["partitions_def"] is not None and daily["backfill_policy"] is not None
    assert "partitions_def" not in flat and "backfill_policy" not in flat
    for kwargs in (daily, flat):
        assert kwargs["required_resource_keys"] == {resource_key("us"), "warehouse"}
        assert kwargs["group_name"] == "amazon_us" and kwargs["kinds"] == {"amazon", "duckdb", "python"}
    assert flat["pool"] == "sp_api__na__sellers"
    assert flat["tags"] == {"sp_assets/refresh": UNPARTITIONED, "sp_assets/domain": "sellers"}
    reader = multi_asset_kwargs(entry, "inventory", "snapshot", needs_api=False)
    assert reader["required_resource_keys"] == {"warehouse"}


def test_every_job_runs_its_steps_in_process_and_order_checks_run_in_their_assets_step(
        committed_config: None) -> None:
    """A step per subprocess made a one-day rolling run take minutes (benchmarks/bench_orchestration.py)."""
    definitions = load_defs()
    repository = definitions.get_repository_def()
    assert {job.executor_def.name for job in repository.get_all_jobs()} == {"in_process"}
    orders = definitions.resolve_assets_def(dg.AssetKey(["us", "orders"]))
    assert {key.name for key in orders.check_keys} == {"orders_primary_key", "order_items_primary_key",
                                                        "order_items_reference_orders", "orders_row_count_anomaly",
                                                        "order_items_row_count_anomaly"}


@pytest.mark.parametrize("order_items_source", ["api", "report"])
def test_every_check_runs_in_its_assets_step_so_no_job_has_a_check_step(order_items_source: str) -> None:
    """A check step of its own was a subprocess under the multiprocess executor and still ~0.07 s of
    step events per run in process: a one-day rolling job had 20 steps, now one per asset op."""
    config = make_config({"us": {"order_items_source": order_items_source}})
    definitions = project_definitions(config)
    graph = definitions.resolve_asset_graph()
    # The only checks of their own are the freshness checks, which their sensor evaluates outside any job.
    standalone = [d for d in graph.assets_defs if not d.keys]
    assert {key.name for d in standalone for key in d.check_keys} <= {"freshness_check"}, "no other check step"
    in_step = {key for d in graph.assets_defs if d.keys for key in d.check_keys}
    assert in_step | {key for d in standalone for key in d.check_keys} == set(graph.asset_check_keys)
    asset_ops = {d.node_def.name for d in graph.assets_defs}
    jobs = [job for job in definitions.get_repository_def().get_all_jobs() if not job.name.startswith("__")]
    for job in jobs:
        assert set(job.graph.node_dict) <= asset_ops, job.name
    rolling = next(job for job in jobs if job.name == "us_rolling_job")
    rolling_ops = {d.node_def.name for d in graph.assets_defs
                   if any(d.tags_by_key[k].get(REFRESH_TAG) == ROLLING for k in d.keys)}
    assert set(rolling.graph.node_dict) == rolling_ops, "one step per asset op, no more"


# ------------------------------------------------------------------------------------------ errors
PROJECT = Path(sp_assets.__file__).resolve().parent.parent


def _dg_launch_with(tmp_path: Path, config_text: str, **env: str) -> tuple[int, list[str]]:
    """``dg launch`` as the README runs it (the venv's dg, not activated), on ``config_text``: exit code
    and every line it printed (stdout and stderr together, as a terminal shows them)."""
    config = tmp_path / "marketplaces.yaml"
    config.write_text(config_text, encoding="utf-8")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "SP_ASSETS_TRACEBACK")}
    environment.update(SP_ASSETS_CONFIG=str(config), DAGSTER_HOME=str(home), SP_ASSETS_SANDBOX="1",
                       SP_ASSETS_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(PROJECT), **env)
    done = subprocess.run([str(Path(sys.executable).parent / "dg"), "launch", "--assets", "us/orders",
                           "--partition", "2026-10-05"], cwd=PROJECT, env=environment,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    return done.returncode, done.stdout.splitlines()


def test_a_bad_configuration_reads_as_one_sentence_in_dg_launch(tmp_path: Path) -> None:
    code, lines = _dg_launch_with(tmp_path, "marketplaces:\n  us:\n    order_statuses: [Shiped]\n")
    expected = "marketplaces.us.order_statuses[0]: 'Shiped' is not a valid status; allowed: PendingAvailability"
    assert code != 0
    assert any(expected in line for line in lines[:3]), lines[:10]
    assert not any("Traceback" in line for line in lines), f"{len(lines)} lines: {lines[:10]}"
    assert any("SP_ASSETS_TRACEBACK=1" in line for line in lines[:3])
    assert not (tmp_path / "data").exists()

    # Asked for, the traceback is printed as Dagster prints it, the sentence still in it.
    verbose = tmp_path / "verbose"
    verbose.mkdir()
    code, lines = _dg_launch_with(verbose, "marketplaces:\n  us:\n    days_back: 0\n", SP_ASSETS_TRACEBACK="1")
    assert code != 0 and not any(line.startswith("sp_assets: ") for line in lines)
    assert any(line.startswith("Traceback") for line in lines)
    assert any("marketplaces.us.days_back: 0 must be between 1 and 60" in line for line in lines)
