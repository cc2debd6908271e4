"""The marketplace configuration: one YAML file lists the marketplaces and their options.

Adding a marketplace is one entry and no code. The file is ``marketplaces.yaml`` at the project root,
or the path in ``SP_ASSETS_CONFIG``. Every problem is reported at load with the field's path and
what is allowed (``marketplaces.us.order_statuses[2]: 'Shiped' is not an order status; allowed: ...``),
before anything runs or is written.

This module is plain Python so it can be validated from a test or a script; the one exception is the
cron check of ``schedules``, which asks the pinned Dagster's own validator (imported where it is used),
so an expression accepted here is one the scheduler runs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from sp_assets.lib.data_kiosk import DATASETS
from sp_assets.lib.marketplaces import (
    REGIONS,
    Marketplace,
    UnknownMarketplaceError,
    entry_name,
    in_region,
    lookup,
    valid_codes,
)
from sp_assets.lib.reports import catalog

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "marketplaces.yaml"

# Amazon's values (ordersV0.json OrderStatuses; fulfillmentInboundV0.json ShipmentStatusList).
ORDER_STATUSES = ("PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped",
                  "InvoiceUnconfirmed", "Canceled", "Unfulfillable")
INBOUND_STATUSES = ("WORKING", "READY_TO_SHIP", "SHIPPED", "RECEIVING", "CANCELLED", "DELETED", "CLOSED",
                    "ERROR", "IN_TRANSIT", "DELIVERED", "CHECKED_IN")
MAX_STATUSES = 10
ORDERS_API_VERSIONS = ("v0", "2026-01-01")
QUERY_DATE_TYPES = ("created", "last_updated")
ORDER_ITEMS_SOURCES = ("api", "report")
SKU_SELECTIONS = ("all", "advanced")
INVALID_SKU_POLICIES = ("skip", "warn")
CATALOG_CATEGORY_SOURCES = ("2022-04-01", "v0")
QUOTE_CHARS = {'"': '"', "double": '"', "none": "", "": ""}
TIMEZONE_CHOICES = ("local", "UTC")
SKU_MAX_LENGTH = 40  # Amazon's seller SKU limit
# The oldest data the SP-API serves anywhere: JP, AU and SG orders from 2016 on (wire contract, Orders
# "Data retention"); elsewhere orders older than 2 years are not returned. A fixed date, not "two years
# ago", so that a configuration that loads today still loads next year.
HISTORY_FLOOR = date(2016, 1, 1)
# What a shell or .env would have expanded: marketplaces.yaml is read as written, never expanded.
_UNEXPANDED_RE = re.compile(r"\$\{[^}]*\}?|\$[A-Z_][A-Z0-9_]*\b")
_ACCOUNT_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
_REPORT_TYPE_RE = re.compile(r"^[A-Z][A-Z0-9_]+$")
_OPTION_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_TABLE_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DEFAULT_OWNERS = ("team:sp_assets",)
_OWNER_TEAM_RE = re.compile(r"team:[A-Za-z0-9_.-]+")
_OWNER_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_REPORT_KEYS = {"type", "table", "options", "quote_char", "by", "enabled"}
_SCHEDULE_KEYS = {"cron", "timezone", "assets", "days_back", "starts_on", "enabled"}
_SCHEDULE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DAILY_SCHEDULE = "daily"  # the schedule every marketplace has unless disabled; its cron comes from schedule_hour
RESERVED_SCHEDULE_NAMES = ("monthly",)  # <code>_monthly is the monthly reports' schedule

class ConfigError(ValueError):
    """A configuration problem; the message starts with the field's path."""


@dataclass(frozen=True)
class ReportConfig:
    """One report asset: Amazon's report type, its options (strings, as Amazon expects), the table.

    What the type itself is (format, window, key...) is its catalog row: ``catalog.lookup(report_type)``.
    """

    report_type: str
    table: str
    options: dict[str, str] = field(default_factory=dict)
    quote_char: str = '"'  # '"' or '' (no quoting), the seed's "CSV quote character"
    by: tuple[str, ...] = ()  # sales and traffic: ("date", "asin") -> two tables


@dataclass(frozen=True)
class ScheduleConfig:
    """One schedule of a marketplace (``<code>_<name>``): when it ticks and what each tick requests.

    A tick requests the last ``days_back`` days of the selected history assets, today's snapshot of
    the selected point-in-time assets and the selected unpartitioned assets; ``assets`` empty means
    every asset the daily schedule covers (all but the monthly reports).
    """

    name: str
    cron: str  # five fields, validated by Dagster's cron parser
    timezone: str  # an IANA zone: the marketplace's ("local") or "UTC"
    days_back: int
    assets: tuple[str, ...] = ()
    starts_on: date | None = None  # the seed's "Delay Start": ticks before this day (in ``timezone``) skip


@dataclass(frozen=True)
class MarketplaceConfig:
    """One marketplace of one seller account.

    ``code`` is the entry's name, which prefixes its asset keys, DuckDB schema, group, jobs, schedules
    and resource key: the marketplace code (``us``) with one seller account, ``<account>_<code>``
    (``acme_us``) when the file lists several under ``accounts`` (``lib.marketplaces.entry_name``).
    The marketplace's own code is ``marketplace.code``.
    """

    code: str
    marketplace: Marketplace
    account: str  # marketplaces sharing an account share its quota (pool and token buckets)
    start_date: date
    timezone: str  # an IANA zone; "local" in the file resolves to the marketplace's zone
    endpoint: str | None
    token_url: str | None
    orders_api: str
    order_statuses: tuple[str, ...]
    query_date_type: str
    include_pii: bool
    days_back: int
    schedule_hour: int
    sku_selection: str
    skus: tuple[str, ...]
    on_invalid_sku: str
    catalog_keywords: tuple[str, ...]
    catalog_categories_api: str
    inbound_statuses: tuple[str, ...]
    inbound_shipment_ids: tuple[str, ...]
    reports: tuple[ReportConfig, ...]
    # "api": one getOrderItems call per order; "report": the all-orders flat file of the partition's day
    order_items_source: str = "api"
    # the daily schedule (from schedule_hour, unless overridden or disabled) and any other configured
    schedules: tuple[ScheduleConfig, ...] = ()
    # Data Kiosk datasets loaded (lib/data_kiosk.py DATASETS keys); every one unless the file says otherwise
    data_kiosk: tuple[str, ...] = tuple(DATASETS)
    # who the UI lists as the assets' owners (``team:<name>`` or an e-mail address)
    owners: tuple[str, ...] = DEFAULT_OWNERS
    # the ``accounts:`` entry this marketplace is listed under, whose name suffixes its credentials'
    # variables (``SP_API_REFRESH_TOKEN_ACME``); None in the ``marketplaces:`` form
    credentials_account: str | None = None
    # several accounts: only the account's own variables hold its refresh token (python-amazon-sp-api's
    # marketplace and region names would hand one seller's token to every account)
    account_credentials_only: bool = False
    # where the file lists it (``marketplaces.us``, ``accounts.acme.marketplaces.us``): errors name it
    config_path: str = ""

    @property
    def path(self) -> str:
        """The entry's path in the configuration file, which every error about its options starts with."""
        return self.config_path or f"marketplaces.{self.code}"

    @property
    def region(self) -> str:
        return self.marketplace.region

    @property
    def marketplace_id(self) -> str:
        return self.marketplace.marketplace_id


@dataclass(frozen=True)
class ProjectConfig:
    marketplaces: tuple[MarketplaceConfig, ...]
    source: str
    # the marts' one currency (top-level ``reporting_currency``; default: the first marketplace's)
    reporting_currency: str = "USD"
    # top-level ``fx_rates``: the CSV (date,currency,rate) loaded into marts.fx_rates; None: no rates
    fx_rates: Path | None = None

    def get(self, code: str) -> MarketplaceConfig:
        for entry in self.marketplaces:
            if entry.code == code:
                return entry
        raise ConfigError(f"marketplaces: no entry {code!r}; configured: {[m.code for m in self.marketplaces]}")


# Amazon writes flat files raw (a buyer comment may start with a double quote), so the default report
# assets read every byte literally (quote_char: none); the seed's double-quote default stays the
# default for reports a user adds. The defaults are the catalog's (marketplaces.yaml lists them too,
# under defaults.reports, where a user sees them; a file without defaults.reports gets these).
DEFAULT_REPORTS: tuple[dict[str, Any], ...] = tuple(
    {"type": row.name, "table": row.default_table, "quote_char": row.default_quote_char,
     **({"options": dict(row.default_options)} if row.default_options else {}),
     **({"by": list(row.by)} if row.by else {})}
    for row in catalog.defaults()
)

_MARKETPLACE_KEYS = {
    "account", "start_date", "timezone", "endpoint", "token_url", "orders_api", "order_statuses",
    "query_date_type", "include_pii", "days_back", "schedule_hour", "sku_selection", "skus", "on_invalid_sku",
    "catalog_keywords", "catalog_categories_api", "inbound_statuses", "inbound_shipment_ids", "reports",
    "order_items_source", "region", "schedules", "data_kiosk", "owners",
}


def load_config(path: str | Path | None = None, today: date | None = None) -> ProjectConfig:
    """Read and validate the configuration file (``SP_ASSETS_CONFIG`` or ``marketplaces.yaml``)."""
    chosen = Path(path or os.environ.get("SP_ASSETS_CONFIG") or DEFAULT_CONFIG_PATH)
    if not chosen.is_file():
        raise ConfigError(f"SP_ASSETS_CONFIG: no configuration file at {chosen}")
    try:
        text = chosen.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{chosen}: not UTF-8 text (byte {error.start}); save the file as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_ConfigLoader) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{chosen}: not valid YAML: {error}") from None
    return parse_config(data, source=str(chosen), today=today)


class _ConfigLoader(yaml.SafeLoader):
    """``yaml.safe_load`` minus two traps.

    Dates stay strings, so ``start_date: 2026-02-30`` is reported by the date check with its field
    path (PyYAML's own date conversion raises a bare "day is out of range for month"), and a key
    repeated in one mapping (``us:`` listed twice) is an error instead of silently keeping the last.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                continue  # the base class reports an unhashable key
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice in one mapping; list it once", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_config(data: Any, source: str = "<dict>", today: date | None = None) -> ProjectConfig:
    """Validate a configuration mapping; every error names its field."""
    if not isinstance(data, dict):
        raise ConfigError("configuration: the top level must be a mapping with 'marketplaces' (and 'defaults')")
    unknown = set(data) - set(_TOP_KEYS)
    if unknown:
        raise ConfigError(f"configuration: unknown key(s) {sorted(unknown)}; allowed: {', '.join(_TOP_KEYS)}")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError("defaults: must be a mapping")
    _reject_unknown("defaults", defaults, _MARKETPLACE_KEYS)
    listed = _listed_marketplaces(data)
    _reject_unexpanded("defaults", defaults)
    today = today or date.today()
    # defaults.reports is the base every marketplace's reports: list adds to (the others are copied)
    default_reports = _reports("defaults.reports", defaults.get("reports", list(DEFAULT_REPORTS)))
    shared = {key: value for key, value in defaults.items() if key != "reports"}
    if listed[0].account is not None and "account" in shared:
        raise ConfigError("defaults.account: with 'accounts', a marketplace's account is the one it is listed "
                          "under; allowed: remove defaults.account")
    parsed = []
    seen_ids: dict[tuple[str | None, str], str] = {}
    for item in listed:
        options = item.options or {}
        if not isinstance(options, dict):
            raise ConfigError(f"{item.where}: must be a mapping of options (or empty)")
        entry = _parse_marketplace(item.raw_code, {**shared, **options}, today, default_reports, listed=item)
        scope = (item.account, entry.marketplace_id)
        if scope in seen_ids:
            allowed = "each marketplace once per account" if item.account else "each marketplace once"
            raise ConfigError(f"{item.where}: the same marketplace as {seen_ids[scope]}; allowed: {allowed} "
                              f"(by code or id)")
        seen_ids[scope] = item.where
        parsed.append(entry)
    _reject_unexpanded("reporting_currency", data.get("reporting_currency"))
    _reject_unexpanded("fx_rates", data.get("fx_rates"))
    return ProjectConfig(marketplaces=tuple(parsed), source=source,
                         reporting_currency=_currency("reporting_currency",
                                                      data.get("reporting_currency", parsed[0].marketplace.currency)),
                         fx_rates=_fx_rates_path("fx_rates", data.get("fx_rates"), source))


_TOP_KEYS = ("defaults", "marketplaces", "accounts", "reporting_currency", "fx_rates")
_ACCOUNT_KEYS = {"region", "marketplaces"}
_ACCOUNT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class _Listed:
    """One marketplace as the file lists it, before its options are read."""

    where: str  # its path in the file: ``marketplaces.us`` or ``accounts.acme.marketplaces.us``
    raw_code: str
    options: Any
    account: str | None = None  # the ``accounts:`` entry it is under; None in the ``marketplaces:`` form
    region: str | None = None  # that account's region
    several: bool = False  # the file lists more than one account


def _listed_marketplaces(data: dict) -> list[_Listed]:
    """The marketplaces of either form: ``marketplaces:`` (one seller account, as before accounts) or
    ``accounts:`` (each account with its region and marketplaces; one marketplace may be under several)."""
    if "accounts" in data and "marketplaces" in data:
        raise ConfigError("configuration: both 'marketplaces' and 'accounts'; allowed: one of them, 'marketplaces' "
                          "(one seller account) or 'accounts' (each account with its own 'marketplaces')")
    if "accounts" not in data:
        entries = data.get("marketplaces")
        if not isinstance(entries, dict) or not entries:
            raise ConfigError("marketplaces: must be a non-empty mapping of marketplace code to options, e.g. "
                              "{us: {}} (or 'accounts': a mapping of account name to its region and marketplaces)")
        _reject_unexpanded("marketplaces", entries)
        return [_Listed(f"marketplaces.{code}", str(code), options) for code, options in entries.items()]
    accounts = data["accounts"]
    if not isinstance(accounts, dict) or not accounts:
        raise ConfigError("accounts: must be a non-empty mapping of account name to {region, marketplaces}, e.g. "
                          "{acme: {marketplaces: {us: {}, ca: {}}}}")
    _reject_unexpanded("accounts", accounts)
    listed: list[_Listed] = []
    for raw_name, spec in accounts.items():
        name, where = str(raw_name), f"accounts.{raw_name}"
        if not _ACCOUNT_NAME_RE.match(name):
            raise ConfigError(f"{where}: {name!r} is not an account name; allowed: a lower-case letter, then lower-case "
                              f"letters, digits and _ (max 32): it names the credentials' variables "
                              f"(SP_API_REFRESH_TOKEN_<NAME>), schemas and asset keys")
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: must be a mapping with 'marketplaces' (and optionally 'region')")
        _reject_unknown(where, spec, _ACCOUNT_KEYS)
        entries = spec.get("marketplaces")
        if not isinstance(entries, dict) or not entries:
            raise ConfigError(f"{where}.marketplaces: must be a non-empty mapping of marketplace code to options, "
                              f"e.g. {{us: {{}}}}")
        region = _account_region(where, spec.get("region"), entries)
        listed += [_Listed(f"{where}.marketplaces.{code}", str(code), options, name, region, len(accounts) > 1)
                   for code, options in entries.items()]
    return listed


def _account_region(where: str, value: Any, entries: dict) -> str:
    """The account's region: ``region`` if given, else the region of its first marketplace (checked
    against every marketplace when each is read)."""
    if value is not None:
        region = str(value).strip().upper()
        if region not in REGIONS:
            raise ConfigError(f"{where}.region: {value!r} is not a region; allowed: {', '.join(REGIONS)}")
        return region
    first = str(next(iter(entries)))
    try:
        return lookup(first).region
    except UnknownMarketplaceError:
        raise ConfigError(f"{where}.marketplaces.{first}: {first!r} is neither a marketplace code nor a marketplace "
                          f"id; allowed codes: {', '.join(valid_codes())} (or their ids, e.g. ATVPDKIKX0DER for us)"
                          ) from None
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _currency(where: str, value: Any) -> str:
    """An ISO 4217 code: three capital letters."""
    if not isinstance(value, str) or not _CURRENCY_RE.match(value):
        raise ConfigError(f"{where}: {value!r} is not a currency; allowed: an ISO 4217 code in capitals, e.g. USD, "
                          f"EUR, JPY")
    return value


def _fx_rates_path(where: str, value: Any, source: str) -> Path | None:
    """The rates CSV, relative to the configuration file's folder; it must exist when named."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {value!r} is not a path; allowed: a CSV file (header date,currency,rate), "
                          f"relative to the configuration file, e.g. fx_rates.csv")
    path = Path(value)
    if not path.is_absolute():
        base = Path(source).parent if source != "<dict>" else Path.cwd()
        path = base / path
    if not path.is_file():
        raise ConfigError(f"{where}: no file at {path}; allowed: a CSV file (header date,currency,rate), relative "
                          f"to the configuration file")
    return path


def _parse_marketplace(raw_code: str, options: Any, today: date,
                       default_reports: tuple[ReportConfig, ...] = (), listed: _Listed | None = None) -> MarketplaceConfig:
    listed = listed or _Listed(f"marketplaces.{raw_code}", raw_code, options)
    where = listed.where
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: must be a mapping of options (or empty)")
    _reject_unknown(where, options, _MARKETPLACE_KEYS)
    try:
        marketplace = lookup(raw_code)
    except UnknownMarketplaceError:
        raise ConfigError(f"{where}: {raw_code!r} is neither a marketplace code nor a marketplace id; allowed codes: "
                          f"{', '.join(valid_codes())} (or their ids, e.g. ATVPDKIKX0DER for us)") from None
    _check_region(f"{where}.region", options.get("region"), marketplace)
    if listed.account is not None:
        _check_account(where, listed, options, marketplace)
    code = entry_name(marketplace.code, listed.account if listed.several else None)

    account = str(listed.account or options.get("account") or marketplace.region.lower())
    if not _ACCOUNT_RE.match(account):
        raise ConfigError(f"{where}.account: {account!r} must be lower-case letters, digits and _ (max 32)")
    start = _parse_date(f"{where}.start_date", options.get("start_date", "2026-01-01"))
    if start > today:
        raise ConfigError(f"{where}.start_date: {start} is in the future; it must be on or before {today}")
    if start < HISTORY_FLOOR:
        raise ConfigError(f"{where}.start_date: {start} is before Amazon's SP-API history; allowed: "
                          f"{HISTORY_FLOOR} or later (the oldest orders any marketplace serves, JP, AU and SG "
                          f"from 2016; elsewhere Amazon returns the last 2 years only)")
    tz_choice = str(options.get("timezone", "local"))
    if tz_choice not in TIMEZONE_CHOICES:
        raise ConfigError(f"{where}.timezone: {tz_choice!r} is not allowed; allowed: {', '.join(TIMEZONE_CHOICES)}")
    timezone = marketplace.timezone if tz_choice == "local" else "UTC"
    query_date_type = _choice(f"{where}.query_date_type", options.get("query_date_type", "created"), QUERY_DATE_TYPES)
    order_items_source = _choice(f"{where}.order_items_source", options.get("order_items_source", "api"),
                                 ORDER_ITEMS_SOURCES)
    if order_items_source == "report" and query_date_type != "created":
        raise ConfigError(f"{where}.order_items_source: 'report' reads GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_"
                          f"GENERAL, which selects orders by purchase date, so it needs query_date_type: created "
                          f"(got {query_date_type!r}); use order_items_source: api with last_updated")
    days_back = _integer(f"{where}.days_back", options.get("days_back", 3), 1, 60)
    schedule_hour = _integer(f"{where}.schedule_hour", options.get("schedule_hour", 6), 0, 23)

    return MarketplaceConfig(
        code=code,
        marketplace=marketplace,
        account=account,
        start_date=start,
        timezone=timezone,
        endpoint=_parse_url(f"{where}.endpoint", options.get("endpoint")),
        token_url=_parse_url(f"{where}.token_url", options.get("token_url")),
        orders_api=_choice(f"{where}.orders_api", options.get("orders_api", "2026-01-01"), ORDERS_API_VERSIONS),
        order_statuses=_statuses(f"{where}.order_statuses", options.get("order_statuses"), ORDER_STATUSES),
        query_date_type=query_date_type,
        include_pii=_boolean(f"{where}.include_pii", options.get("include_pii", False)),
        days_back=days_back,
        schedule_hour=schedule_hour,
        sku_selection=_choice(f"{where}.sku_selection", options.get("sku_selection", "all"), SKU_SELECTIONS),
        skus=_skus(f"{where}.skus", options.get("skus"), required=options.get("sku_selection") == "advanced"),
        on_invalid_sku=_choice(f"{where}.on_invalid_sku", options.get("on_invalid_sku", "skip"),
                               INVALID_SKU_POLICIES),
        catalog_keywords=_keywords(f"{where}.catalog_keywords", options.get("catalog_keywords", "")),
        catalog_categories_api=_choice(f"{where}.catalog_categories_api",
                                       options.get("catalog_categories_api", "2022-04-01"), CATALOG_CATEGORY_SOURCES),
        inbound_statuses=_statuses(f"{where}.inbound_statuses", options.get("inbound_statuses"), INBOUND_STATUSES),
        inbound_shipment_ids=_string_list(f"{where}.inbound_shipment_ids", options.get("inbound_shipment_ids"),
                                          max_items=999),
        reports=_reports(f"{where}.reports", options.get("reports"), default_reports),
        order_items_source=order_items_source,
        schedules=_schedules(f"{where}.schedules", options.get("schedules"),
                             _ScheduleDefaults(schedule_hour, days_back, timezone, marketplace.timezone)),
        data_kiosk=_data_kiosk(f"{where}.data_kiosk", options.get("data_kiosk", list(DATASETS))),
        owners=_owners(f"{where}.owners", options.get("owners")),
        credentials_account=listed.account,
        account_credentials_only=listed.several,
        config_path=where,
    )


def _check_account(where: str, listed: _Listed, options: dict, marketplace: Marketplace) -> None:
    """A marketplace under ``accounts``: its account is its parent, and in that account's region
    (a refresh token authorizes one region, so a marketplace elsewhere could never be reached)."""
    if "account" in options:
        raise ConfigError(f"{where}.account: the account is the one this marketplace is listed under "
                          f"(accounts.{listed.account}); allowed: remove 'account'")
    if marketplace.region != listed.region:
        codes = ", ".join(m.code for m in in_region(listed.region or ""))
        raise ConfigError(f"{where}: marketplace {marketplace.code} is in region {marketplace.region}, outside "
                          f"account {listed.account}'s region {listed.region}; allowed: {codes} (list "
                          f"{marketplace.code} under an account of region {marketplace.region})")


def _check_region(where: str, value: Any, marketplace: Marketplace) -> None:
    """``region`` is optional and only asserts: a seller who writes ``region: EU`` under ``us`` has mixed
    up two entries (and would send an EU refresh token to the NA host), so say so before anything runs."""
    if value is None:
        return
    region = str(value).strip().upper()
    if region not in REGIONS:
        raise ConfigError(f"{where}: {value!r} is not a region; allowed: {', '.join(REGIONS)}")
    if region != marketplace.region:
        raise ConfigError(f"{where}: {value!r} does not match marketplace {marketplace.code} "
                          f"({marketplace.marketplace_id}), which is in region {marketplace.region}; "
                          f"allowed: {marketplace.region} (or leave region out)")


def _reject_unexpanded(where: str, value: Any) -> None:
    """A string that looks like ``${VAR}`` or ``$VAR`` was meant for a shell that never ran: the file
    is not expanded, so the literal text would be sent to Amazon (or used as a URL) as written."""
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_unexpanded(f"{where}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_unexpanded(f"{where}[{index}]", item)
    elif isinstance(value, str) and (found := _UNEXPANDED_RE.search(value)):
        raise ConfigError(f"{where}: {value!r} looks like an unexpanded environment variable ({found.group(0)}); "
                          f"marketplaces.yaml is read as written, never expanded: allowed: the value itself")


def _reject_unknown(where: str, mapping: dict, allowed: set[str]) -> None:
    unknown = sorted(set(map(str, mapping)) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown option(s) {unknown}; allowed: {', '.join(sorted(allowed))}")


def _parse_date(where: str, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-01") from None


def _parse_url(where: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query or parsed.fragment:
        raise ConfigError(f"{where}: {text!r} is not a valid base URL; expected http(s)://host[:port][/path]")
    try:
        parsed.port  # noqa: B018 (urllib checks the port only when it is read)
    except ValueError:
        port = parsed.netloc.rpartition(":")[2]
        raise ConfigError(f"{where}: {text!r} has an invalid port {port!r}; allowed: a number from 1 to 65535, "
                          f"or no port (http(s)://host[:port][/path])") from None
    if parsed.port == 0:
        raise ConfigError(f"{where}: {text!r} has an invalid port '0'; allowed: a number from 1 to 65535, "
                          f"or no port (http(s)://host[:port][/path])")
    return text.rstrip("/")


def _choice(where: str, value: Any, allowed: tuple[str, ...]) -> str:
    text = str(value).strip()
    if text not in allowed:
        raise ConfigError(f"{where}: {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return text


def _boolean(where: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{where}: {value!r} must be true or false")


def _integer(where: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: {value!r} must be a whole number between {low} and {high}")
    if not low <= value <= high:
        raise ConfigError(f"{where}: {value} must be between {low} and {high}")
    return value


def _string_list(where: str, value: Any, max_items: int) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be a list (or a comma-separated string)")
    items = tuple(str(v).strip() for v in value)
    if any(not v for v in items):
        raise ConfigError(f"{where}: contains an empty value")
    if len(items) > max_items:
        raise ConfigError(f"{where}: at most {max_items} values, got {len(items)}")
    return items


def _data_kiosk(where: str, value: Any) -> tuple[str, ...]:
    """The Data Kiosk datasets to load, each once, in the given order (``[]`` loads none)."""
    items = _string_list(where, value, max_items=len(DATASETS))
    for index, name in enumerate(items):
        if name not in DATASETS:
            raise ConfigError(f"{where}[{index}]: {name!r} is not a Data Kiosk dataset; allowed: {', '.join(DATASETS)}")
    if len(set(items)) != len(items):
        raise ConfigError(f"{where}: lists a dataset twice; list each once")
    return items


def _owners(where: str, value: Any) -> tuple[str, ...]:
    """The assets' owners as Dagster accepts them: ``team:<name>`` or an e-mail address; default the team."""
    if value is None:
        return DEFAULT_OWNERS
    items = _string_list(where, value, max_items=20)
    for index, owner in enumerate(items):
        if not (_OWNER_TEAM_RE.fullmatch(owner) or _OWNER_EMAIL_RE.fullmatch(owner)):
            raise ConfigError(f"{where}[{index}]: {owner!r} is not an owner; allowed: team:<name> (letters, digits, "
                              f"_, -, .) or an e-mail address, e.g. team:sp_assets or ana@example.com")
    return items or DEFAULT_OWNERS


def _statuses(where: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    items = _string_list(where, value, max_items=10**6)
    if len(items) > MAX_STATUSES:
        raise ConfigError(f"{where}: at most {MAX_STATUSES} statuses (Amazon's limit), got {len(items)}")
    first_index: dict[str, int] = {}
    for index, status in enumerate(items):
        if status not in allowed:
            raise ConfigError(f"{where}[{index}]: {status!r} is not a valid status; allowed: {', '.join(allowed)}")
        if status in first_index:
            # Amazon would answer the same as without the repeat: a repeat is a slip (a status meant
            # and mistyped as another), so it is named rather than silently dropped.
            raise ConfigError(f"{where}[{index}]: {status!r} is listed twice (also at [{first_index[status]}]); "
                              f"allowed: each status once")
        first_index[status] = index
    return items


def _skus(where: str, value: Any, required: bool) -> tuple[str, ...]:
    """Seller SKUs as configured. Spaces, quotes, ``+`` and ``/`` are legal in SKUs and are kept
    exactly (the client percent-encodes them); leading/trailing blanks and control characters are not."""
    if value in (None, "", []):
        if required:
            raise ConfigError(f"{where}: sku_selection is 'advanced', so skus must list at least one SKU")
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be a YAML list of SKUs (SKUs may contain commas, so no CSV string)")
    out = []
    allowed = (f"allowed: 1-{SKU_MAX_LENGTH} printable characters, spaces, quotes, + and / included, with no "
               "leading or trailing space")
    for index, sku in enumerate(value):
        if not isinstance(sku, str | int) or isinstance(sku, bool):
            raise ConfigError(f"{where}[{index}]: {sku!r} is not a SKU string; {allowed}")
        text = str(sku)
        if not text.strip():
            raise ConfigError(f"{where}[{index}]: empty SKU; {allowed}")
        if text != text.strip():
            raise ConfigError(f"{where}[{index}]: {text!r} has leading or trailing spaces (quote it exactly as in "
                              f"Seller Central); {allowed}")
        if len(text) > SKU_MAX_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise ConfigError(f"{where}[{index}]: {text!r} has {len(text)} characters or a control character; "
                              f"{allowed}")
        out.append(text)
    duplicates = sorted({sku for sku in out if out.count(sku) > 1})
    if duplicates:
        raise ConfigError(f"{where}: duplicate SKU(s) {duplicates}; allowed: each SKU once")
    return tuple(out)


def _keywords(where: str, value: Any) -> tuple[str, ...]:
    """The seed's comma-delimited "Query" for List Matching Products."""
    if isinstance(value, list):
        value = ",".join(map(str, value))
    if not isinstance(value, str):
        raise ConfigError(f"{where}: must be a comma-delimited string of keywords")
    words = tuple(w.strip() for w in value.split(",") if w.strip())
    if len(words) > 20:
        raise ConfigError(f"{where}: at most 20 keywords, got {len(words)}")
    return words


def _report_by(where: str, value: Any, row: catalog.ReportType) -> tuple[str, ...]:
    """The seed's "Pull report data by" (Date or ASIN): types split into several tables only; default all."""
    if value in (None, "", []):
        return row.by
    if not row.by:
        splittable = ", ".join(r.name for r in catalog.CATALOG.values() if r.by)
        raise ConfigError(f"{where}: only {splittable} can be pulled by {' or '.join(_by_names())}; remove 'by'")
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{where}: must be a list of {' and/or '.join(row.by)}")
    bad = [b for b in items if b not in row.by]
    if bad:
        raise ConfigError(f"{where}: {bad} not allowed; allowed: {', '.join(row.by)}")
    return tuple(dict.fromkeys(items))


def _by_names() -> list[str]:
    return list(dict.fromkeys(b for r in catalog.CATALOG.values() for b in r.by))


def _report_type(where: str, value: Any) -> catalog.ReportType:
    """The catalog row of one of Amazon's report types whose document the loader reads."""
    report_type = str(value or "").strip()
    if not _REPORT_TYPE_RE.match(report_type):
        raise ConfigError(f"{where}: {report_type!r} is not a report type; allowed: one of Amazon's report types in "
                          f"upper case, e.g. GET_MERCHANT_LISTINGS_ALL_DATA")
    row = catalog.CATALOG.get(report_type)
    if row is None and report_type in catalog.REMOVED:
        raise ConfigError(f"{where}: {report_type} is no longer offered: {catalog.REMOVED[report_type]}; remove the "
                          f"entry (nothing was written)")
    if row is None:
        close = catalog.closest(report_type)
        hint = f"did you mean {close}? " if close else ""
        raise ConfigError(f"{where}: {report_type!r} is not an Amazon report type; {hint}allowed: "
                          f"{', '.join(sorted(catalog.CATALOG))}")
    if row.readable:
        return row
    if row.fmt != catalog.JSON:
        xml_readable = ", ".join(sorted(r.name for r in catalog.CATALOG.values() if r.fmt == catalog.XML and r.readable))
        raise ConfigError(f"{where}: {report_type} documents are {row.fmt.upper()}, which the loader does not read; "
                          f"allowed: report types with a tab-separated flat file, a JSON document it splits, or "
                          f"the XML types {xml_readable}")
    json_readable = ", ".join(r.name for r in catalog.CATALOG.values() if r.fmt == catalog.JSON and r.readable)
    raise ConfigError(f"{where}: {report_type} documents are JSON, and the only JSON report the loader reads is "
                      f"{json_readable}; allowed: report types with a tab-separated flat file, or {json_readable}")


def _check_report_options(where: str, row: catalog.ReportType, options: dict[str, str]) -> None:
    """Names must be identifiers and values non-empty; what the catalog row documents is checked exactly."""
    for name, value in options.items():
        if not _OPTION_NAME_RE.match(name):
            raise ConfigError(f"{where}: {name!r} is not an option name; allowed: letters, digits and _ "
                              f"(Amazon's camelCase names, e.g. aggregatedByTimePeriod)")
        if not value.strip():
            raise ConfigError(f"{where}.{name}: empty value; allowed: a non-empty string")
        if row.options_complete and name not in row.options:
            raise ConfigError(f"{where}.{name}: not an option of {row.name}; allowed: {', '.join(row.options)}")
        allowed = row.allowed_values(name)
        if allowed is not None and value not in allowed:
            raise ConfigError(f"{where}.{name}: {value!r} is not allowed for {row.name}; allowed: "
                              f"{', '.join(allowed)}")


def _report(here: str, item: dict) -> ReportConfig:
    """One ``reports:`` entry (already known to be a mapping that is not ``enabled: false``)."""
    row = _report_type(f"{here}.type", item.get("type", ""))
    table = str(item.get("table") or row.table_name)
    if not _TABLE_RE.match(table):
        raise ConfigError(f"{here}.table: {table!r} must be a lower-case identifier")
    options = item.get("options") or {}
    if not isinstance(options, dict):
        raise ConfigError(f"{here}.options: must be a mapping of option name to value")
    clean: dict[str, str] = {}
    for key, val in options.items():
        if isinstance(val, dict | list) or val is None:
            raise ConfigError(f"{here}.options.{key}: {val!r} must be a single value (sent to Amazon as a string)")
        clean[str(key)] = str(val).lower() if isinstance(val, bool) else str(val)
    _check_report_options(f"{here}.options", row, clean)
    quote = item.get("quote_char", '"')
    if quote not in QUOTE_CHARS:
        raise ConfigError(f"{here}.quote_char: {quote!r} is not allowed; allowed: '\"' (double quote) or 'none'")
    by = _report_by(f"{here}.by", item.get("by"), row)
    return ReportConfig(row.name, table, clean, QUOTE_CHARS[quote], by)


def _written_tables(report: ReportConfig) -> list[str]:
    """The tables one entry writes: ``<table>_by_<side>`` for a report split by date/ASIN, else ``<table>``."""
    return [f"{report.table}_by_{b}" for b in report.by] or [report.table]


def _reports(where: str, value: Any, base: tuple[ReportConfig, ...] = ()) -> tuple[ReportConfig, ...]:
    """A ``reports:`` list added to ``base`` (the defaults).

    An entry whose table is already in ``base`` replaces that entry (in its place); ``{table: T,
    enabled: false}`` removes the entry of table T from ``base``; any other entry is added after them.
    Every written table must be unique.
    """
    if value is None:
        return base
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be a list of {{type, table, options, quote_char, by, enabled}} entries")
    merged = {report.table: report for report in base}
    listed: set[str] = set()
    for index, item in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{here}: must be a mapping with at least 'type'")
        _reject_unknown(here, item, _REPORT_KEYS)
        if not _boolean(f"{here}.enabled", item.get("enabled", True)):
            _disable(here, item, merged, base)
            continue
        report = _report(here, item)
        if report.table in listed:
            raise ConfigError(f"{here}.table: table {report.table!r} is written by two report entries")
        listed.add(report.table)
        others = {t for table, other in merged.items() if table != report.table for t in _written_tables(other)}
        clash = next((t for t in _written_tables(report) if t in others), None)
        if clash is not None:
            raise ConfigError(f"{here}.table: table {clash!r} is written by two report entries")
        merged[report.table] = report
    return tuple(merged.values())


def _disable(here: str, item: dict, merged: dict[str, ReportConfig], base: tuple[ReportConfig, ...]) -> None:
    """``{table: T, enabled: false}``: drop the default report writing table T."""
    table = item.get("table")
    defaults = [report.table for report in base]
    if not table:
        raise ConfigError(f"{here}.table: enabled: false needs the table of the default report to drop; "
                          f"allowed: {', '.join(defaults) or 'none (there are no default reports)'}")
    if table not in defaults:
        raise ConfigError(f"{here}.table: {table!r} is not a default report, so there is nothing to disable; "
                          f"allowed: {', '.join(defaults) or 'none (there are no default reports)'}")
    merged.pop(str(table), None)


@dataclass(frozen=True)
class _ScheduleDefaults:
    """What a ``schedules`` entry inherits from its marketplace."""

    hour: int  # schedule_hour: the daily schedule's default cron is ``0 <hour> * * *``
    days_back: int
    timezone: str  # the partitions' zone, so the daily schedule ticks where it always did
    local_zone: str  # the marketplace's own zone, what ``timezone: local`` means


def _schedules(where: str, value: Any, inherited: _ScheduleDefaults) -> tuple[ScheduleConfig, ...]:
    """``schedules:``, a mapping of name to schedule; ``daily`` is always there unless ``enabled: false``.

    The daily schedule's cron defaults to ``0 <schedule_hour> * * *``; every other entry needs a cron.
    A marketplace's ``schedules`` replaces the one under ``defaults`` (the daily schedule stays).
    """
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a mapping of schedule name to {{cron, timezone, assets, days_back, "
                          f"starts_on, enabled}}, e.g. {{intraday: {{cron: '*/30 8-20 * * *', assets: "
                          f"[orders_upsert]}}}}")
    entries: dict[str, Any] = {DAILY_SCHEDULE: {}, **{str(name): spec for name, spec in value.items()}}
    parsed = []
    for name, spec in entries.items():
        schedule = _schedule(f"{where}.{name}", name, spec, inherited)
        if schedule is not None:
            parsed.append(schedule)
    return tuple(parsed)


def _schedule(here: str, name: str, spec: Any, inherited: _ScheduleDefaults) -> ScheduleConfig | None:
    """One ``schedules`` entry, or None when it is ``enabled: false``."""
    if not _SCHEDULE_NAME_RE.match(name) or name in RESERVED_SCHEDULE_NAMES:
        raise ConfigError(f"{here}: {name!r} is not a schedule name; allowed: a lower-case identifier (max 32) other "
                          f"than {', '.join(RESERVED_SCHEDULE_NAMES)} (the monthly reports' own schedule)")
    spec = {} if spec is None else spec
    if not isinstance(spec, dict):
        raise ConfigError(f"{here}: must be a mapping with {', '.join(sorted(_SCHEDULE_KEYS))}")
    _reject_unknown(here, spec, _SCHEDULE_KEYS)
    if not _boolean(f"{here}.enabled", spec.get("enabled", True)):
        return None
    default_cron = f"0 {inherited.hour} * * *" if name == DAILY_SCHEDULE else None
    tz_choice = spec.get("timezone")
    timezone = inherited.timezone if tz_choice is None else (
        inherited.local_zone if _choice(f"{here}.timezone", tz_choice, TIMEZONE_CHOICES) == "local" else "UTC")
    starts_on = spec.get("starts_on")
    return ScheduleConfig(
        name=name,
        cron=_cron(f"{here}.cron", spec.get("cron", default_cron)),
        timezone=timezone,
        days_back=_integer(f"{here}.days_back", spec.get("days_back", inherited.days_back), 1, 60),
        assets=_schedule_assets(f"{here}.assets", spec.get("assets")),
        starts_on=None if starts_on is None else _parse_date(f"{here}.starts_on", starts_on),
    )


CRON_HELP = ("allowed: five fields, minute hour day-of-month month day-of-week, e.g. '*/30 8-20 * * 1-5' (every 30 "
             "minutes from 8:00 to 20:30, Monday to Friday) or '0 2 1,15 * *' (2:00 on the 1st and the 15th)")


def _cron(where: str, value: Any) -> str:
    """A cron expression Dagster's scheduler runs as written.

    Dagster's own check (the one ``ScheduleDefinition`` applies), plus a refusal of steps larger than
    their field (``*/90`` in the minutes ticks hourly, not every 90 minutes), which Dagster only warns about.
    """
    from dagster._utils.schedules import has_out_of_range_cron_interval, is_valid_cron_string

    if value is None:
        raise ConfigError(f"{where}: missing; every schedule but daily needs a cron expression; {CRON_HELP}")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {value!r} is not a cron expression (quote it in YAML); {CRON_HELP}")
    text = " ".join(value.split())
    if not is_valid_cron_string(text):
        raise ConfigError(f"{where}: {value!r} is not a cron expression; {CRON_HELP}")
    if has_out_of_range_cron_interval(text):
        raise ConfigError(f"{where}: {value!r} has a step larger than its field (it would tick once per hour or "
                          f"day, not at that interval); {CRON_HELP}")
    return text


def _schedule_assets(where: str, value: Any) -> tuple[str, ...]:
    """Asset names of the marketplace (``orders_upsert``, a report's table); that they exist is checked
    when the schedule is built, where the assets are known."""
    if value in (None, []):
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ConfigError(f"{where}: must be a list of asset names, e.g. [orders_upsert, order_items_upsert]")
    for index, item in enumerate(items):
        if not isinstance(item, str) or not _TABLE_RE.match(item):
            raise ConfigError(f"{where}[{index}]: {item!r} is not an asset name; allowed: the marketplace's asset "
                              f"names in lower case, e.g. orders_upsert")
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        raise ConfigError(f"{where}: {duplicates} listed twice; allowed: each asset once")
    return tuple(items)
