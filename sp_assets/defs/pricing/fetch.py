"""API answers to rows for Product Pricing by SKU: plain functions the assets call before writing.

Amazon answers a batch of SKUs with one entry per SKU, each with its own status; an unknown SKU is a
``ClientError`` entry inside a 200 answer, not an HTTP error. ``fetch_priced`` sorts the entries into
the valid records and the invalid SKUs (with Amazon's status), and the asset applies the seed's
"Continue on Invalid SKU Error" option to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sp_assets.lib.spapi import pricing as pricing_api
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tables.pricing import competitive_price_row, my_price_row

# Per-item statuses that mean "Amazon does not know this SKU" (NoResult: no entry came back for it at
# all). Anything else that is not Success (ServerError) is an error worth a retry.
INVALID_SKU_STATUSES = frozenset({"ClientError", "NoResult"})

PricingCall = Callable[..., Iterator[pricing_api.PricingOutcome]]


class PricingItemError(RuntimeError):
    """Amazon answered a SKU with a status that is neither Success nor an invalid-SKU status."""


@dataclass
class PricedSkus:
    """What Amazon answered for the requested SKUs: records by SKU, and invalid SKUs with their status."""

    valid: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)


def fetch_priced(client: SPAPIClient, marketplace_id: str, skus: Sequence[str], call: PricingCall) -> PricedSkus:
    """Ask ``call`` (``get_pricing`` or ``get_competitive_pricing``) about ``skus``, batches of 20."""
    out = PricedSkus()
    wanted = set(skus)
    for outcome in call(client, marketplace_id, "Sku", list(skus)):
        if outcome.identifier not in wanted:
            continue  # an echo Amazon mangled beyond recognition; the SKU itself comes back as NoResult
        if outcome.ok:
            out.valid[outcome.identifier] = outcome.record
        elif outcome.status in INVALID_SKU_STATUSES:
            out.invalid[outcome.identifier] = outcome.status
        else:
            raise PricingItemError(f"getPricing answered SKU {outcome.identifier!r} with status {outcome.status!r} "
                                   "(not Success, not an invalid SKU); retrying may help")
    return out


def my_price_rows(priced: PricedSkus, snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
    return [my_price_row(sku, record, snapshot_date, snapshot_time) for sku, record in sorted(priced.valid.items())]


def competitive_price_rows(priced: PricedSkus, snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
    return [competitive_price_row(sku, record, snapshot_date, snapshot_time)
            for sku, record in sorted(priced.valid.items())]
