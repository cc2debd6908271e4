"""The code location's one ``@dg.definitions``: the configuration read once, every domain built per marketplace.

Dagster's ``load_from_defs_folder`` imports every module under ``sp_assets/defs/`` and calls each
``@dg.definitions`` function it finds. This is the only one: it reads ``marketplaces.yaml`` once,
binds the resources (one SP-API resource per marketplace, the warehouse), and asks each domain for
its assets and checks of each configured marketplace, then adds the marketplace's jobs and daily
schedules (daily, and monthly where it has monthly reports). A new domain is one line in ``DOMAINS``: its ``build_<domain>_assets(entry)`` and
``build_<domain>_checks(entry)``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import TracebackType

import dagster as dg

from sp_assets.defs.catalog.assets import build_catalog_assets, build_catalog_checks
from sp_assets.defs.config import ConfigError, MarketplaceConfig, ProjectConfig, load_config
from sp_assets.defs.data_kiosk.assets import build_data_kiosk_assets, build_data_kiosk_checks
from sp_assets.defs.fees.assets import build_fees_assets, build_fees_checks
from sp_assets.defs.finances.assets import build_finances_assets, build_finances_checks
from sp_assets.defs.freshness import build_freshness_checks, build_freshness_sensor
from sp_assets.defs.inventory.assets import build_inventory_assets, build_inventory_checks
from sp_assets.defs.marts.assets import build_marts, group_scope
from sp_assets.defs.orders.assets import build_orders_assets, build_orders_checks
from sp_assets.defs.pricing.assets import build_pricing_assets, build_pricing_checks
from sp_assets.defs.reports.assets import build_report_assets
from sp_assets.defs.reports.checks import build_report_checks
from sp_assets.defs.resources import project_resources
from sp_assets.defs.run_health import build_dead_runs_sensor
from sp_assets.defs.schedules import build_schedules, build_sensors
from sp_assets.defs.sellers.assets import build_sellers_assets, build_sellers_checks
from sp_assets.defs.shipments.assets import build_shipments_assets, build_shipments_checks
from sp_assets.defs.warehouse_maintenance import build_warehouse_maintenance

AssetsBuilder = Callable[[MarketplaceConfig], Sequence[dg.AssetsDefinition]]
ChecksBuilder = Callable[[MarketplaceConfig], Sequence[dg.AssetChecksDefinition]]

# (assets, checks) per domain, in the order the UI lists them.
DOMAINS: tuple[tuple[AssetsBuilder, ChecksBuilder], ...] = (
    (build_orders_assets, build_orders_checks),
    (build_inventory_assets, build_inventory_checks),
    (build_pricing_assets, build_pricing_checks),
    (build_fees_assets, build_fees_checks),
    (build_catalog_assets, build_catalog_checks),
    (build_shipments_assets, build_shipments_checks),
    (build_sellers_assets, build_sellers_checks),
    (build_finances_assets, build_finances_checks),
    (build_report_assets, build_report_checks),
    (build_data_kiosk_assets, build_data_kiosk_checks),
)


def marketplace_definitions(entry: MarketplaceConfig) -> dg.Definitions:
    """Every asset, check, job and schedule of one marketplace (no resources: those are per project)."""
    assets = [a for build_assets, _ in DOMAINS for a in build_assets(entry)]
    checks = [c for _, build_checks in DOMAINS for c in build_checks(entry)]
    freshness = build_freshness_checks(entry, assets)  # evaluated by their sensor, not in the jobs
    checks += freshness
    jobs, schedules = build_schedules(entry, assets, exclude_checks=[k for c in freshness for k in c.check_keys])
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=jobs, schedules=schedules,
                          sensors=[*build_sensors(entry), *build_freshness_sensor(entry, freshness)])


# Every run (schedules, UI backfills, `dg launch`) executes its steps in the run's own process: a
# step's time is Amazon's quota and DuckDB, not a subprocess that imports the code location (~1 s a
# step, and a one-day rolling job has 20-odd steps; measured in benchmarks/bench_orchestration.py).
# Steps of one run still go one at a time in dependency order, blocking checks still block, and
# pools still serialize the steps of parallel runs that share a quota (each step claims its slot).
EXECUTOR = dg.in_process_executor


def project_definitions(config: ProjectConfig, accounts: Sequence[str] = ()) -> dg.Definitions:
    """The whole code location for one configuration: every marketplace, the marts built across them
    (``defs/marts``: one set per project, downstream of the raw assets that exist), the resources, the
    executor, the sensor that fails dead runs and frees their pool slots (``run_health``), and a DuckLake
    warehouse's nightly upkeep (``warehouse_maintenance``).

    ``accounts`` (``SP_ASSETS_ACCOUNTS``) builds only those accounts' marketplaces, their resources, the
    executor and their marts (``marts/<first account>/<table>``, replacing only the group's rows of the
    shared ``marts.*`` tables; ``marts.assets.Scope``): one code location of a workspace that splits many
    accounts into groups. The dead-runs sensor is the project's, built by the location of every account.
    """
    if accounts:
        chosen = select_accounts(config, accounts)
        group = [marketplace_definitions(entry) for entry in chosen.marketplaces]
        raw = [a for d in group for a in (d.assets or []) if isinstance(a, dg.AssetsDefinition)]
        return dg.Definitions.merge(*group, build_marts(chosen, raw, group_scope(chosen, accounts)),
                                    dg.Definitions(resources=project_resources(chosen), executor=EXECUTOR))
    per_marketplace = [marketplace_definitions(entry) for entry in config.marketplaces]
    raw_assets = [a for d in per_marketplace for a in (d.assets or []) if isinstance(a, dg.AssetsDefinition)]
    return dg.Definitions.merge(*per_marketplace, build_marts(config, raw_assets), build_warehouse_maintenance(),
                                dg.Definitions(resources=project_resources(config), executor=EXECUTOR,
                                               sensors=[build_dead_runs_sensor()]))


# A workspace of many accounts can load them as several code locations (workspace.yaml, one
# ``python_module`` entry per group with ``SP_ASSETS_ACCOUNTS`` in its environment): each loads, and
# each run's process rebuilds, only its group's definitions (BENCHMARKS.md section 10).
ACCOUNTS_VAR = "SP_ASSETS_ACCOUNTS"


def accounts_wanted(value: str | None = None) -> list[str]:
    """The account names in ``SP_ASSETS_ACCOUNTS`` (comma-separated; unset or empty: every account)."""
    raw = os.environ.get(ACCOUNTS_VAR, "") if value is None else value
    return [name.strip() for name in raw.split(",") if name.strip()]


def select_accounts(config: ProjectConfig, accounts: Sequence[str]) -> ProjectConfig:
    """``config`` with only the marketplaces of ``accounts``; names, keys and the reporting currency
    stay those of the whole file (an account's tables are the same in any group)."""
    listed = list(dict.fromkeys(m.credentials_account for m in config.marketplaces if m.credentials_account))
    if not listed:
        raise ConfigError(f"{ACCOUNTS_VAR}: {config.source} lists no 'accounts:' (it uses 'marketplaces:'); "
                          f"allowed: unset {ACCOUNTS_VAR}, or list the file's accounts under 'accounts:'")
    unknown = [name for name in accounts if name not in listed]
    if unknown:
        shown = ", ".join(listed[:20]) + (f" ... ({len(listed)} in all)" if len(listed) > 20 else "")
        raise ConfigError(f"{ACCOUNTS_VAR}: {', '.join(repr(n) for n in unknown)} not an account of "
                          f"{config.source}; allowed: {shown} (comma-separated), or unset for every account")
    return replace(config, marketplaces=tuple(m for m in config.marketplaces if m.credentials_account in accounts))


# ------------------------------------------------------------------------------------------ errors
# A configuration error reaches the command line wrapped by Dagster (its component tree re-raises it)
# under a traceback of some 200 lines whose last line is the tree, not the sentence. Where nothing
# catches it (dg launch, dagster asset materialize, a script), the user sees the sentence first and
# the traceback on request; where Dagster catches it (the webserver, a code server) nothing changes:
# the UI shows the error with its cause.
TRACEBACK_VAR = "SP_ASSETS_TRACEBACK"


def _traceback_wanted() -> bool:
    return os.environ.get(TRACEBACK_VAR, "").strip() not in ("", "0") or "--verbose" in sys.argv


def _config_error_in(value: BaseException | None) -> ConfigError | None:
    """The ConfigError ``value`` is or was raised from (Dagster wraps it), if any."""
    seen: set[int] = set()
    while value is not None and id(value) not in seen:
        if isinstance(value, ConfigError):
            return value
        seen.add(id(value))
        value = value.__cause__ or value.__context__
    return None


def _excepthook(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
    error = _config_error_in(value)
    if error is None or _traceback_wanted():
        sys.__excepthook__(kind, value, traceback)
        return
    sys.stderr.write(f"sp_assets: {error}\n(a configuration error: nothing was run. The traceback: "
                     f"{TRACEBACK_VAR}=1, or dg --verbose.)\n")
    sys.stderr.flush()


def show_sentence_first() -> None:
    """If a configuration error ends the process, print its sentence and a hint, not the traceback
    (unless ``SP_ASSETS_TRACEBACK=1`` or ``--verbose``). Any other uncaught exception prints as before.
    Only a process whose definitions failed to load installs it, and only over Python's own hook."""
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _excepthook


@dg.definitions
def defs() -> dg.Definitions:
    try:
        return project_definitions(load_config(), accounts_wanted())
    except ConfigError:
        show_sentence_first()
        raise
