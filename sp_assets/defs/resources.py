"""One SP-API resource per marketplace (credentials and endpoint) and the DuckDB warehouse resource.

Credentials never go through Dagster config: the resource reads them from the environment when a
run needs a client (``LWA_APP_ID``, ``LWA_CLIENT_SECRET``, ``SP_API_REFRESH_TOKEN`` with ``_<REGION>``
or ``_<CODE>`` overrides), so they never appear in the UI, the run config or the event log.

Sandbox mode: when a marketplace has no credentials in the environment and no ``endpoint`` in
``marketplaces.yaml``, it talks to the SP-API sandbox (``SP_API_ENDPOINT`` if set, else one embedded
in the process). With credentials, it talks to Amazon's production host of its region, or to the
configured endpoint; ``SP_API_ENDPOINT`` and ``SP_API_TOKEN_URL`` override every marketplace.
"""

from __future__ import annotations

import os

import dagster as dg
from pydantic import PrivateAttr

from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.defs.paths import duckdb_path
from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.spapi import credentials as credentials_module
from sp_assets.lib.spapi.endpoints import Endpoint, resolve_endpoint
from sp_assets.lib.spapi.errors import ConfigError as SPAPIConfigError
from sp_assets.lib.spapi.http import SPAPIClient


def resource_key(code: str) -> str:
    return f"sp_api_{code}"


class SpApiResource(dg.ConfigurableResource):
    """The SP-API connection of one marketplace. Holds no secret: credentials come from the environment."""

    marketplace: str
    account: str
    endpoint: str | None = None
    token_url: str | None = None

    _client: SPAPIClient | None = PrivateAttr(default=None)

    def sandbox_mode(self) -> bool:
        """No credential variable at all and no configured endpoint: use the sandbox, as a new user expects.

        A user who set some of the three variables meant Amazon: a typo in the third must fail with
        an error naming it, never silently fill their warehouse with synthetic data.
        """
        if os.environ.get("SP_ASSETS_SANDBOX", "").strip() == "1":
            return True
        if self.endpoint:
            return False
        marketplace = by_code(self.marketplace)
        for base in (credentials_module.CLIENT_ID_VAR, credentials_module.CLIENT_SECRET_VAR,
                     credentials_module.REFRESH_TOKEN_VAR):
            if any(os.environ.get(name, "").strip() for name in credentials_module.candidate_names(base, marketplace)):
                return False
        return True

    def client(self) -> SPAPIClient:
        """A client for this marketplace, created once per process and step.

        A configuration problem (missing credentials, a malformed endpoint) fails the run at once
        with a message naming the setting: retrying cannot fix it.
        """
        if self._client is None:
            try:
                self._client = self._build_client()
            except (SPAPIConfigError, ValueError) as error:
                raise dg.Failure(description=f"marketplace {self.marketplace}: {error}", allow_retries=False) from None
        return self._client

    def _build_client(self) -> SPAPIClient:
        marketplace = by_code(self.marketplace)
        if self.sandbox_mode():
            from sp_assets.defs import embedded_sandbox

            base = embedded_sandbox.sandbox_base_url()
            return SPAPIClient(embedded_sandbox.sandbox_credentials(marketplace.region),
                               Endpoint(base, base + "/auth/o2/token"),
                               speed=embedded_sandbox.sandbox_speed(), marketplace=marketplace)
        # Outside sandbox mode missing credentials are an error that names the variables.
        creds = credentials_module.from_env(marketplace)
        endpoint = resolve_endpoint(marketplace, endpoint=self.endpoint, token_url=self.token_url)
        return SPAPIClient(creds, endpoint, marketplace=marketplace)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file every asset writes to (``SP_ASSETS_DUCKDB``, default ``data/sp_assets.duckdb``)."""

    path: str = ""
    lock_timeout_seconds: float = 900.0

    def resolved_path(self) -> str:
        return self.path or str(duckdb_path())

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Check the database path before the step fetches anything; a bad path is not retried."""
        from sp_assets.lib.warehouse import Warehouse, WarehousePathError

        try:
            Warehouse(self.resolved_path()).check_writable()
        except WarehousePathError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None

    def warehouse(self):
        from sp_assets.lib.warehouse import Warehouse

        return Warehouse(self.resolved_path(), lock_timeout_s=self.lock_timeout_seconds)


def sp_api_resource(entry: MarketplaceConfig) -> SpApiResource:
    return SpApiResource(marketplace=entry.code, account=entry.account, endpoint=entry.endpoint,
                         token_url=entry.token_url)


@dg.definitions
def resources() -> dg.Definitions:
    config = load_config()
    found: dict[str, object] = {resource_key(m.code): sp_api_resource(m) for m in config.marketplaces}
    found["warehouse"] = WarehouseResource()
    return dg.Definitions(resources=found)
