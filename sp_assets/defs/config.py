"""The marketplace configuration: one YAML file lists the marketplaces and their options.

Adding a marketplace is one entry and no code. The file is ``marketplaces.yaml`` at the project root,
or the path in ``SP_ASSETS_CONFIG``. Every problem is reported at load with the field's path and
what is allowed (``marketplaces.us.order_statuses[2]: 'Shiped' is not an order status; allowed: ...``),
before anything runs or is written.

This module is plain Python (no Dagster import) so it can be validated from a test or a script.
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

from sp_assets.lib.marketplaces import Marketplace, UnknownMarketplaceError, lookup

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
SKU_SELECTIONS = ("all", "advanced")
INVALID_SKU_POLICIES = ("skip", "warn")
CATALOG_CATEGORY_SOURCES = ("2022-04-01", "v0")
QUOTE_CHARS = {'"': '"', "double": '"', "none": "", "": ""}
TIMEZONE_CHOICES = ("local", "UTC")
SKU_MAX_LENGTH = 40  # Amazon's seller SKU limit
_ACCOUNT_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
_REPORT_TYPE_RE = re.compile(r"^GET_[A-Z0-9_]+$")


class ConfigError(ValueError):
    """A configuration problem; the message starts with the field's path."""


@dataclass(frozen=True)
class ReportConfig:
    """One report asset: Amazon's report type, its options (strings, as Amazon expects), the table."""

    report_type: str
    table: str
    options: dict[str, str] = field(default_factory=dict)
    quote_char: str = '"'  # '"' or '' (no quoting), the seed's "CSV quote character"
    by: tuple[str, ...] = ()  # sales and traffic: ("date", "asin") -> two tables


@dataclass(frozen=True)
class MarketplaceConfig:
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

    def get(self, code: str) -> MarketplaceConfig:
        for entry in self.marketplaces:
            if entry.code == code:
                return entry
        raise ConfigError(f"marketplaces: no entry {code!r}; configured: {[m.code for m in self.marketplaces]}")


DEFAULT_REPORTS: tuple[dict[str, Any], ...] = (
    {"type": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", "table": "all_orders_report"},
    {"type": "GET_MERCHANT_LISTINGS_ALL_DATA", "table": "merchant_listings"},
    {"type": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "table": "fba_inventory"},
    {"type": "GET_LEDGER_SUMMARY_VIEW_DATA", "table": "ledger_summary",
     "options": {"aggregateByLocation": "COUNTRY", "aggregatedByTimePeriod": "DAILY"}},
    {"type": "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", "table": "customer_returns"},
    {"type": "GET_SALES_AND_TRAFFIC_REPORT", "table": "sales_and_traffic",
     "options": {"dateGranularity": "DAY", "asinGranularity": "CHILD"}, "by": ["date", "asin"]},
    {"type": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "table": "settlements"},
)

_MARKETPLACE_KEYS = {
    "account", "start_date", "timezone", "endpoint", "token_url", "orders_api", "order_statuses",
    "query_date_type", "include_pii", "days_back", "schedule_hour", "sku_selection", "skus", "on_invalid_sku",
    "catalog_keywords", "catalog_categories_api", "inbound_statuses", "inbound_shipment_ids", "reports",
}


def load_config(path: str | Path | None = None, today: date | None = None) -> ProjectConfig:
    """Read and validate the configuration file (``SP_ASSETS_CONFIG`` or ``marketplaces.yaml``)."""
    chosen = Path(path or os.environ.get("SP_ASSETS_CONFIG") or DEFAULT_CONFIG_PATH)
    if not chosen.is_file():
        raise ConfigError(f"SP_ASSETS_CONFIG: no configuration file at {chosen}")
    try:
        data = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{chosen}: not valid YAML: {error}") from None
    return parse_config(data, source=str(chosen), today=today)


def parse_config(data: Any, source: str = "<dict>", today: date | None = None) -> ProjectConfig:
    """Validate a configuration mapping; every error names its field."""
    if not isinstance(data, dict):
        raise ConfigError("configuration: the top level must be a mapping with 'marketplaces' (and 'defaults')")
    unknown = set(data) - {"defaults", "marketplaces"}
    if unknown:
        raise ConfigError(f"configuration: unknown key(s) {sorted(unknown)}; allowed: defaults, marketplaces")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError("defaults: must be a mapping")
    _reject_unknown("defaults", defaults, _MARKETPLACE_KEYS)
    entries = data.get("marketplaces")
    if not isinstance(entries, dict) or not entries:
        raise ConfigError("marketplaces: must be a non-empty mapping of marketplace code to options, e.g. {us: {}}")
    today = today or date.today()
    parsed = []
    seen_ids: dict[str, str] = {}
    for raw_code, options in entries.items():
        entry = _parse_marketplace(str(raw_code), {**defaults, **(options or {})}, today)
        if entry.marketplace_id in seen_ids:
            raise ConfigError(f"marketplaces.{raw_code}: the same marketplace as marketplaces.{seen_ids[entry.marketplace_id]}")
        seen_ids[entry.marketplace_id] = str(raw_code)
        parsed.append(entry)
    return ProjectConfig(marketplaces=tuple(parsed), source=source)


def _parse_marketplace(raw_code: str, options: Any, today: date) -> MarketplaceConfig:
    where = f"marketplaces.{raw_code}"
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: must be a mapping of options (or empty)")
    _reject_unknown(where, options, _MARKETPLACE_KEYS)
    try:
        marketplace = lookup(raw_code)
    except UnknownMarketplaceError as error:
        raise ConfigError(f"{where}: {error}") from None
    code = marketplace.code

    account = str(options.get("account") or marketplace.region.lower())
    if not _ACCOUNT_RE.match(account):
        raise ConfigError(f"{where}.account: {account!r} must be lower-case letters, digits and _ (max 32)")
    start = _parse_date(f"{where}.start_date", options.get("start_date", "2026-01-01"))
    if start > today:
        raise ConfigError(f"{where}.start_date: {start} is in the future; it must be on or before {today}")
    tz_choice = str(options.get("timezone", "local"))
    if tz_choice not in TIMEZONE_CHOICES:
        raise ConfigError(f"{where}.timezone: {tz_choice!r} is not allowed; allowed: {', '.join(TIMEZONE_CHOICES)}")
    timezone = marketplace.timezone if tz_choice == "local" else "UTC"

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
        query_date_type=_choice(f"{where}.query_date_type", options.get("query_date_type", "created"),
                                QUERY_DATE_TYPES),
        include_pii=_boolean(f"{where}.include_pii", options.get("include_pii", False)),
        days_back=_integer(f"{where}.days_back", options.get("days_back", 3), 1, 60),
        schedule_hour=_integer(f"{where}.schedule_hour", options.get("schedule_hour", 6), 0, 23),
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
        reports=_reports(f"{where}.reports", options.get("reports", list(DEFAULT_REPORTS))),
    )


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
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise ConfigError(f"{where}: {text!r} is not a valid base URL; expected http(s)://host[:port][/path]")
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


def _statuses(where: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    items = _string_list(where, value, max_items=10**6)
    if len(items) > MAX_STATUSES:
        raise ConfigError(f"{where}: at most {MAX_STATUSES} statuses (Amazon's limit), got {len(items)}")
    for index, status in enumerate(items):
        if status not in allowed:
            raise ConfigError(f"{where}[{index}]: {status!r} is not a valid status; allowed: {', '.join(allowed)}")
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
    for index, sku in enumerate(value):
        if not isinstance(sku, str | int):
            raise ConfigError(f"{where}[{index}]: {sku!r} is not a SKU string")
        text = str(sku)
        if not text.strip():
            raise ConfigError(f"{where}[{index}]: empty SKU")
        if text != text.strip():
            raise ConfigError(f"{where}[{index}]: {text!r} has leading or trailing spaces (quote it exactly as in "
                              "Seller Central)")
        if len(text) > SKU_MAX_LENGTH or any(ord(c) < 32 for c in text):
            raise ConfigError(f"{where}[{index}]: {text!r} must be 1-{SKU_MAX_LENGTH} printable characters")
        out.append(text)
    if len(set(out)) != len(out):
        raise ConfigError(f"{where}: duplicate SKUs")
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


def _reports(where: str, value: Any) -> tuple[ReportConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be a list of {{type, table, options, quote_char}} entries")
    out = []
    tables: set[str] = set()
    for index, item in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{here}: must be a mapping with at least 'type'")
        _reject_unknown(here, item, {"type", "table", "options", "quote_char", "by"})
        report_type = str(item.get("type", "")).strip()
        if not _REPORT_TYPE_RE.match(report_type):
            raise ConfigError(f"{here}.type: {report_type!r} is not a report type (GET_... in upper case)")
        table = str(item.get("table") or report_type.lower().removeprefix("get_"))
        if not re.match(r"^[a-z][a-z0-9_]{0,62}$", table):
            raise ConfigError(f"{here}.table: {table!r} must be a lower-case identifier")
        if table in tables:
            raise ConfigError(f"{here}.table: {table!r} is used twice")
        tables.add(table)
        options = item.get("options") or {}
        if not isinstance(options, dict):
            raise ConfigError(f"{here}.options: must be a mapping of option name to value")
        clean: dict[str, str] = {}
        for key, val in options.items():
            if isinstance(val, dict | list) or val is None:
                raise ConfigError(f"{here}.options.{key}: {val!r} must be a single value (sent to Amazon as a string)")
            clean[str(key)] = str(val).lower() if isinstance(val, bool) else str(val)
        quote = item.get("quote_char", '"')
        if quote not in QUOTE_CHARS:
            raise ConfigError(f"{here}.quote_char: {quote!r} is not allowed; allowed: '\"' (double quote) or 'none'")
        by = tuple(item.get("by") or ())
        bad_by = [b for b in by if b not in ("date", "asin")]
        if bad_by:
            raise ConfigError(f"{here}.by: {bad_by} not allowed; allowed: date, asin")
        out.append(ReportConfig(report_type, table, clean, QUOTE_CHARS[quote], by))
    return tuple(out)
