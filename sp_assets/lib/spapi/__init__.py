"""The SP-API client: plain Python on ``requests``, no Dagster.

Build ``SPAPIClient(from_env(marketplace), resolve_endpoint(marketplace), marketplace=marketplace)``
(credentials from the environment, the region's production host unless the environment overrides it)
or ``SPAPIClient(credentials, "http://127.0.0.1:PORT", token_url=...)`` for a sandbox, then call the
thin functions of the per-API modules (``orders.get_orders(client, ...)``, ``pricing.get_pricing(...)``).
"""

from .credentials import LWACredentials, Secret, from_env
from .endpoints import DEFAULT_TOKEN_URL, Endpoint, resolve_endpoint
from .errors import (
    AccessDeniedError,
    APIError,
    AuthError,
    ConfigError,
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
    "DEFAULT_TOKEN_URL",
    "DownloadResult",
    "Endpoint",
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
