"""Asset checks every table gets (its primary key is unique and never null), and how a check runs.

A check is declared once as a ``TableCheck`` (its spec and its query) so it can run two ways:

* **in its asset's step** (``check_specs=`` on the asset, results from ``results_in_step`` or
  ``materialized_then_checked``): no step, no process and no event round trip of its own. Under
  Dagster's multiprocess executor every check step was its own subprocess (~1 s of start-up each,
  minutes for a one-day rolling job); in process, each still cost ~0.07 s of step events per run.
  Every asset of the project runs its checks this way.
* **as its own step** (``check_step``, ``separate_steps``): only the old layout that
  ``benchmarks/orchestration_layouts.py`` keeps for comparison (``checks_in_step=False`` on the
  domains' builders).

Either way the UI lists the check under its asset, and a blocking check that fails stops what
depends on the asset. Checks read DuckDB under the same file lock as writes, so they never meet a
half-written table.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import dagster as dg

from sp_assets.defs.common import asset_key, sql_table, warehouse_of
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.lib.tablespec import TableSpec
from sp_assets.lib.warehouse import Warehouse


@dataclass(frozen=True)
class TableCheck:
    """One check: what the UI shows (``spec``) and how it is evaluated against the warehouse."""

    spec: dg.AssetCheckSpec
    evaluate: Callable[[Warehouse], dg.AssetCheckResult]

    def result(self, warehouse: Warehouse) -> dg.AssetCheckResult:
        """The evaluation, addressed to this check (a step with several assets must name which)."""
        outcome = self.evaluate(warehouse)
        return dg.AssetCheckResult(asset_key=self.spec.asset_key, check_name=self.spec.name, passed=outcome.passed,
                                   metadata=outcome.metadata, severity=outcome.severity)


def primary_key(entry: MarketplaceConfig, spec: TableSpec, asset_name: str | None = None) -> TableCheck:
    """``<table>_primary_key``: no duplicate and no null key in ``<code>.<table>``."""
    pk = ", ".join(spec.primary_key)
    any_null = " or ".join(f"{c} is null" for c in spec.primary_key)

    def evaluate(warehouse: Warehouse) -> dg.AssetCheckResult:
        if not warehouse.table_exists(entry.code, spec.name):
            return dg.AssetCheckResult(passed=True, metadata={"rows": 0, "note": "table not created yet"})
        row = warehouse.query(
            f"select count(*) as n_rows, count(*) - count(distinct ({pk})) as duplicates, "
            f"count(*) filter (where {any_null}) as null_keys from {sql_table(entry, spec.name)}"
        ).row(0, named=True)
        return dg.AssetCheckResult(
            passed=row["duplicates"] == 0 and row["null_keys"] == 0,
            metadata={"rows": row["n_rows"], "duplicate_keys": row["duplicates"], "null_keys": row["null_keys"]},
        )

    return TableCheck(dg.AssetCheckSpec(f"{spec.name}_primary_key", asset=asset_key(entry, asset_name or spec.name),
                                        blocking=True,
                                        description=f"({pk}) is unique and never null in {entry.code}.{spec.name}."),
                      evaluate)


def check_step(check: TableCheck) -> dg.AssetChecksDefinition:
    """The check as its own step (``@dg.asset_check``), reading the warehouse resource."""
    spec = check.spec

    @dg.asset_check(asset=spec.asset_key, name=spec.name, blocking=spec.blocking, description=spec.description,
                    required_resource_keys={"warehouse"})
    def run_check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return check.evaluate(warehouse_of(context))

    return run_check


ChecksByTable = dict[str, list[TableCheck]]


def in_step(checks: ChecksByTable, checks_in_step: bool) -> ChecksByTable:
    """The checks each asset runs in its own step: all of them, or none in the old layout."""
    return checks if checks_in_step else {}


def separate_steps(checks: ChecksByTable, checks_in_step: bool) -> list[dg.AssetChecksDefinition]:
    """The checks that are steps of their own: none, or all of them in the old layout."""
    return [] if checks_in_step else [check_step(check) for table in checks.values() for check in table]


def specs_of(checks: Iterable[TableCheck]) -> list[dg.AssetCheckSpec]:
    """The ``check_specs=`` of an asset whose step runs these checks."""
    return [check.spec for check in checks]


def materialized_then_checked(context: dg.AssetExecutionContext, materialized: dg.MaterializeResult,
                              checks: Sequence[TableCheck]
                              ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """A single asset's step output: its materialization (written already), then its checks' results."""
    yield materialized
    yield from results_in_step(context, checks)


def results_in_step(context: dg.AssetExecutionContext, checks: Sequence[TableCheck]) -> Iterator[dg.AssetCheckResult]:
    """Evaluate the selected ``checks`` in the asset's step, right after its write, and yield them.

    A failed blocking check ends the step here (``dg.Failure``, after its result is recorded), so the
    rest of the step (an order window's items after its orders) and every downstream asset wait for a
    fix, as they did when the check was a step of its own.
    """
    selected = [check for check in checks if check.spec.key in context.selected_asset_check_keys]
    if not selected:
        return
    # Every check on one DuckDB connection (one open of the file, not two or four per check), and the
    # results yielded after it is closed: Dagster writes each result's event outside the warehouse lock.
    with warehouse_of(context).session() as warehouse:
        results = [(check, check.result(warehouse)) for check in selected]
    failed: list[str] = []
    for check, result in results:
        yield result
        if check.spec.blocking and not result.passed:
            failed.append(check.spec.name)
    if failed:
        raise dg.Failure(description=f"blocking check(s) failed: {', '.join(failed)}; see their metadata "
                                     "in the run's check evaluations",
                         allow_retries=False)
