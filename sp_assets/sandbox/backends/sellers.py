"""Sellers v1: the marketplaces the synthetic seller participates in, and its seller id.

A refresh token authorizes one region, so the participations are the marketplaces of the token's
region (as Amazon answers per regional endpoint). The seller sells in every marketplace of the
registry; a few marketplaces (chosen by the seed) have suspended listings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sp_assets.lib.marketplaces import Marketplace, in_region
from sp_assets.sandbox.backends.catalog import language_tag
from sp_assets.sandbox.seller import SyntheticSeller

STORE_NAME = "Brightline Goods"


def seller_id(seed: int) -> str:
    """The merchant id of the synthetic seller (``A`` + 13 upper-case characters, as Amazon's look)."""
    number = int.from_bytes(hashlib.blake2b(f"seller-id:{seed}".encode(), digest_size=10).digest(), "big")
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    chars = []
    for _ in range(13):
        number, rem = divmod(number, 36)
        chars.append(alphabet[rem])
    return "A" + "".join(chars)


@dataclass(frozen=True)
class Participation:
    marketplace: Marketplace
    is_participating: bool
    has_suspended_listings: bool
    store_name: str

    def to_json(self) -> dict[str, Any]:
        m = self.marketplace
        return {
            "marketplace": {"id": m.marketplace_id, "name": m.sales_channel, "countryCode": m.country_code,
                            "defaultCurrencyCode": m.currency,
                            "defaultLanguageCode": language_tag(m.marketplace_id),
                            "domainName": "www." + m.domain},
            "participation": {"isParticipating": self.is_participating,
                              "hasSuspendedListings": self.has_suspended_listings},
            "storeName": self.store_name,
        }


class SellersBackend:
    def __init__(self, seller: SyntheticSeller) -> None:
        self.seller = seller
        self.seller_id = seller_id(seller.seed)

    def participations(self, region: str) -> list[Participation]:
        """Ground truth: one participation per marketplace of ``region`` (NA, EU or FE)."""
        return [Participation(m, True, self.seller.rng("suspended", m.marketplace_id).random() < 0.15,
                              STORE_NAME)
                for m in in_region(region)]
