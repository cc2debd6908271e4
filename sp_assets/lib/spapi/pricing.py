"""Product Pricing v0: ``getPricing`` (own offers) and ``getCompetitivePricing``, by SKU or ASIN.

Amazon answers a batch of up to 20 identifiers with HTTP 200 and one entry per identifier, each with
its own ``status``; an unknown or malformed SKU is ``status: ClientError`` inside a 200, not an HTTP
error. So each entry comes back as a ``PricedItem`` or an ``InvalidItem`` and the caller decides
whether an invalid SKU is skipped or fails the run. SKUs travel percent-encoded (space, quotes,
``+``, ``/``, ``#`` included) by ``encode_query``.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .http import SPAPIClient

PRICE_PATH = "/products/pricing/v0/price"
COMPETITIVE_PRICE_PATH = "/products/pricing/v0/competitivePrice"
MAX_BATCH = 20

ItemType = Literal["Sku", "Asin"]
ITEM_CONDITIONS = ("New", "Used", "Collectible", "Refurbished", "Club")


@dataclass(frozen=True)
class PricedItem:
    """An entry with ``status == "Success"``; ``record`` is Amazon's whole entry (``Product`` etc.)."""

    identifier: str
    item_type: str
    record: dict[str, Any] = field(repr=False)
    status: str = "Success"

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True)
class InvalidItem:
    """An identifier Amazon could not price: ``status`` is ``ClientError`` (unknown/invalid SKU or
    ASIN), ``ServerError``, or ``NoResult`` when the answer had no entry for it at all."""

    identifier: str
    item_type: str
    status: str
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return False


PricingOutcome = PricedItem | InvalidItem


def get_pricing(
    client: SPAPIClient,
    marketplace_id: str,
    item_type: ItemType,
    identifiers: Sequence[str],
    *,
    item_condition: str | None = None,
    offer_type: Literal["B2C", "B2B"] | None = None,
    batch_size: int = MAX_BATCH,
) -> Iterator[PricingOutcome]:
    """The seller's own offers for each SKU/ASIN; one outcome per identifier, batches of <= 20."""
    if item_condition is not None and item_condition not in ITEM_CONDITIONS:
        raise ValueError(f"item_condition must be one of {', '.join(ITEM_CONDITIONS)}, got {item_condition!r}")
    extra = {"ItemCondition": item_condition, "OfferType": offer_type}
    yield from _priced(client, "getPricing", PRICE_PATH, marketplace_id, item_type, identifiers, extra, batch_size)


def get_competitive_pricing(
    client: SPAPIClient,
    marketplace_id: str,
    item_type: ItemType,
    identifiers: Sequence[str],
    *,
    customer_type: Literal["Consumer", "Business"] | None = None,
    batch_size: int = MAX_BATCH,
) -> Iterator[PricingOutcome]:
    """Competitive prices (Buy Box, offer counts, sales ranks) for each SKU/ASIN, batches of <= 20."""
    extra = {"CustomerType": customer_type}
    yield from _priced(client, "getCompetitivePricing", COMPETITIVE_PRICE_PATH, marketplace_id, item_type,
                       identifiers, extra, batch_size)


def batches(identifiers: Sequence[str], size: int = MAX_BATCH) -> list[list[str]]:
    """Split into batches of at most ``size`` (<= 20), duplicates removed, order kept."""
    if not 1 <= size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1..{MAX_BATCH} (Amazon's limit), got {size}")
    unique = list(dict.fromkeys(identifiers))
    return [unique[i:i + size] for i in range(0, len(unique), size)]


def _priced(
    client: SPAPIClient,
    operation: str,
    path: str,
    marketplace_id: str,
    item_type: ItemType,
    identifiers: Sequence[str],
    extra: dict[str, Any],
    batch_size: int,
) -> Iterator[PricingOutcome]:
    if item_type not in ("Sku", "Asin"):
        raise ValueError(f"item_type must be 'Sku' or 'Asin', got {item_type!r}")
    if isinstance(identifiers, str):
        raise TypeError("identifiers must be a sequence of SKUs/ASINs, not one string")
    list_param = "Skus" if item_type == "Sku" else "Asins"
    for batch in batches(identifiers, batch_size):
        params = {"MarketplaceId": marketplace_id, "ItemType": item_type, list_param: batch, **extra}
        body = client.request(operation, "GET", path, params=params)
        yield from outcomes(body, item_type, batch)


def outcomes(body: Any, item_type: str, requested: Sequence[str]) -> Iterator[PricingOutcome]:
    """Turn one answer into one outcome per entry, plus ``NoResult`` for requested ids it lacks."""
    entries = body.get("payload") if isinstance(body, dict) else None
    wanted = set(requested)
    seen: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        identifier = _identifier_of(entry, item_type, wanted)
        seen.add(identifier)
        status = str(entry.get("status", ""))
        if status == "Success":
            yield PricedItem(identifier, item_type, entry)
        else:
            yield InvalidItem(identifier, item_type, status or "Unknown", entry)
    for identifier in requested:
        if identifier not in seen:
            yield InvalidItem(identifier, item_type, "NoResult")


def _identifier_of(entry: dict[str, Any], item_type: str, wanted: set[str]) -> str:
    """The requested identifier an entry answers; Amazon has echoed SKUs HTML-escaped (docs#3510)."""
    key = "SellerSKU" if item_type == "Sku" else "ASIN"
    raw = entry.get(key)
    if raw is None:
        identifiers = (entry.get("Product") or {}).get("Identifiers") or {}
        raw = (identifiers.get("SKUIdentifier") or {}).get("SellerSKU") if item_type == "Sku" else \
            (identifiers.get("MarketplaceASIN") or {}).get("ASIN")
    text = str(raw or "")
    if text in wanted:
        return text
    for candidate in (html.unescape(text), html.unescape(text).replace('\\"', '"')):
        if candidate in wanted:
            return candidate
    return text
