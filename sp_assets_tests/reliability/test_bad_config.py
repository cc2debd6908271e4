"""Issue 9, part 4: bad configuration fails at once, names the field and what is allowed, writes nothing.

Every case below is a real ``marketplaces.yaml`` (or environment) a user could write. The configuration
cases load the project's code location (``sp_assets.definitions``) exactly as ``dg dev`` does, with
``SP_ASSETS_CONFIG`` pointing at the file; the run-time cases (credentials, endpoint, DuckDB path)
materialize an asset. Each asserts the message names the field (its path in the file, or the
environment variable) and says what is allowed, and that no DuckDB file (nor its folder) was created.

SKUs with spaces, quotes, ``+``, ``/`` and ``#`` are valid on Amazon: they are accepted, kept exactly
and round-trip through the API into DuckDB; genuinely malformed SKUs (empty, padded, control
characters, too long) are refused.
"""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

import sp_assets.definitions as definitions
from sp_assets.defs.config import ConfigError, load_config
from sp_assets.defs.resources import WarehouseResource, resource_key, sp_api_resource
from sp_assets.lib.warehouse import Warehouse

START = (date.today() - timedelta(days=30)).isoformat()
TRICKY_SKUS = ("MUG 12oz BLUE", "CABLE+USB/C-1M", 'TEE "VINTAGE" L', "KIT#7 SET")
ELEVEN_STATUSES = ["Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable",
                   "PendingAvailability", "InvoiceUnconfirmed", "Pending", "Shipped", "Canceled"]


def _yaml(us_options: str = "", extra: str = "") -> str:
    """A file with one ``us`` entry carrying ``us_options`` (YAML lines) and optional extra entries."""
    body = textwrap.indent(textwrap.dedent(us_options).strip(), "    ") if us_options.strip() else "    {}"
    if not us_options.strip():
        return f"defaults:\n  start_date: {START}\nmarketplaces:\n  us: {{}}\n{extra}"
    return f"defaults:\n  start_date: {START}\nmarketplaces:\n  us:\n{body}\n{extra}"


def _accounts(accounts: str) -> str:
    """A file in the ``accounts:`` form with the YAML lines ``accounts`` under ``accounts:``."""
    return f"defaults:\n  start_date: {START}\naccounts:\n{textwrap.indent(accounts, '  ')}\n"


# (id, file text, the field the message must name, what the message must say is allowed)
CONFIG_CASES: list[tuple[str, str, str, str]] = [
    ("unknown-marketplace-code", "marketplaces:\n  xx: {}\n", "marketplaces.xx", "allowed codes: ca, us, mx"),
    ("unknown-marketplace-id", "marketplaces:\n  A1ZZZZZZZZZZZZ: {}\n", "marketplaces.A1ZZZZZZZZZZZZ",
     "allowed codes: ca, us"),
    ("region-does-not-match", _yaml("region: EU"), "marketplaces.us.region", "allowed: NA"),
    ("region-unknown", _yaml("region: EUROPE"), "marketplaces.us.region", "allowed: NA, EU, FE"),
    ("malformed-date", _yaml("start_date: 01/02/2026"), "marketplaces.us.start_date", "use YYYY-MM-DD"),
    ("impossible-date", _yaml("start_date: 2026-02-30"), "marketplaces.us.start_date", "use YYYY-MM-DD"),
    ("start-after-end-of-range", _yaml("start_date: 2999-01-01"), "marketplaces.us.start_date",
     "must be on or before"),
    ("negative-days-back", _yaml("days_back: -3"), "marketplaces.us.days_back", "between 1 and 60"),
    ("days-back-not-a-number", _yaml("days_back: three"), "marketplaces.us.days_back",
     "whole number between 1 and 60"),
    ("more-than-10-statuses", _yaml(f"order_statuses: {ELEVEN_STATUSES}"), "marketplaces.us.order_statuses",
     "at most 10 statuses"),
    ("unknown-order-status", _yaml("order_statuses: [Shipped, Shiped]"), "marketplaces.us.order_statuses[1]",
     "allowed: PendingAvailability, Pending, Unshipped"),
    ("unknown-inbound-status", _yaml("inbound_statuses: [SHIPPING]"), "marketplaces.us.inbound_statuses[0]",
     "allowed: WORKING, READY_TO_SHIP"),
    ("duplicate-order-status", _yaml("order_statuses: [Shipped, Unshipped, Shipped]"),
     "marketplaces.us.order_statuses[2]: 'Shipped' is listed twice (also at [0])", "allowed: each status once"),
    ("duplicate-inbound-status", _yaml("inbound_statuses: [WORKING, CLOSED, CLOSED]"),
     "marketplaces.us.inbound_statuses[2]: 'CLOSED' is listed twice (also at [1])", "allowed: each status once"),
    ("empty-sku-list-for-advanced", _yaml("sku_selection: advanced\nskus: []"), "marketplaces.us.skus",
     "must list at least one SKU"),
    ("sku-list-as-csv-string", _yaml("sku_selection: advanced\nskus: 'MUG-1,MUG-2'"), "marketplaces.us.skus",
     "must be a YAML list of SKUs"),
    ("sku-list-as-mapping", _yaml("skus: {MUG-1: 1}"), "marketplaces.us.skus", "must be a YAML list"),
    ("empty-sku", _yaml("skus: ['MUG-1', '']"), "marketplaces.us.skus[1]", "allowed: 1-40 printable"),
    ("whitespace-padded-sku", _yaml("skus: [' MUG 12oz BLUE']"), "marketplaces.us.skus[0]",
     "no leading or trailing space"),
    ("sku-with-control-character", _yaml('skus: ["MUG\\tBLUE"]'), "marketplaces.us.skus[0]",
     "allowed: 1-40 printable"),
    ("sku-too-long", _yaml(f"skus: [{'X' * 41}]"), "marketplaces.us.skus[0]", "allowed: 1-40 printable"),
    ("duplicate-sku", _yaml("skus: [MUG-1, MUG-1]"), "marketplaces.us.skus", "allowed: each SKU once"),
    ("sku-not-a-string", _yaml("skus: [true]"), "marketplaces.us.skus[0]", "allowed: 1-40 printable"),
    ("unknown-report-type", _yaml("reports: [{type: GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE}]"),
     "marketplaces.us.reports[0].type", "did you mean GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"),
    ("report-type-lower-case", _yaml("reports: [{type: get_merchant_listings_all_data}]"),
     "marketplaces.us.reports[0].type", "upper case"),
    ("xml-report-type", _yaml("reports: [{type: GET_XML_RETURNS_DATA_BY_RETURN_DATE}]"),
     "marketplaces.us.reports[0].type", "the XML types GET_ORDER_REPORT_DATA_SHIPPING, "
     "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL, GET_XML_BROWSE_TREE_DATA"),
    ("unreadable-json-report-type", _yaml("reports: [{type: GET_VENDOR_SALES_REPORT}]"),
     "marketplaces.us.reports[0].type", "allowed: report types with a tab-separated flat file, or "
                                        "GET_SALES_AND_TRAFFIC_REPORT"),
    ("bad-report-option-value", _yaml("""
        reports:
          - type: GET_LEDGER_SUMMARY_VIEW_DATA
            options: {aggregateByLocation: COUNTRY, aggregatedByTimePeriod: HOURLY}"""),
     "marketplaces.us.reports[0].options.aggregatedByTimePeriod", "allowed: DAILY, WEEKLY, MONTHLY"),
    ("misspelt-report-option", _yaml("reports: [{type: GET_SALES_AND_TRAFFIC_REPORT, "
                                     "options: {dateGranularty: DAY}}]"),
     "marketplaces.us.reports[0].options.dateGranularty", "allowed: dateGranularity, asinGranularity"),
    ("report-option-not-a-single-value", _yaml("reports: [{type: GET_MERCHANT_LISTINGS_ALL_DATA, "
                                               "options: {custom: [true]}}]"),
     "marketplaces.us.reports[0].options.custom", "must be a single value"),
    ("report-option-bad-boolean", _yaml("reports: [{type: GET_MERCHANT_LISTINGS_ALL_DATA, "
                                        "options: {custom: 'yes'}}]"),
     "marketplaces.us.reports[0].options.custom", "allowed: true, false"),
    ("bad-quote-character", _yaml("reports: [{type: GET_MERCHANT_LISTINGS_ALL_DATA, quote_char: \"'\"}]"),
     "marketplaces.us.reports[0].quote_char", "allowed: '\"' (double quote) or 'none'"),
    ("by-on-a-flat-file-report", _yaml("reports: [{type: GET_MERCHANT_LISTINGS_ALL_DATA, by: [date]}]"),
     "marketplaces.us.reports[0].by", "only GET_SALES_AND_TRAFFIC_REPORT"),
    ("report-table-twice", _yaml("""
        reports:
          - {type: GET_MERCHANT_LISTINGS_ALL_DATA, table: listings}
          - {type: GET_FLAT_FILE_OPEN_LISTINGS_DATA, table: listings}"""),
     "marketplaces.us.reports[1].table", "written by two report entries"),
    ("report-table-not-an-identifier", _yaml("reports: [{type: GET_MERCHANT_LISTINGS_ALL_DATA, "
                                             "table: 'All Listings'}]"),
     "marketplaces.us.reports[0].table", "must be a lower-case identifier"),
    ("disable-a-report-that-is-no-default", _yaml("reports: [{table: settlement, enabled: false}]"),
     "marketplaces.us.reports[0].table", "allowed: all_orders_report, merchant_listings"),
    ("bad-option-in-the-default-reports", f"defaults:\n  start_date: {START}\n  reports:\n    - {{type: "
     "GET_LEDGER_SUMMARY_VIEW_DATA, options: {aggregateByLocation: STATE}}\nmarketplaces:\n  us: {}\n",
     "defaults.reports[0].options.aggregateByLocation", "allowed: COUNTRY, FC"),
    ("endpoint-without-scheme", _yaml("endpoint: '127.0.0.1:8000'"), "marketplaces.us.endpoint",
     "expected http(s)://host"),
    ("endpoint-ftp", _yaml("endpoint: ftp://sellingpartnerapi-na.amazon.com"), "marketplaces.us.endpoint",
     "expected http(s)://host"),
    ("token-url-with-query", _yaml("token_url: 'https://api.amazon.com/auth/o2/token?x=1'"),
     "marketplaces.us.token_url", "expected http(s)://host"),
    # issue 18: values a shell would have expanded, a start before Amazon's history, ports that cannot work
    ("unexpanded-braced-variable-in-endpoint", _yaml("endpoint: '${SP_API_ENDPOINT}'"), "marketplaces.us.endpoint",
     "looks like an unexpanded environment variable (${SP_API_ENDPOINT})"),
    ("unexpanded-variable-in-account", _yaml("account: $SELLER_ACCOUNT"), "marketplaces.us.account",
     "never expanded: allowed: the value itself"),
    ("unexpanded-variable-in-a-sku", _yaml("skus: [MUG-1, '${SKU_2}']"), "marketplaces.us.skus[1]",
     "looks like an unexpanded environment variable"),
    ("unexpanded-variable-in-a-report-option", _yaml("reports: [{type: GET_MERCHANT_LISTINGS_ALL_DATA, "
                                                     "options: {custom: $CUSTOM}}]"),
     "marketplaces.us.reports[0].options.custom", "looks like an unexpanded environment variable ($CUSTOM)"),
    ("unexpanded-variable-in-the-defaults", "defaults:\n  start_date: ${START_DATE}\nmarketplaces:\n  us: {}\n",
     "defaults.start_date", "looks like an unexpanded environment variable"),
    ("start-date-1970", _yaml("start_date: 1970-01-01"), "marketplaces.us.start_date",
     "before Amazon's SP-API history; allowed: 2016-01-01 or later"),
    ("start-date-just-before-the-floor", _yaml("start_date: 2015-12-31"), "marketplaces.us.start_date",
     "allowed: 2016-01-01 or later"),
    ("endpoint-port-out-of-range", _yaml("endpoint: 'https://sellingpartnerapi-na.amazon.com:99999'"),
     "marketplaces.us.endpoint", "invalid port '99999'; allowed: a number from 1 to 65535"),
    ("endpoint-port-not-a-number", _yaml("endpoint: 'http://127.0.0.1:abc'"), "marketplaces.us.endpoint",
     "invalid port 'abc'; allowed: a number from 1 to 65535"),
    ("token-url-port-zero", _yaml("token_url: 'https://api.amazon.com:0/auth/o2/token'"), "marketplaces.us.token_url",
     "invalid port '0'"),
    ("unknown-orders-api", _yaml("orders_api: v1"), "marketplaces.us.orders_api", "allowed: v0, 2026-01-01"),
    ("iana-time-zone", _yaml("timezone: Europe/Berlin"), "marketplaces.us.timezone", "allowed: local, UTC"),
    ("schedule-hour-24", _yaml("schedule_hour: 24"), "marketplaces.us.schedule_hour", "between 0 and 23"),
    ("include-pii-yes", _yaml("include_pii: 'yes'"), "marketplaces.us.include_pii", "must be true or false"),
    ("account-with-spaces", _yaml("account: Main Account"), "marketplaces.us.account",
     "lower-case letters, digits and _"),
    ("misspelt-option", _yaml("order_status: [Shipped]"), "marketplaces.us", "allowed: account, catalog_"),
    ("sku-selection-unknown", _yaml("sku_selection: some"), "marketplaces.us.sku_selection",
     "allowed: all, advanced"),
    ("sku-selection-all-without-the-listings-report", _yaml("reports: [{table: merchant_listings, enabled: false}]"),
     "marketplaces.us.sku_selection: 'all' takes the active SKUs of today's GET_MERCHANT_LISTINGS_ALL_DATA",
     "allowed: keep that report (the default merchant_listings), or sku_selection: advanced"),
    ("invalid-sku-policy-unknown", _yaml("on_invalid_sku: fail"), "marketplaces.us.on_invalid_sku",
     "allowed: skip, warn"),
    ("too-many-catalog-keywords", _yaml(f"catalog_keywords: '{','.join(f'k{i}' for i in range(21))}'"),
     "marketplaces.us.catalog_keywords", "at most 20 keywords"),
    ("same-marketplace-twice", f"marketplaces:\n  us: {{start_date: {START}}}\n  ATVPDKIKX0DER: {{start_date: "
                               f"{START}}}\n", "marketplaces.ATVPDKIKX0DER", "allowed: each marketplace once"),
    ("key-repeated-in-yaml", f"marketplaces:\n  us: {{start_date: {START}}}\n  us: {{days_back: 5}}\n",
     "line 3", "list it once"),
    ("not-yaml", "marketplaces: [us\n", "not valid YAML", "line"),
    ("no-marketplaces", "marketplaces: {}\n", "marketplaces", "non-empty mapping of marketplace code"),
    ("unknown-top-level-key", "marketplace:\n  us: {}\n", "configuration", "allowed: defaults, marketplaces"),
    # seller accounts (issue 19)
    ("account-marketplace-outside-its-region", _accounts("acme:\n  region: NA\n  marketplaces: {us: {}, de: {}}"),
     "accounts.acme.marketplaces.de: marketplace de is in region EU, outside account acme's region NA",
     "allowed: ca, us, mx, br"),
    ("account-marketplace-outside-its-first-marketplaces-region",
     _accounts("acme:\n  marketplaces: {jp: {}, au: {}, us: {}}"),
     "accounts.acme.marketplaces.us: marketplace us is in region NA, outside account acme's region FE",
     "list us under an account of region NA"),
    ("account-same-marketplace-twice", _accounts("acme:\n  marketplaces: {us: {}, ATVPDKIKX0DER: {}}"),
     "accounts.acme.marketplaces.ATVPDKIKX0DER: the same marketplace as accounts.acme.marketplaces.us",
     "allowed: each marketplace once per account"),
    ("account-name-repeated", _accounts("acme:\n  marketplaces: {us: {}}\nacme:\n  marketplaces: {ca: {}}"),
     "the key 'acme' appears twice", "list it once"),
    ("account-name-upper-case", _accounts("Acme:\n  marketplaces: {us: {}}"), "accounts.Acme",
     "allowed: a lower-case letter, then lower-case letters, digits and _"),
    ("account-without-marketplaces", _accounts("acme: {region: NA}"), "accounts.acme.marketplaces",
     "non-empty mapping of marketplace code"),
    ("account-region-unknown", _accounts("acme:\n  region: US\n  marketplaces: {us: {}}"), "accounts.acme.region",
     "allowed: NA, EU, FE"),
    ("account-option-unknown", _accounts("acme:\n  refresh_token: Atzr|x\n  marketplaces: {us: {}}"),
     "accounts.acme", "allowed: marketplaces, region"),
    ("account-field-under-an-account", _accounts("acme:\n  marketplaces: {us: {account: other}}"),
     "accounts.acme.marketplaces.us.account", "allowed: remove 'account'"),
    ("account-schedule-unknown-asset",
     _accounts("acme:\n  marketplaces: {us: {}}\nbrand:\n  marketplaces:\n    us: {schedules: {intraday: "
               "{cron: '0 * * * *', assets: [order]}}}"),
     "accounts.brand.marketplaces.us.schedules.intraday.assets[0]: 'order' is not an asset of brand_us",
     "allowed: all_orders_report"),
    ("accounts-and-marketplaces-both", _accounts("acme:\n  marketplaces: {us: {}}") + "marketplaces:\n  us: {}\n",
     "both 'marketplaces' and 'accounts'", "allowed: one of them"),
]


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder that must stay absent, and no credentials."""
    data = tmp_path / "data"
    monkeypatch.setenv("SP_ASSETS_DATA_DIR", str(data))
    monkeypatch.setenv("SP_ASSETS_DUCKDB", str(data / "warehouse.duckdb"))
    for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN", "SP_API_ENDPOINT", "SP_API_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)
    return data


def test_there_are_at_least_30_distinct_bad_configurations() -> None:
    assert len({case[0] for case in CONFIG_CASES}) == len(CONFIG_CASES) >= 30
    assert len({case[1] for case in CONFIG_CASES}) == len(CONFIG_CASES)


@pytest.mark.parametrize(("text", "field", "allowed"), [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
def test_a_bad_configuration_stops_the_code_location_naming_the_field(
        text: str, field: str, allowed: str, isolated: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "marketplaces.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SP_ASSETS_CONFIG", str(path))
    with pytest.raises(Exception) as caught:  # noqa: B017 (Dagster wraps the error; the cause is checked)
        definitions.defs()
    config_errors = [e for e in _causes(caught.value) if isinstance(e, ConfigError)]
    assert config_errors, f"expected a ConfigError, got {caught.value!r}"
    message = str(config_errors[0])
    assert field in message, message
    assert allowed in message, message
    assert not isolated.exists(), "a bad configuration created the data folder"


def test_a_missing_configuration_file_names_the_variable(isolated: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SP_ASSETS_CONFIG", str(tmp_path / "nowhere.yaml"))
    with pytest.raises(ConfigError, match=r"SP_ASSETS_CONFIG: no configuration file at .*nowhere\.yaml"):
        load_config()
    assert not isolated.exists()


def test_valid_but_awkward_skus_are_kept_exactly(tmp_path: Path) -> None:
    """Spaces, quotes, ``+``, ``/`` and ``#`` are legal in SKUs: YAML quoting is all a user needs."""
    lines = "\n".join(f"  - {sku!r}" if '"' in sku else f'  - "{sku}"' for sku in TRICKY_SKUS)
    path = tmp_path / "marketplaces.yaml"
    path.write_text(_yaml(f"sku_selection: advanced\nskus:\n{lines}"), encoding="utf-8")
    assert load_config(path).get("us").skus == TRICKY_SKUS


# ------------------------------------------------------------------------------------------ run time
def _assets(config, name: str) -> list:
    """The assets (and nothing else) of the real code location's modules for one marketplace."""
    from sp_assets.defs.inventory.assets import build_inventory_assets
    from sp_assets.defs.pricing.assets import build_pricing_assets

    entry = config.get("us")
    builders = {"inventory": build_inventory_assets, "pricing": build_pricing_assets}
    return builders[name](entry)


def _materialize(config, assets: list, db: Path, partition: str) -> dg.ExecuteInProcessResult:
    """A run of ``assets``: of ``partition`` when they are partitioned (point-in-time assets are not: a
    run of them takes today's snapshot)."""
    resources = {resource_key(m.code): sp_api_resource(m) for m in config.marketplaces}
    resources["warehouse"] = WarehouseResource(database=str(db))
    partitioned = any(a.partitions_def is not None for a in assets)
    return dg.materialize(assets, partition_key=partition if partitioned else None, resources=resources,
                          raise_on_error=False)


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    """What the UI shows for a failed run: step failures, and resource set-up failures (a bad
    DuckDB path is refused when the warehouse resource starts, before anything is fetched)."""
    texts = []
    for event in result.all_events:
        if event.event_type_value in ("STEP_FAILURE", "RESOURCE_INIT_FAILURE"):
            data = event.event_specific_data
            texts.append(data.error.to_string() if data.error else "")
            if getattr(data, "user_failure_data", None) is not None:
                texts.append(data.user_failure_data.description or "")
    return "\n".join(texts)


def _retries(result: dg.ExecuteInProcessResult) -> int:
    return sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def _today_us() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("America/Los_Angeles")).date().isoformat()


def _config(tmp_path: Path, us_options: str = ""):
    path = tmp_path / "marketplaces.yaml"
    path.write_text(_yaml(us_options), encoding="utf-8")
    return load_config(path)


def test_missing_credentials_outside_sandbox_mode_fail_without_retry_or_write(
        isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SP_ASSETS_SANDBOX", raising=False)
    config = _config(tmp_path, "endpoint: https://sellingpartnerapi-na.amazon.com")
    result = _materialize(config, _assets(config, "inventory"), isolated / "warehouse.duckdb", _today_us())
    text = _failure_text(result)
    assert not result.success and _retries(result) == 0
    for variable in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN"):
        assert variable in text
    assert not (isolated / "warehouse.duckdb").exists()


def test_an_account_without_its_credentials_fails_naming_the_account_and_its_variables(
        isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two accounts in the US: python-amazon-sp-api's shared names hold one seller's token, so neither
    account may take it; each needs its own ``SP_API_REFRESH_TOKEN_<ACCOUNT>``."""
    monkeypatch.delenv("SP_ASSETS_SANDBOX", raising=False)
    monkeypatch.setenv("LWA_APP_ID", "amzn1.application-oa2-client.reliability")
    monkeypatch.setenv("LWA_CLIENT_SECRET", "shared-by-every-account")
    monkeypatch.setenv("SP_API_REFRESH_TOKEN", "Atzr|one-sellers-token")
    monkeypatch.setenv("SP_API_REFRESH_TOKEN_NA", "Atzr|one-sellers-token")
    path = tmp_path / "marketplaces.yaml"
    path.write_text(_accounts("acme:\n  marketplaces: {us: {endpoint: 'https://sellingpartnerapi-na.amazon.com'}}\n"
                              "brand:\n  marketplaces: {us: {}}"), encoding="utf-8")
    config = load_config(path)
    from sp_assets.defs.inventory.assets import build_inventory_assets

    result = _materialize(config, build_inventory_assets(config.get("acme_us")), isolated / "warehouse.duckdb",
                          _today_us())
    text = _failure_text(result)
    assert not result.success and _retries(result) == 0
    assert "marketplace us of account acme" in text and "SP_API_REFRESH_TOKEN_ACME" in text, text
    assert "SP_API_REFRESH_TOKEN_NA" not in text and "one-sellers-token" not in text, text
    assert "SP_ASSETS_SANDBOX=1" in text
    assert not (isolated / "warehouse.duckdb").exists()


def test_incomplete_credentials_are_an_error_not_a_silent_switch_to_the_sandbox(
        isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user who set two of the three variables meant Amazon: synthetic sandbox data must never land in
    their warehouse because of a typo in the third."""
    monkeypatch.delenv("SP_ASSETS_SANDBOX", raising=False)
    monkeypatch.setenv("LWA_APP_ID", "amzn1.application-oa2-client.reliability")
    monkeypatch.setenv("SP_API_REFRESH_TOKEN", "Atzr|sandbox-na-reliability-incomplete")
    monkeypatch.setenv("LWA_CLIENT_SECERT", "typo-in-the-variable-name")
    config = _config(tmp_path)
    result = _materialize(config, _assets(config, "inventory"), isolated / "warehouse.duckdb", _today_us())
    assert not result.success, "partial credentials silently ran against the sandbox"
    assert "LWA_CLIENT_SECRET" in _failure_text(result)
    assert not (isolated / "warehouse.duckdb").exists()


def test_a_malformed_endpoint_variable_is_named(isolated: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SP_ASSETS_SANDBOX", "1")
    monkeypatch.setenv("SP_API_ENDPOINT", "127.0.0.1:8000")
    config = _config(tmp_path)
    result = _materialize(config, _assets(config, "inventory"), isolated / "warehouse.duckdb", _today_us())
    text = _failure_text(result)
    assert not result.success and _retries(result) == 0
    assert "SP_API_ENDPOINT" in text and "http" in text, text
    assert not (isolated / "warehouse.duckdb").exists()


def test_a_bad_sandbox_speed_is_named(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      sandbox) -> None:
    monkeypatch.setenv("SP_ASSETS_SANDBOX", "1")
    monkeypatch.setenv("SP_API_ENDPOINT", sandbox.base_url)
    monkeypatch.setenv("SP_SANDBOX_SPEED", "fast")
    config = _config(tmp_path)
    result = _materialize(config, _assets(config, "inventory"), isolated / "warehouse.duckdb", _today_us())
    text = _failure_text(result)
    assert not result.success and _retries(result) == 0
    assert "SP_SANDBOX_SPEED" in text and "positive number" in text
    assert not (isolated / "warehouse.duckdb").exists()


@pytest.mark.parametrize("kind", ["parent-is-a-file", "is-a-directory"])
def test_an_unusable_duckdb_path_is_named_and_nothing_is_written(
        kind: str, isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox) -> None:
    monkeypatch.setenv("SP_ASSETS_SANDBOX", "1")
    monkeypatch.setenv("SP_API_ENDPOINT", sandbox.base_url)
    monkeypatch.setenv("SP_SANDBOX_SPEED", str(sandbox.config.speed))
    blocker = tmp_path / "blocker"
    if kind == "parent-is-a-file":
        blocker.write_text("not a folder")
        db = blocker / "warehouse.duckdb"
    else:
        blocker.mkdir()
        db = blocker
    config = _config(tmp_path)
    result = _materialize(config, _assets(config, "inventory"), db, _today_us())
    text = _failure_text(result)
    assert not result.success
    assert "SP_ASSETS_DUCKDB" in text and str(db) in text, text
    assert _retries(result) == 0, "an unusable DuckDB path is configuration: retrying cannot fix it"
    assert "must be a writable DuckDB file" in text or "must name a file" in text, text
    if kind == "parent-is-a-file":
        assert blocker.read_text() == "not a folder"
    else:
        assert list(blocker.iterdir()) == []


def test_awkward_skus_round_trip_through_the_api_into_duckdb(isolated: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, sandbox) -> None:
    monkeypatch.setenv("SP_ASSETS_SANDBOX", "1")
    monkeypatch.setenv("SP_API_ENDPOINT", sandbox.base_url)
    monkeypatch.setenv("SP_SANDBOX_SPEED", str(sandbox.config.speed))
    lines = "\n".join(f"  - {sku!r}" if '"' in sku else f'  - "{sku}"' for sku in TRICKY_SKUS)
    config = _config(tmp_path, f"sku_selection: advanced\non_invalid_sku: warn\nskus:\n{lines}")
    db = isolated / "warehouse.duckdb"
    pricing = [a for a in _assets(config, "pricing") if "my_prices" in a.key.to_user_string()]
    result = _materialize(config, pricing, db, _today_us())
    assert result.success, _failure_text(result)
    stored = Warehouse(db).query("select distinct seller_sku from us.my_prices order by 1").to_series().to_list()
    assert stored == sorted(TRICKY_SKUS)
