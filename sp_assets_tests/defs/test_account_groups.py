"""Issue 19, definitions that stay fast: a code location of some accounts, and jobs resolved per marketplace.

``SP_ASSETS_ACCOUNTS`` builds only the named accounts (one code location per group of accounts, so a
run's process rebuilds its group only); an unknown name is refused before anything loads. A
marketplace's jobs resolve against its own assets (``defs/scoped_jobs.py``): the same assets and
checks as resolving against the whole graph, with only the resources those assets need.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from sp_assets.definitions import defs as load_defs
from sp_assets.defs.config import ConfigError, parse_config
from sp_assets.defs.marketplace_factory import ACCOUNTS_VAR, project_definitions
from sp_assets.defs.scoped_jobs import ScopedAssetJob
from sp_assets_tests.defs.test_marketplace_factory import summary

warnings.filterwarnings("ignore", category=dg.BetaWarning)

START = (date.today() - timedelta(days=60)).isoformat()
THREE = {"defaults": {"start_date": START},
         "accounts": {"acme": {"marketplaces": {"us": {}, "ca": {}}}, "brand": {"marketplaces": {"us": {}}},
                      "cafe": {"marketplaces": {"mx": {}}}}}


def test_a_group_builds_only_its_accounts_and_their_resources() -> None:
    names = summary(project_definitions(parse_config(THREE), ["acme", "cafe"]))
    assert {key.split("/")[0] for key in names["assets"]} == {"acme_us", "acme_ca", "cafe_mx", "marts"}
    assert names["resources"] == ["sp_api_acme_ca", "sp_api_acme_us", "sp_api_cafe_mx", "warehouse"]
    assert {job.split("_")[0] for job in names["jobs"]} == {"acme", "cafe"}
    assert not [s for s in names["schedules"] if s.startswith("brand")]
    # the group's marts carry the group's name (its first account), so no two locations define one key
    marts = {key for key in names["assets"] if key.startswith("marts/")}
    assert marts and all(key.startswith("marts/acme/") for key in marts)
    whole = summary(project_definitions(parse_config(THREE)))
    assert {key for key in whole["assets"] if key.startswith("marts/")} == {
        key.replace("marts/acme/", "marts/") for key in marts}
    # an account's names are the same in a group as in the whole file
    assert set(names["assets"]) - marts <= set(whole["assets"]) and set(names["jobs"]) <= set(whole["jobs"])


def test_the_code_location_reads_the_group_from_the_environment(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump(THREE), encoding="utf-8")
    monkeypatch.setenv("SP_ASSETS_CONFIG", str(path))
    monkeypatch.setenv(ACCOUNTS_VAR, " brand ")
    assert summary(load_defs())["resources"] == ["sp_api_brand_us", "warehouse"]


def test_an_unknown_account_is_refused_naming_the_variable_and_the_accounts() -> None:
    with pytest.raises(ConfigError) as error:
        project_definitions(parse_config(THREE), ["acme", "acmee"])
    message = str(error.value)
    assert message.startswith(f"{ACCOUNTS_VAR}: 'acmee' not an account of")
    assert "allowed: acme, brand, cafe" in message
    assert "'acme'," not in message, "only the unknown name is reported"


def test_a_file_without_accounts_refuses_a_group() -> None:
    config = parse_config({"defaults": {"start_date": START}, "marketplaces": {"us": {}}})
    with pytest.raises(ConfigError, match=f"^{ACCOUNTS_VAR}: .* lists no 'accounts:'"):
        project_definitions(config, ["us"])


def test_a_scoped_job_selects_what_the_whole_graph_would_with_only_its_resources() -> None:
    definitions = project_definitions(parse_config(THREE))
    repository = definitions.get_repository_def()
    graph = repository.asset_graph
    resources = repository.get_top_level_resources()
    unresolved = {job.name: job for job in definitions.jobs or []}
    for schedule in definitions.schedules or []:
        if isinstance(schedule, dg.ScheduleDefinition):
            unresolved[schedule.job_name] = schedule.job  # the daily schedule's own (anonymous) job
    jobs = [job for job in repository.get_all_jobs() if job.name != "__ASSET_JOB"]
    assert len(jobs) == 16  # 4 marketplaces x (3 refresh jobs + the daily schedule's)
    for job in jobs:
        scoped = unresolved[job.name]
        assert isinstance(scoped, ScopedAssetJob), job.name
        unscoped = UnresolvedAssetJobDefinition.resolve(scoped, graph, resource_defs=resources)
        layer, expected = job.asset_layer, unscoped.asset_layer
        assert layer.executable_asset_keys == expected.executable_asset_keys, job.name
        assert layer.asset_graph.asset_check_keys == expected.asset_graph.asset_check_keys, job.name
        code = "_".join(job.name.removeprefix("__anonymous_asset_job_").split("_")[:2])
        assert set(job.resource_defs) == {"io_manager", f"sp_api_{code}", "warehouse"}, job.name
