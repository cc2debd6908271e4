"""Marketplace participations per marketplace: not partitioned, the table is replaced on each run.

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

import dagster as dg

from sp_assets.defs.common import REFRESH_TAG, RETRY, UNPARTITIONED, asset_key, group_name, pool_name
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.defs.rest_support import REPLACE_TABLE, api_since, sp_client, utc_now, write_rows
from sp_assets.lib.sellers import MARKETPLACE_PARTICIPATIONS, fetch_participation_rows

DESCRIPTION = ("Replaces the seed's **Marketplace Participations**: the marketplaces the seller's account can sell "
               "in, and whether it participates and has suspended listings (getMarketplaceParticipations; the "
               "whole region of the credential). Not partitioned. Write mode: **table replace** on each run.")


def build_sellers_assets(entry: MarketplaceConfig) -> list[dg.AssetsDefinition]:
    @dg.asset(key=asset_key(entry, MARKETPLACE_PARTICIPATIONS.name), group_name=group_name(entry),
              kinds={"duckdb", "python"}, pool=pool_name(entry, "sellers"), retry_policy=RETRY,
              tags={REFRESH_TAG: UNPARTITIONED}, description=DESCRIPTION,
              required_resource_keys={f"sp_api_{entry.code}", "warehouse"})
    def marketplace_participations(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        client = sp_client(context, entry)
        before = client.stats.snapshot()
        fetched_at = utc_now()
        rows = fetch_participation_rows(client, fetched_at)
        return write_rows(context, entry, MARKETPLACE_PARTICIPATIONS, rows, mode=REPLACE_TABLE,
                          window=(fetched_at, fetched_at), api=api_since(client, before))

    return [marketplace_participations]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[a for m in load_config().marketplaces for a in build_sellers_assets(m)])
