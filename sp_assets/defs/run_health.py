"""Dead runs: a run whose processes are all gone is failed, and its pool slots are freed at once.

A run killed with SIGKILL (the OOM killer, ``kill -9``, a reboot, a ``dg launch`` closed with its
terminal) writes no failure: it stays STARTED for ever, keeps every ``sp_api__<account>__<family>``
slot its steps claimed, and every later step of that pool logs "Step blocked by limit for pool".
Dagster's own run monitoring does not see it: the local ``DefaultRunLauncher`` cannot check a run
worker's health, so only ``max_runtime_seconds`` would end such a run, and that has to be hours
because report steps legitimately wait up to an hour per attempt (see ``dagster.yaml``).

Every run process records its pid in the event log (the run worker's "Started process for run",
the executor's "Executing steps ...", each step subprocess's event). The ``sp_assets_dead_runs`` sensor looks at
every STARTED run every ``INTERVAL_SECONDS``; when none of the processes a run recorded is alive
(``lib.processes.process_alive``: zombies and reused pids count as dead), it marks the run failed,
naming the pids, and frees the run's pool slots (nothing can release them any more; the daemon
would free them only ``free_slots_after_run_end_seconds`` after the failure). The run-retry daemon
then retries the run if ``run_retries`` allows.

It judges only runs it can see the processes of: runs launched by the ``DefaultRunLauncher`` (or
executed in a CLI process) on the machine whose daemon evaluates the sensor, which is how this
project deploys. With another run launcher (containers, other hosts) it does nothing. A run that
has recorded no pid yet is left alone (the start timeout and max runtime of run monitoring cover it).
"""

from __future__ import annotations

import dagster as dg

from sp_assets.lib.processes import process_alive

SENSOR_NAME = "sp_assets_dead_runs"
INTERVAL_SECONDS = 30


def recorded_processes(instance: dg.DagsterInstance, run_id: str) -> list[tuple[int, float]]:
    """(pid, when it was recorded) of every process the run logged: run worker, executor, step subprocesses."""
    found: list[tuple[int, float]] = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        value = data.metadata.get("pid") if data is not None else None
        text = str(value.value) if value is not None else ""
        if text.isdigit():
            found.append((int(text), entry.timestamp))
    return found


def can_see_run_processes(instance: dg.DagsterInstance) -> bool:
    """Only the local launcher's runs (and CLI runs) are processes of this machine."""
    return isinstance(instance.run_launcher, dg.DefaultRunLauncher)


def dead_run_message(run_id: str, processes: list[tuple[int, float]]) -> str:
    pids = ", ".join(str(pid) for pid in sorted({pid for pid, _ in processes}))
    return (f"Run {run_id} was STARTED but none of its processes is alive any more (pid {pids}): it was killed "
            f"without reporting (SIGKILL, out of memory, a reboot). Marked failed by the {SENSOR_NAME} sensor, "
            "and its concurrency pool slots were freed so the other runs of its pools can go on.")


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail every STARTED run whose recorded processes are all gone and free its slots; their run ids."""
    if not can_see_run_processes(instance):
        return []
    failed: list[str] = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run_id = record.dagster_run.run_id
        processes = recorded_processes(instance, run_id)
        if not processes or any(process_alive(pid, at) for pid, at in processes):
            continue
        # Read the status again after the liveness check: a run that finished meanwhile wrote its
        # last event before its process exited, so a run still STARTED now really died.
        run = instance.get_run_by_id(run_id)
        if run is None or run.status != dg.DagsterRunStatus.STARTED:
            continue
        instance.report_run_failed(run, dead_run_message(run_id, processes))
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        failed.append(run_id)
    return failed


def build_dead_runs_sensor() -> dg.SensorDefinition:
    """The sensor, built by ``marketplace_factory`` (a module-level sensor would also be picked up by
    ``load_from_defs_folder``, and the factory is the one place definitions are assembled)."""

    @dg.sensor(name=SENSOR_NAME, minimum_interval_seconds=INTERVAL_SECONDS,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Fails STARTED runs whose processes are all gone (killed with SIGKILL, out of memory, "
                           "a reboot) and frees their concurrency pool slots, so later steps of those pools are "
                           "not blocked for ever.")
    def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        failed = fail_dead_runs(context.instance)
        if failed:
            context.log.warning(f"failed {len(failed)} dead run(s) and freed their pool slots: {', '.join(failed)}")
            return dg.SkipReason(f"failed dead run(s) {', '.join(failed)} and freed their pool slots")
        return dg.SkipReason("no dead run")

    return dead_runs_sensor
