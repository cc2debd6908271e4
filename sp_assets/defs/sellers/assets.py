"""Marketplace participations per marketplace (not partitioned, the table replaced on each run) and its check.

=================================  ============================  ================================
asset                              the seed's report             write
=================================  ============================  ================================
``marketplace_participations``     Marketplace Participations    table replace (unpartitioned)
                                   (getMarketplaceParticipations)
=================================  ============================  ================================

It carries the refresh tag ``unpartitioned``, which the job ``<code>_unpartitioned_job`` (defined with
the schedules, run by the daily schedule) selects. Amazon answers for every marketplace of the
credential's region, so the table lists them all, not only the configured ones.
"""

from collections.abc import Iterator

import dagster as dg

from sp_assets.defs.checks import (
    ChecksByTable,
    in_step,
    materialized_then_checked,
    primary_key,
    separate_steps,
    specs_of,
)
from sp_assets.defs.common import UNPARTITIONED, asset_kwargs, describe, fail_fast, sp_client
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.rest_support import REPLACE_TABLE, fetch_staged, utc_now, write_frame
from sp_assets.lib.sellers import MARKETPLACE_PARTICIPATIONS, fetch_participation_rows

DESCRIPTION = describe(
    "The marketplaces the seller's account can sell in, whether it participates in each and has suspended "
    "listings.",
    "Marketplace Participations",
    "getMarketplaceParticipations (the whole region of the credential). Not partitioned. Write mode: **table "
    "replace** on each run.")


def build_sellers_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """``marketplace_participations``, its check run in its step (``checks_in_step=False``: without)."""
    checks = in_step(sellers_table_checks(entry), checks_in_step).get(MARKETPLACE_PARTICIPATIONS.name, [])

    @dg.asset(check_specs=specs_of(checks),
              **asset_kwargs(entry, MARKETPLACE_PARTICIPATIONS.name, "sellers", UNPARTITIONED, DESCRIPTION,
                                  table=MARKETPLACE_PARTICIPATIONS))
    @fail_fast(entry)
    def marketplace_participations(context: dg.AssetExecutionContext
                                   ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        client = sp_client(context, entry)
        fetched_at = utc_now()
        frame, _, api, stage = fetch_staged(context, entry, MARKETPLACE_PARTICIPATIONS, client, lambda: (
            fetch_participation_rows(client, fetched_at), {}))
        result = write_frame(context, entry, MARKETPLACE_PARTICIPATIONS, frame, mode=REPLACE_TABLE,
                             window=(fetched_at, fetched_at), api=api, **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, checks)

    return [marketplace_participations]


# ------------------------------------------------------------------------------------------ checks
def sellers_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The checks of each sellers table, by table name."""
    return {MARKETPLACE_PARTICIPATIONS.name: [primary_key(entry, MARKETPLACE_PARTICIPATIONS)]}


def build_sellers_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their asset's step (all of them with ``checks_in_step=False``)."""
    return separate_steps(sellers_table_checks(entry), checks_in_step)
