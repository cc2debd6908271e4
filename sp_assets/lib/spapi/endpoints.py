"""Where the client sends its calls: the SP-API base URL and the LWA token URL.

Amazon has one production host and one static-sandbox host per region (NA, EU, FE) and a single LWA
token endpoint for every region. Tests and benchmarks point the client at the embedded sandbox (or a
proxy) instead, so both URLs are ordinary configuration, and two environment variables override them
for every marketplace at once (handy for a whole Dagster deployment pointed at a sandbox):

* ``SP_API_ENDPOINT``  replaces every marketplace's API base URL;
* ``SP_API_TOKEN_URL`` replaces every marketplace's LWA token URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sp_assets.lib.marketplaces import REGIONS, Marketplace, lookup

from .errors import ConfigError

PRODUCTION_HOSTS: dict[str, str] = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
AMAZON_SANDBOX_HOSTS: dict[str, str] = {
    "NA": "https://sandbox.sellingpartnerapi-na.amazon.com",
    "EU": "https://sandbox.sellingpartnerapi-eu.amazon.com",
    "FE": "https://sandbox.sellingpartnerapi-fe.amazon.com",
}
DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

ENDPOINT_ENV = "SP_API_ENDPOINT"
TOKEN_URL_ENV = "SP_API_TOKEN_URL"

# Symbolic endpoint names a configuration file may use instead of a URL.
PRODUCTION = "production"
AMAZON_SANDBOX = "amazon_sandbox"


@dataclass(frozen=True)
class Endpoint:
    """A resolved pair of URLs: ``base_url`` has no trailing slash, SP-API paths are appended to it."""

    base_url: str
    token_url: str = DEFAULT_TOKEN_URL

    @property
    def is_amazon(self) -> bool:
        """True for Amazon's own hosts (production or static sandbox), false for anything local."""
        return self.base_url in PRODUCTION_HOSTS.values() or self.base_url in AMAZON_SANDBOX_HOSTS.values()


def validate_url(value: object, field: str) -> str:
    """Return ``value`` as a clean http(s) URL without trailing slash, or raise naming ``field``.

    A typo such as ``127.0.0.1:8000`` (no scheme) would otherwise surface much later as an obscure
    requests error on the first call, far away from the configuration that caused it.
    """
    text = str(value).strip() if value is not None else ""
    problem = _url_problem(text)
    if problem:
        raise ConfigError(
            f"{field} is not a valid URL ({problem}): got {text!r}; "
            "expected something like 'https://sellingpartnerapi-na.amazon.com' or 'http://127.0.0.1:8000'"
        )
    return text.rstrip("/")


def _url_problem(text: str) -> str | None:
    if not text:
        return "empty"
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "the scheme must be http or https"
    if not parts.hostname:
        return "no host name"
    if port == 0:
        return "port 0"
    if parts.query or parts.fragment:
        return "no query string or fragment allowed"
    if any(ch.isspace() for ch in text):
        return "contains white space"
    return None


def _region_of(where: Marketplace | str) -> str:
    if isinstance(where, Marketplace):
        return where.region
    text = str(where).strip().upper()
    if text in REGIONS:
        return text
    return lookup(str(where)).region


def resolve_endpoint(
    where: Marketplace | str,
    endpoint: str | None = None,
    token_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoint:
    """Resolve the URLs for a marketplace (object, code or id) or a region (``NA``/``EU``/``FE``).

    Precedence, highest first, for the base URL: ``SP_API_ENDPOINT`` when set and non-empty; then
    ``endpoint`` (a URL, or ``"production"`` / ``"amazon_sandbox"``); then the region's production host.
    The token URL: ``SP_API_TOKEN_URL``; then ``token_url``; then Amazon's LWA endpoint.
    The environment wins so that one variable re-points a whole deployment (at a sandbox, a proxy).
    """
    env = os.environ if environ is None else environ
    region = _region_of(where)
    env_endpoint = (env.get(ENDPOINT_ENV) or "").strip()
    env_token = (env.get(TOKEN_URL_ENV) or "").strip()
    if env_endpoint:
        base = validate_url(env_endpoint, ENDPOINT_ENV)
    else:
        base = _configured_base(endpoint, region)
    if env_token:
        token = validate_url(env_token, TOKEN_URL_ENV)
    elif token_url is not None and str(token_url).strip():
        token = validate_url(token_url, "token_url")
    else:
        token = DEFAULT_TOKEN_URL
    return Endpoint(base_url=base, token_url=token)


def _configured_base(endpoint: str | None, region: str) -> str:
    name = (endpoint or "").strip()
    if not name or name.lower() == PRODUCTION:
        return PRODUCTION_HOSTS[region]
    if name.lower() == AMAZON_SANDBOX:
        return AMAZON_SANDBOX_HOSTS[region]
    return validate_url(name, "endpoint")
