"""The registry of Amazon marketplaces: id, country code, region, currency, local time zone.

This is data, not client code, so both the SP-API client and the embedded sandbox read it.
Source: Amazon's "Marketplace IDs" page (see the wire-contract digest, section 1.2). The time
zone is the one Seller Central uses for the marketplace's business day.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONS = ("NA", "EU", "FE")


@dataclass(frozen=True)
class Marketplace:
    """One Amazon marketplace. ``code`` is the lower-case code used in asset keys and DuckDB schemas."""

    code: str
    marketplace_id: str
    country_code: str
    region: str
    currency: str
    timezone: str
    domain: str
    charset: str = "Cp1252"

    @property
    def sales_channel(self) -> str:
        """The SalesChannel value Amazon puts on orders, e.g. ``Amazon.com``."""
        return self.domain[0].upper() + self.domain[1:]


MARKETPLACES: tuple[Marketplace, ...] = (
    Marketplace("ca", "A2EUQ1WTGCTBG2", "CA", "NA", "CAD", "America/Los_Angeles", "amazon.ca"),
    Marketplace("us", "ATVPDKIKX0DER", "US", "NA", "USD", "America/Los_Angeles", "amazon.com"),
    Marketplace("mx", "A1AM78C64UM0Y8", "MX", "NA", "MXN", "America/Los_Angeles", "amazon.com.mx"),
    Marketplace("br", "A2Q3Y263D00KWC", "BR", "NA", "BRL", "America/Sao_Paulo", "amazon.com.br"),
    Marketplace("ie", "A28R8C7NBKEWEA", "IE", "EU", "EUR", "Europe/Dublin", "amazon.ie"),
    Marketplace("es", "A1RKKUPIHCS9HS", "ES", "EU", "EUR", "Europe/Paris", "amazon.es"),
    Marketplace("uk", "A1F83G8C2ARO7P", "GB", "EU", "GBP", "Europe/London", "amazon.co.uk"),
    Marketplace("fr", "A13V1IB3VIYZZH", "FR", "EU", "EUR", "Europe/Paris", "amazon.fr"),
    Marketplace("be", "AMEN7PMS3EDWL", "BE", "EU", "EUR", "Europe/Brussels", "amazon.com.be"),
    Marketplace("nl", "A1805IZSGTT6HS", "NL", "EU", "EUR", "Europe/Amsterdam", "amazon.nl"),
    Marketplace("de", "A1PA6795UKMFR9", "DE", "EU", "EUR", "Europe/Berlin", "amazon.de"),
    Marketplace("it", "APJ6JRA9NG5V4", "IT", "EU", "EUR", "Europe/Rome", "amazon.it"),
    Marketplace("se", "A2NODRKZP88ZB9", "SE", "EU", "SEK", "Europe/Stockholm", "amazon.se"),
    Marketplace("za", "AE08WJ6YKNBMC", "ZA", "EU", "ZAR", "Africa/Johannesburg", "amazon.co.za"),
    Marketplace("pl", "A1C3SOZRARQ6R3", "PL", "EU", "PLN", "Europe/Warsaw", "amazon.pl"),
    Marketplace("eg", "ARBP9OOSHTCHU", "EG", "EU", "EGP", "Africa/Cairo", "amazon.eg"),
    Marketplace("tr", "A33AVAJ2PDY3EV", "TR", "EU", "TRY", "Europe/Istanbul", "amazon.com.tr"),
    Marketplace("sa", "A17E79C6D8DWNP", "SA", "EU", "SAR", "Asia/Riyadh", "amazon.sa"),
    Marketplace("ae", "A2VIGQ35RCS4UG", "AE", "EU", "AED", "Asia/Dubai", "amazon.ae", "UTF-8"),
    Marketplace("in", "A21TJRUUN4KGV", "IN", "EU", "INR", "Asia/Kolkata", "amazon.in", "UTF-8"),
    Marketplace("sg", "A19VAU5U5O7RUS", "SG", "FE", "SGD", "Asia/Singapore", "amazon.sg", "UTF-8"),
    Marketplace("au", "A39IBJ37TRP1C6", "AU", "FE", "AUD", "Australia/Sydney", "amazon.com.au", "UTF-8"),
    Marketplace("jp", "A1VC38T7YXB528", "JP", "FE", "JPY", "Asia/Tokyo", "amazon.co.jp", "Shift_JIS"),
)

_BY_CODE = {m.code: m for m in MARKETPLACES}
_BY_ID = {m.marketplace_id: m for m in MARKETPLACES}
# Amazon's doc table says UK while the API's countryCode is GB: accept both as codes.
_ALIASES = {"gb": "uk"}


class UnknownMarketplaceError(ValueError):
    """Raised for a marketplace code or id that is not in the registry; the message lists valid ones."""


def valid_codes() -> list[str]:
    return [m.code for m in MARKETPLACES]


def by_code(code: str) -> Marketplace:
    """Look a marketplace up by its code (``us``, ``DE``, ``gb``...), case-insensitively."""
    key = str(code).strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return _BY_CODE[key]
    except KeyError:
        raise UnknownMarketplaceError(
            f"unknown marketplace code {code!r}; valid codes: {', '.join(valid_codes())}"
        ) from None


def by_id(marketplace_id: str) -> Marketplace:
    """Look a marketplace up by Amazon's marketplace id (``ATVPDKIKX0DER``)."""
    try:
        return _BY_ID[str(marketplace_id).strip()]
    except KeyError:
        raise UnknownMarketplaceError(
            f"unknown marketplace id {marketplace_id!r}; valid ids: "
            + ", ".join(f"{m.marketplace_id} ({m.code})" for m in MARKETPLACES)
        ) from None


def lookup(code_or_id: str) -> Marketplace:
    """Accept either a code or an id, as users write both."""
    text = str(code_or_id).strip()
    if text in _BY_ID:
        return _BY_ID[text]
    return by_code(text)


def in_region(region: str) -> list[Marketplace]:
    region = region.upper()
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}; valid regions: {', '.join(REGIONS)}")
    return [m for m in MARKETPLACES if m.region == region]


# ------------------------------------------------------------------------------- seller accounts
# One seller account's marketplaces each get their own schema, asset keys and jobs. With one account
# (the only possibility before accounts existed) they are named by the marketplace code alone
# (``us``), so an existing warehouse keeps its tables; with several accounts, one marketplace may
# appear under many of them, so its name carries the account first (``acme_us``). These two functions
# are the one spelling of that rule: the configuration builds names with the first, the ``amazon.*``
# views read them back with the second.
DEFAULT_ACCOUNT = "default"  # the ``account`` of a name without one (python-amazon-sp-api's unnamed account)


def entry_name(code: str, account: str | None = None) -> str:
    """A marketplace's name in keys and schemas: ``us``, or ``acme_us`` for account ``acme``."""
    return code if account is None else f"{account}_{code}"


def split_entry_name(name: str) -> tuple[str, str]:
    """``(account, marketplace code)`` of a name ``entry_name`` spelled: ``acme_us`` -> ``("acme", "us")``,
    ``us`` -> ``("default", "us")``. A name that ends in no marketplace code is its own marketplace."""
    account, _, code = name.rpartition("_")
    if account and code in _BY_CODE:
        return account, code
    return DEFAULT_ACCOUNT, name
