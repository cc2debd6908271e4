"""Runs launched on the project's code location from a script, the way the UI launches them.

``make demo`` used to execute its jobs in its own process (``execute_in_process``): the runs landed in
the instance but had no code-location origin, so the UI's Overview timeline and Jobs pages, which ask
for runs by job and location, never showed them. Here a script loads ``workspace.yaml`` (the code
location ``make dev`` serves: its own code server, started and stopped with the context), creates each
run against that location (so it carries the location's origin) and hands it to the instance's run
launcher, which starts a run worker from the code server, exactly as a run launched in the UI.

The run queue is skipped on purpose (``instance.launch_run``, not ``submit_run``): the queue is drained
by the daemon, and starting the daemon would also start the schedules and sensors. The caller bounds
how many runs go at once; pools still serialize steps that share an account's quota.

``RunProgress`` reads what a run has done so far from the instance's event log (materializations,
rows, failed steps), so a script can show progress while the run goes and the failures at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import dagster as dg
from dagster import DagsterEventType, DagsterRunStatus
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.remote_representation.code_location import CodeLocation
from dagster._core.remote_representation.external import RemoteRepository
from dagster._core.workspace.context import WorkspaceProcessContext, WorkspaceRequestContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from sp_assets.defs.paths import PROJECT_ROOT

FINISHED = frozenset({DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED})
ROW_COUNT = "dagster/row_count"
PROGRESS_EVENTS = {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.STEP_FAILURE,
                   DagsterEventType.RUN_FAILURE}


class LaunchError(RuntimeError):
    """The code location could not be loaded, or a run could not be created or launched."""


class WorkspaceLocation:
    """The code location of ``workspace.yaml``, loaded in its own code server for as long as the context
    is open; ``launch`` creates a run of one of its jobs and starts it with the instance's run launcher.

    Leaving the context stops the code server; wait for the launched runs first (their run workers are
    the code server's children).
    """

    def __init__(self, instance: dg.DagsterInstance, workspace_file: Path = PROJECT_ROOT / "workspace.yaml",
                 code_server_log_level: str = "WARNING") -> None:
        self.instance = instance
        self.workspace_file = workspace_file
        self.code_server_log_level = code_server_log_level
        self._process_context: WorkspaceProcessContext | None = None
        self._request: WorkspaceRequestContext | None = None
        self.location: CodeLocation | None = None
        self.repository: RemoteRepository | None = None

    def __enter__(self) -> WorkspaceLocation:
        self._process_context = WorkspaceProcessContext(
            self.instance, WorkspaceFileTarget(paths=[str(self.workspace_file)]), version=dg.__version__,
            code_server_log_level=self.code_server_log_level)
        try:
            self._load()
        except BaseException:
            self._process_context.__exit__(None, None, None)
            raise
        return self

    def _load(self) -> None:
        assert self._process_context is not None
        self._request = self._process_context.create_request_context()
        names = list(self._request.code_location_names)
        if len(names) != 1:
            raise LaunchError(f"{self.workspace_file} names {len(names)} code locations ({', '.join(names)}); "
                              "expected exactly one. No run was launched.")
        error = self._request.get_code_location_error(names[0])
        if error is not None:
            raise LaunchError(f"the code location {names[0]!r} did not load, so no run was launched: "
                              f"{error.message.strip()}")
        self.location = self._request.get_code_location(names[0])
        repositories = list(self.location.get_repositories().values())
        if len(repositories) != 1:
            raise LaunchError(f"the code location {names[0]!r} has {len(repositories)} repositories; expected one. "
                              "No run was launched.")
        self.repository = repositories[0]

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._process_context is not None:
            self._process_context.__exit__(kind, value, traceback)
        self._process_context = self._request = None

    @property
    def name(self) -> str:
        assert self.location is not None, "use WorkspaceLocation as a context manager"
        return self.location.name

    def has_job(self, job_name: str) -> bool:
        assert self.repository is not None, "use WorkspaceLocation as a context manager"
        return self.repository.has_job(job_name)

    def launch(self, job_name: str, *, tags: Mapping[str, str] | None = None,
               run_config: Mapping[str, Any] | None = None,
               asset_selection: Iterable[dg.AssetKey] | None = None) -> str:
        """Create a run of ``job_name`` (only ``asset_selection`` if given) on the code location and launch
        it; returns its run id. The run is recorded with the location's origin, so the UI lists it
        under the job and the location."""
        assert self.location is not None and self.repository is not None and self._request is not None, \
            "use WorkspaceLocation as a context manager"
        if not self.repository.has_job(job_name):
            raise LaunchError(f"the code location {self.location.name!r} has no job {job_name!r}; no run was launched")
        selection = frozenset(asset_selection) if asset_selection else None
        remote_job = self.location.get_job(JobSubsetSelector(
            location_name=self.location.name, repository_name=self.repository.name, job_name=job_name,
            op_selection=None, asset_selection=selection))
        config = dict(run_config or {})
        plan = self.location.get_execution_plan(remote_job, config, step_keys_to_execute=None, known_state=None,
                                                instance=self.instance)
        run = self.instance.create_run(
            job_name=job_name, run_id=None, run_config=config, resolved_op_selection=None,
            step_keys_to_execute=plan.execution_plan_snapshot.step_keys_to_execute, status=DagsterRunStatus.NOT_STARTED,
            op_selection=None, root_run_id=None, parent_run_id=None, tags={**remote_job.tags, **(tags or {})},
            job_snapshot=remote_job.job_snapshot, execution_plan_snapshot=plan.execution_plan_snapshot,
            parent_job_snapshot=remote_job.parent_job_snapshot, remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(), asset_selection=selection, asset_check_selection=None,
            asset_graph=self.repository.asset_graph)
        self.instance.launch_run(run.run_id, self._request)
        return run.run_id

    def terminate(self, run_id: str) -> bool:
        """Ask the run launcher to stop a run (its worker is interrupted and the run marked canceled)."""
        return self.instance.run_launcher.terminate(run_id)


def status_of(instance: dg.DagsterInstance, run_id: str) -> DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise LaunchError(f"run {run_id} is not in the instance {instance.root_directory}")
    return run.status


def failure_text(event: dg.DagsterEvent) -> str:
    """The first line of a failed step's error (a ``dg.Failure`` shows its description) or of a run failure."""
    text = ""
    if event.event_type == DagsterEventType.STEP_FAILURE:
        data = event.step_failure_data
        text = ((data.user_failure_data.description if data.user_failure_data is not None else None)
                or (data.error.message if data.error is not None else "")) or ""
    elif event.event_type == DagsterEventType.RUN_FAILURE:
        error = getattr(event.event_specific_data, "error", None)
        text = (error.message if error is not None else None) or event.message or ""
    text = text.strip()
    return text.splitlines()[0] if text else "failed"


@dataclass
class RunProgress:
    """What one run has done so far, read incrementally from the instance's event log.

    ``partitions`` are distinct (asset, partition) pairs: an asset may log its own materialization of a
    partition besides the one Dagster records for its output. ``rows`` adds the ``dagster/row_count``
    of each materialization once per asset and window: a run that writes several partitions in one
    step may attach the step's totals to every partition (same window, same count), and those must not
    count once per partition.
    """

    run_id: str
    cursor: str | None = None
    assets: set[dg.AssetKey] = field(default_factory=set)
    partitions: set[tuple[dg.AssetKey, str]] = field(default_factory=set)
    rows: int = 0
    failures: list[str] = field(default_factory=list)
    _counted: set[tuple[Any, ...]] = field(default_factory=set)

    def update(self, instance: dg.DagsterInstance) -> bool:
        """Read the events logged since the last call; True if anything new was done."""
        changed = False
        while True:
            connection = instance.get_records_for_run(self.run_id, cursor=self.cursor, of_type=PROGRESS_EVENTS,
                                                      limit=500)
            self.cursor = connection.cursor
            for record in connection.records:
                event = record.event_log_entry.dagster_event
                if event is not None:
                    changed = self._take(event) or changed
            if not connection.has_more:
                return changed

    def _take(self, event: dg.DagsterEvent) -> bool:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            self.assets.add(materialization.asset_key)
            if materialization.partition is not None:
                self.partitions.add((materialization.asset_key, materialization.partition))
            metadata = materialization.metadata
            count = metadata.get(ROW_COUNT)
            rows = getattr(count, "value", count)
            if isinstance(rows, int):
                window = tuple(str(getattr(metadata.get(name), "value", metadata.get(name)))
                               for name in ("window_start_utc", "window_end_utc"))
                key = (materialization.asset_key, *window, rows) if any(v != "None" for v in window) else (
                    materialization.asset_key, materialization.partition)
                if key not in self._counted:
                    self._counted.add(key)
                    self.rows += rows
            return True
        if event.event_type == DagsterEventType.STEP_FAILURE:
            self.failures.append(f"{event.step_key}: {failure_text(event)}")
            return True
        if event.event_type == DagsterEventType.RUN_FAILURE and not self.failures:
            self.failures.append(f"run: {failure_text(event)}")
            return True
        return False

    def summary(self, total_assets: int | None = None) -> str:
        assets = f"{len(self.assets)}/{total_assets}" if total_assets else str(len(self.assets))
        return f"{assets} assets, {len(self.partitions)} partitions, {self.rows:,} rows"


def quiet_code_server() -> None:
    """Keep Python warnings (Dagster's beta and preview notices) out of the code server's and the run
    workers' output, as the calling script does for itself, unless the user chose otherwise."""
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
