"""Asset jobs resolved against their own marketplace's assets, not the whole code location's graph.

Dagster resolves every ``define_asset_job`` against the code location's whole asset graph: the
selection is evaluated over every asset (a group or tag selection scans them all) and the job's graph
is cut out of every ``AssetsDefinition`` (``get_asset_graph_for_job``). One job costs O(all assets),
so a code location whose jobs grow with its marketplaces costs O(marketplaces^2) to load: 100
accounts x 3 marketplaces (8,700 assets, 1,200 jobs) spent most of its minutes there
(``benchmarks/bench_definitions.py``, BENCHMARKS.md section 10).

A marketplace's jobs only ever select that marketplace's assets (its group), and none of them
depends on another marketplace's asset, so resolving them against the graph of that marketplace's
assets gives the same job at O(its assets). ``ScopedAssetJob`` does that: it is the
``UnresolvedAssetJobDefinition`` ``define_asset_job`` returns, whose ``resolve`` first narrows the
graph to the assets and checks whose keys start with its scope (the entry's code, the first part of
every key of the marketplace). The narrowed graph is built once per marketplace and full graph.
Dagster still resolves a job only when asked for it, so a run's process resolves its own job only.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from dagster._core.definitions.target import ANONYMOUS_ASSET_JOB_PREFIX
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

# full graph -> scope -> the graph of that scope's assets and checks (built on first use)
_NARROWED: weakref.WeakKeyDictionary[AssetGraph, dict[str, AssetGraph]] = weakref.WeakKeyDictionary()
# full graph -> scope -> that scope's AssetsDefinitions (one pass over the full graph)
_BY_SCOPE: weakref.WeakKeyDictionary[AssetGraph, dict[str, list[dg.AssetsDefinition]]] = \
    weakref.WeakKeyDictionary()
# narrowed graph -> the resource keys its assets and checks require (shared by a marketplace's jobs)
_REQUIRED: weakref.WeakKeyDictionary[AssetGraph, frozenset[str]] = weakref.WeakKeyDictionary()


def _scopes_of(definition: dg.AssetsDefinition) -> set[str]:
    """The first parts of every key (and checked key) of one definition."""
    return ({key.path[0] for key in definition.keys}
            | {check.asset_key.path[0] for check in definition.check_keys})


def narrowed_graph(asset_graph: AssetGraph, scope: str) -> AssetGraph:
    """The graph of the assets and checks whose keys start with ``scope``, from ``asset_graph``."""
    narrowed = _NARROWED.setdefault(asset_graph, {})
    if scope not in narrowed:
        if asset_graph not in _BY_SCOPE:
            index: dict[str, list[dg.AssetsDefinition]] = defaultdict(list)
            for definition in asset_graph.assets_defs:
                scopes = _scopes_of(definition)
                if len(scopes) == 1:
                    index[next(iter(scopes))].append(definition)
            _BY_SCOPE[asset_graph] = index
        narrowed[scope] = AssetGraph.from_assets(_BY_SCOPE[asset_graph].get(scope, []))
    return narrowed[scope]


class ScopedAssetJob(UnresolvedAssetJobDefinition):
    """An asset job whose selection lies within ``scope`` (the first part of its assets' keys) and
    whose assets depend on nothing outside it: resolved against that part of the graph only."""

    def __new__(cls, scope: str | None = None, **fields: Any) -> ScopedAssetJob:
        job = super().__new__(cls, **fields)
        object.__setattr__(job, "_scope", scope)  # a record's fields are fixed; the scope rides along
        return job

    def resolve(self, asset_graph: AssetGraph, default_executor_def: dg.ExecutorDefinition | None = None,
                resource_defs: Mapping[str, dg.ResourceDefinition] | None = None) -> dg.JobDefinition:
        scope = getattr(self, "_scope", None)
        if scope is None:
            return super().resolve(asset_graph, default_executor_def=default_executor_def, resource_defs=resource_defs)
        graph = narrowed_graph(asset_graph, scope)
        return super().resolve(graph, default_executor_def=default_executor_def,
                               resource_defs=None if resource_defs is None else _needed(graph, resource_defs))


def _needed(graph: AssetGraph, resource_defs: Mapping[str, dg.ResourceDefinition]
            ) -> dict[str, dg.ResourceDefinition]:
    """The resources ``graph``'s assets and checks require, and theirs: a job's run config schema holds
    every resource it is given, so each job given all 300 marketplaces' SP-API resources made every
    job's schema (built for the UI's snapshot) grow with the number of marketplaces too."""
    if graph not in _REQUIRED:  # a marketplace's 4-5 jobs share its graph: asked once, not once per job
        _REQUIRED[graph] = frozenset(key for definition in graph.assets_defs
                                     for key in definition.required_resource_keys)
    wanted = {*_REQUIRED[graph], "io_manager"}
    found: dict[str, dg.ResourceDefinition] = {}
    while wanted:
        key = wanted.pop()
        if key in found or key not in resource_defs:
            continue
        found[key] = resource_defs[key]
        wanted |= set(resource_defs[key].required_resource_keys)
    return found


def scoped_asset_job(scope: str, name: str, selection: dg.AssetSelection, description: str | None = None,
                     partitions_def: dg.PartitionsDefinition | None = None) -> ScopedAssetJob:
    """``dg.define_asset_job(name, selection, ...)``, resolved within ``scope`` (see the module)."""
    job = dg.define_asset_job(name, selection=selection, description=description, partitions_def=partitions_def)
    fields = {name: getattr(job, name) for name in (
        "name", "selection", "config", "description", "tags", "run_tags", "metadata", "partitions_def",
        "executor_def", "hooks", "op_retry_policy", "owners", "automation_condition")}
    return ScopedAssetJob(scope=scope, **fields)


def scoped_schedule_target(scope: str, schedule_name: str, selection: dg.AssetSelection) -> ScopedAssetJob:
    """The job ``dg.ScheduleDefinition(target=selection)`` would make for ``schedule_name`` (the same
    anonymous name, so the UI shows the schedule as targeting its assets), resolved within ``scope``."""
    return scoped_asset_job(scope, f"{ANONYMOUS_ASSET_JOB_PREFIX}_{schedule_name}", selection)
