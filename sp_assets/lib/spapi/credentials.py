"""LWA credentials: the app's client id and secret plus the seller's refresh token.

Environment variables follow python-amazon-sp-api's names, so an existing setup works unchanged:
``LWA_APP_ID``, ``LWA_CLIENT_SECRET``, ``SP_API_REFRESH_TOKEN``. A named seller account (``accounts:``
in the configuration) adds its own names, suffixed by the account as python-amazon-sp-api suffixes
its named accounts: ``SP_API_REFRESH_TOKEN_ACME``. With several accounts the refresh token is read
from those names only, since the marketplace and region names could not say whose token they hold.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from sp_assets.lib.marketplaces import REGIONS, Marketplace, lookup

from .errors import ConfigError, MissingCredentialsError
from .redaction import Secret

__all__ = ["LWACredentials", "Secret", "from_env", "candidate_names", "CLIENT_ID_VAR", "CLIENT_SECRET_VAR",
           "REFRESH_TOKEN_VAR"]

CLIENT_ID_VAR = "LWA_APP_ID"
CLIENT_SECRET_VAR = "LWA_CLIENT_SECRET"
REFRESH_TOKEN_VAR = "SP_API_REFRESH_TOKEN"


@dataclass(frozen=True, init=False)
class LWACredentials:
    """One credential = one (application, selling partner) pair, which is also Amazon's quota key.

    ``client_id`` is not secret (it appears in Seller Central URLs) and stays readable in reprs; the
    client secret and refresh token are ``Secret`` and print as ``***``. The constructor takes them as
    plain strings too and wraps them at once, so no caller holds an unwrapped copy in the object.
    """

    client_id: str
    client_secret: Secret = field(repr=True)
    refresh_token: Secret = field(repr=True)

    def __init__(self, client_id: str, client_secret: Secret | str, refresh_token: Secret | str) -> None:
        object.__setattr__(self, "client_id", client_id)
        object.__setattr__(self, "client_secret", _secret(client_secret))
        object.__setattr__(self, "refresh_token", _secret(refresh_token))
        self._check_complete()

    def _check_complete(self) -> None:
        missing = [n for n in ("client_id", "client_secret", "refresh_token") if not getattr(self, n)]
        if missing:
            raise ConfigError(f"LWA credentials are incomplete: empty {', '.join(missing)}")

    @property
    def fingerprint(self) -> str:
        """A non-reversible id of the refresh token: keys token caches and quota buckets, names pools.

        The refresh token identifies (application, seller), which is exactly what Amazon's quotas and
        access tokens are scoped to.
        """
        return self.refresh_token.fingerprint(16)


def _secret(value: Secret | str) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


def candidate_names(base: str, where: Marketplace | str | None, account: str | None = None,
                    account_only: bool = False) -> list[str]:
    """The variable names looked up for ``base``, most specific first.

    For marketplace ``de``: ``BASE_DE``, then ``BASE_EU`` (its region), then ``BASE``. The UK is
    found as ``_UK`` and ``_GB``. A region alone (``"EU"``) gives ``BASE_EU``, ``BASE``. An
    ``account`` (``acme``) comes first: ``BASE_ACME``; with ``account_only`` (several accounts) the
    refresh token has that name alone, and the application's id and secret ``BASE_ACME``, ``BASE``
    (one application commonly serves every seller).
    """
    if account is not None and account_only:
        own = f"{base}_{account.upper()}"
        return [own] if base == REFRESH_TOKEN_VAR else [own, base]
    names: list[str] = [] if account is None else [f"{base}_{account.upper()}"]
    if where is not None:
        region, codes = _codes_of(where)
        names += [f"{base}_{code}" for code in codes]
        names.append(f"{base}_{region}")
    names.append(base)
    return list(dict.fromkeys(names))


def _codes_of(where: Marketplace | str) -> tuple[str, list[str]]:
    if isinstance(where, str) and where.strip().upper() in REGIONS:
        return where.strip().upper(), []
    marketplace = where if isinstance(where, Marketplace) else lookup(where)
    codes = [marketplace.code.upper(), marketplace.country_code.upper()]
    return marketplace.region, list(dict.fromkeys(codes))


def _label(where: Marketplace | str) -> str:
    return where.code if isinstance(where, Marketplace) else str(where)


def from_env(where: Marketplace | str | None = None, environ: Mapping[str, str] | None = None,
             account: str | None = None, account_only: bool = False) -> LWACredentials:
    """Read credentials for a marketplace (object, code or id), a region, or ``None`` (globals only),
    of ``account`` when one is named (see ``candidate_names``).

    Precedence, per variable and independently for each of the three: the marketplace-specific name
    (``SP_API_REFRESH_TOKEN_DE``), then the region-specific one (``SP_API_REFRESH_TOKEN_EU``), then the
    plain one (``SP_API_REFRESH_TOKEN``). So one app (``LWA_APP_ID``/``LWA_CLIENT_SECRET``) can serve
    several seller accounts, each with its own refresh token per region or marketplace. Empty values
    count as missing. Raises ``MissingCredentialsError`` naming every variable that was tried.
    """
    env = os.environ if environ is None else environ
    found: dict[str, str] = {}
    missing: list[str] = []
    for base in (CLIENT_ID_VAR, CLIENT_SECRET_VAR, REFRESH_TOKEN_VAR):
        names = candidate_names(base, where, account, account_only)
        value = next((env[n].strip() for n in names if (env.get(n) or "").strip()), None)
        if value is None:
            missing.append(" or ".join(names))
        else:
            found[base] = value
    if missing:
        target = f" for {_label(where)}" if where is not None else ""
        target += f" of account {account}" if account is not None else ""
        raise MissingCredentialsError(
            f"missing SP-API credentials{target}: set {'; '.join(missing)}"
        )
    return LWACredentials(
        client_id=found[CLIENT_ID_VAR],
        client_secret=Secret(found[CLIENT_SECRET_VAR]),
        refresh_token=Secret(found[REFRESH_TOKEN_VAR]),
    )
