"""One SP-API resource per configured marketplace (credentials and endpoint) and the DuckDB warehouse resource.

Credentials never go through Dagster config: the resource reads them from the environment when a
run needs a client (``LWA_APP_ID``, ``LWA_CLIENT_SECRET``, ``SP_API_REFRESH_TOKEN`` with ``_<REGION>``
or ``_<CODE>`` overrides), so they never appear in the UI, the run config or the event log.

The sandbox only when asked for: ``SP_ASSETS_SANDBOX=1`` sends every marketplace to the SP-API
sandbox (``SP_API_ENDPOINT`` if set, else one embedded in the process); ``make demo``, ``make dev``
without credentials, and the tests set it. Otherwise a marketplace talks to Amazon's production
host of its region, or to its configured ``endpoint`` (``SP_API_ENDPOINT`` and ``SP_API_TOKEN_URL``
override every marketplace), and missing credentials fail the run before anything is fetched or
written: a deployment that lost its environment must never fill its warehouse with synthetic data.
Every write made in sandbox mode is marked ``source = 'sandbox'`` in the load ledger and in the
materialization's metadata (``data_source``).

Two bounds of every call are settings of the resource, or of the environment for every marketplace:
``request_deadline_seconds`` / ``SP_ASSETS_REQUEST_DEADLINE_S`` (the overall deadline of one attempt
of a request, default 120 s) and ``max_pages_per_call`` / ``SP_ASSETS_MAX_PAGES_PER_CALL`` (the pages
one paged call may follow before it fails; default: derived per operation and window from Amazon's
page size, ``quota.PAGING``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from sp_assets.defs.config import MarketplaceConfig, ProjectConfig
from sp_assets.defs.paths import lake_data_path, warehouse_location
from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.spapi import credentials as credentials_module
from sp_assets.lib.spapi.endpoints import Endpoint, resolve_endpoint
from sp_assets.lib.spapi.errors import ConfigError as SPAPIConfigError
from sp_assets.lib.spapi.errors import MissingCredentialsError
from sp_assets.lib.spapi.http import DEFAULT_REQUEST_DEADLINE_S, SPAPIClient
from sp_assets.lib.spapi.quota_store import STORE_VAR, quota_store
from sp_assets.lib.warehouse import Warehouse, WarehousePathError

SANDBOX_VAR = "SP_ASSETS_SANDBOX"
SANDBOX_VALUES = {"1": True, "0": False, "": False}
SANDBOX = "sandbox"
AMAZON = "amazon"
HOW_TO_USE_THE_SANDBOX = (f"To load synthetic data from the SP-API sandbox instead, set {SANDBOX_VAR}=1 "
                          "(`make demo` and `make dev` do this for you).")


def resource_key(code: str) -> str:
    """The one spelling of a marketplace's SP-API resource key (``sp_api_us``)."""
    return f"sp_api_{code}"


def sandbox_requested() -> bool:
    """Whether ``SP_ASSETS_SANDBOX`` asks for the sandbox: "1" yes; "0" or unset no; anything else is an error.

    An unknown value is refused rather than read as "no": a user who wrote ``true`` meant the
    sandbox, and guessing wrong either way sends data to the wrong place.
    """
    raw = os.environ.get(SANDBOX_VAR, "").strip()
    if raw not in SANDBOX_VALUES:
        raise ValueError(f"{SANDBOX_VAR}: {raw!r} is not allowed; use 1 (the SP-API sandbox), 0 or leave it "
                         "unset (Amazon, with your credentials)")
    return SANDBOX_VALUES[raw]


DEADLINE_VAR = "SP_ASSETS_REQUEST_DEADLINE_S"
MAX_PAGES_VAR = "SP_ASSETS_MAX_PAGES_PER_CALL"


def request_deadline_s(configured: float | None = None) -> float:
    """The overall deadline of one request attempt: the resource's setting, else ``SP_ASSETS_REQUEST_DEADLINE_S``,
    else 120 s. A value that is not a positive number is refused, naming where it came from."""
    if configured is not None:
        return _positive("request_deadline_seconds", configured, float)
    raw = os.environ.get(DEADLINE_VAR, "").strip()
    return DEFAULT_REQUEST_DEADLINE_S if not raw else _positive(DEADLINE_VAR, raw, float)


def max_pages_per_call(configured: int | None = None) -> int | None:
    """The page cap of every paged call: the resource's setting, else ``SP_ASSETS_MAX_PAGES_PER_CALL``,
    else None (the cap derived per operation and window in ``quota.PAGING``)."""
    if configured is not None:
        return int(_positive("max_pages_per_call", configured, int))
    raw = os.environ.get(MAX_PAGES_VAR, "").strip()
    return None if not raw else int(_positive(MAX_PAGES_VAR, raw, int))


def _positive(name: str, value: str | float, kind: type[int] | type[float]) -> float:
    allowed = "a whole number of pages >= 1" if kind is int else "a number of seconds > 0"
    number: float | None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not 0 < number < float("inf") or (
            kind is int and isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{name}: {value!r} is not allowed; use {allowed}")
    return number


def data_source() -> str:
    """``sandbox`` or ``amazon``: where this process's runs fetch from, as the ledger and metadata record it."""
    return SANDBOX if sandbox_requested() else AMAZON


class SpApiResource(dg.ConfigurableResource):
    """The SP-API connection of one marketplace of one seller account. Holds no secret: credentials
    come from the environment (``credentials.candidate_names``: python-amazon-sp-api's names, and the
    account's own ``SP_API_REFRESH_TOKEN_<ACCOUNT>`` where the configuration names accounts)."""

    marketplace: str  # the marketplace's code
    account: str | None = None  # the ``accounts:`` entry; None: the ``marketplaces:`` form
    account_credentials_only: bool = False  # several accounts: only the account's own variable names
    endpoint: str | None = None
    token_url: str | None = None
    request_deadline_seconds: float | None = None
    max_pages_per_call: int | None = None

    _client: SPAPIClient | None = PrivateAttr(default=None)

    def client(self) -> SPAPIClient:
        """A client for this marketplace, created once per process and step.

        A configuration problem (missing credentials, a malformed endpoint) fails the run at once
        with a message naming the setting: retrying cannot fix it.
        """
        if self._client is None:
            try:
                self._client = self._build_client()
            except MissingCredentialsError as error:
                raise dg.Failure(description=f"{self._where()}: {error}. {HOW_TO_USE_THE_SANDBOX}",
                                 allow_retries=False) from None
            except (SPAPIConfigError, ValueError) as error:
                raise dg.Failure(description=f"{self._where()}: {error}", allow_retries=False) from None
        return self._client

    def _where(self) -> str:
        return f"marketplace {self.marketplace}" + (f" of account {self.account}" if self.account else "")

    def _build_client(self) -> SPAPIClient:
        marketplace = by_code(self.marketplace)
        deadline = request_deadline_s(self.request_deadline_seconds)
        max_pages = max_pages_per_call(self.max_pages_per_call)
        store = quota_store_path()
        if store is not None:
            quota_store(store)  # a wrong scheme or an unreachable database fails here, before any request
        if sandbox_requested():
            from sp_assets.defs import embedded_sandbox

            base = embedded_sandbox.sandbox_base_url()
            # Several accounts: each its own sandbox token, so each draws from its own quota buckets.
            seller = self.account if self.account_credentials_only and self.account else None
            return SPAPIClient(embedded_sandbox.sandbox_credentials(marketplace.region, seller),
                               Endpoint(base, base + "/auth/o2/token"),
                               speed=embedded_sandbox.sandbox_speed(), marketplace=marketplace,
                               request_deadline_s=deadline, max_pages_per_call=max_pages,
                               quota_store=store)
        # Outside sandbox mode missing credentials are an error that names every variable tried.
        creds = credentials_module.from_env(marketplace, account=self.account,
                                            account_only=self.account_credentials_only)
        endpoint = resolve_endpoint(marketplace, endpoint=self.endpoint, token_url=self.token_url)
        return SPAPIClient(creds, endpoint, marketplace=marketplace, request_deadline_s=deadline,
                           max_pages_per_call=max_pages, quota_store=store)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()


def quota_store_path() -> str | None:
    """Where every run process's token buckets are shared (``SP_ASSETS_QUOTA_STORE``: a SQLite file's path
    or a PostgreSQL URL), or None for buckets of the run's own process (README "Production": when to set it)."""
    return os.environ.get(STORE_VAR, "").strip() or None


class WarehouseResource(DuckDBResource):
    """The warehouse every asset writes to (``SP_ASSETS_DUCKDB``, default ``data/sp_assets.duckdb``; a
    ``ducklake:<PostgreSQL URL>`` there is a DuckLake several machines write, ``lib/warehouse/lake.py``).

    It is dagster-duckdb's ``DuckDBResource``, so an asset of your own takes it as
    ``warehouse: DuckDBResource`` and calls ``get_connection()``, as Dagster's DuckDB guide shows; the
    connection it yields is sp_assets's own: under the writers' file lock (your SQL never meets an
    sp_assets write half done), retried while another program holds DuckDB's lock, in UTC, with
    ``connection_config`` applied (as to every connection the assets open). ``database`` unset means
    ``SP_ASSETS_DUCKDB`` or ``data/sp_assets.duckdb``. ``lock_timeout_seconds`` bounds the wait for
    other sp_assets writers; ``busy_timeout_seconds`` the wait while another program (DuckDB CLI, a
    notebook) holds DuckDB's own lock, unset meaning ``SP_ASSETS_DUCKDB_BUSY_TIMEOUT`` or 120 s.
    """

    database: str = ""
    lock_timeout_seconds: float = 900.0
    busy_timeout_seconds: float | None = None

    def resolved_path(self) -> str:
        return self.database or warehouse_location()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse under sp_assets's writer lock; keep the block short."""
        with self.warehouse().connect() as connection:
            yield connection

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Check the settings and the database path before the step fetches anything; neither is retried."""
        try:
            self._warehouse(source="amazon").check_writable()
        except (ValueError, WarehousePathError) as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None

    def warehouse(self) -> Warehouse:
        """The warehouse, recording every load with this process's ``data_source`` in the ledger."""
        try:
            return self._warehouse(source=data_source())
        except (ValueError, WarehousePathError) as error:
            # A bad setting (a negative timeout, SP_ASSETS_DUCKDB_BUSY_TIMEOUT=soon, SP_ASSETS_SANDBOX=yes)
            # is the same on every attempt: the step retry policy must not run the step again.
            raise dg.Failure(description=str(error), allow_retries=False) from None

    def _warehouse(self, source: str) -> Warehouse:
        return Warehouse(self.resolved_path(), lock_timeout_s=self.lock_timeout_seconds,
                         busy_timeout_s=self.busy_timeout_seconds, source=source,
                         connection_config=self.connection_config,
                         lake_data_path=lake_data_path())


def sp_api_resource(entry: MarketplaceConfig) -> SpApiResource:
    return SpApiResource(marketplace=entry.marketplace.code, account=entry.credentials_account,
                         account_credentials_only=entry.account_credentials_only, endpoint=entry.endpoint,
                         token_url=entry.token_url)


def project_resources(config: ProjectConfig) -> dict[str, dg.ConfigurableResource]:
    """Every resource of the code location: one SP-API resource per marketplace, and the warehouse."""
    found: dict[str, dg.ConfigurableResource] = {resource_key(m.code): sp_api_resource(m) for m in config.marketplaces}
    found["warehouse"] = WarehouseResource()
    return found
