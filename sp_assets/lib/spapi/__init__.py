"""The SP-API client: plain Python on ``requests``, no Dagster, and nothing about any one API.

Build ``SPAPIClient(from_env(marketplace), resolve_endpoint(marketplace), marketplace=marketplace)``
(credentials from the environment, the region's production host unless the environment overrides it)
or ``SPAPIClient(credentials, "http://127.0.0.1:PORT", token_url=...)`` for a sandbox, then call the
functions of a domain module (``sp_assets.lib.orders.get_orders(client, ...)``,
``sp_assets.lib.pricing.get_pricing(...)``). This package holds only what every API shares: auth,
credentials, deadline, endpoints, errors, http, pages, quota, redaction, retry and stats.
"""

from .credentials import LWACredentials, Secret, from_env
from .endpoints import DEFAULT_TOKEN_URL, Endpoint, resolve_endpoint
from .errors import (
    AccessDeniedError,
    APIError,
    AuthError,
    ConfigError,
    DeadlineExceededError,
    ForeignError,
    InvalidInputError,
    InvalidResponseError,
    MissingCredentialsError,
    NotFoundError,
    PaginationError,
    ServerError,
    SPAPIError,
    ThrottledError,
    TransportError,
)
from .http import DownloadResult, SPAPIClient
from .retry import RetryPolicy
from .stats import CallStats

__all__ = [
    "APIError",
    "AccessDeniedError",
    "AuthError",
    "CallStats",
    "ConfigError",
    "DeadlineExceededError",
    "DEFAULT_TOKEN_URL",
    "DownloadResult",
    "Endpoint",
    "ForeignError",
    "InvalidInputError",
    "InvalidResponseError",
    "LWACredentials",
    "MissingCredentialsError",
    "NotFoundError",
    "PaginationError",
    "RetryPolicy",
    "SPAPIClient",
    "SPAPIError",
    "Secret",
    "ServerError",
    "ThrottledError",
    "TransportError",
    "from_env",
    "resolve_endpoint",
]
