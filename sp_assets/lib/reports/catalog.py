"""The report catalog: every fact the project knows about an Amazon report type, in one row. Plain data.

One ``ReportType`` row per type Amazon documents ("Report Type Values", SP-API docs, 2026). The
configuration reads it (a typo'd type fails at load naming the closest one; options are checked
against the row), the loaders and assets read it (format, window, key, column types, which asset
carries history), and the sandbox reads it (format, options, creatability, the header of each
generated flat file). Nothing else lists report types: ask ``lookup(name)`` or iterate ``CATALOG``.

This module imports nothing of the client (no HTTP, no Dagster; only the project's column types and
``TextFormat``), so the sandbox may import it, as it imports the marketplace registry.

Typed columns and how their text is written
-------------------------------------------
``column_types`` types a flat file's columns (amounts DECIMAL, counts BIGINT, dates DATE, times
TIMESTAMPTZ); the loader parses them inside DuckDB (``lib/textformats.py``). How the text is written is
declared here too: ``text_format`` for the whole file (ISO dates, dot decimals: ``FIXED``), or, for a
type Amazon writes in the marketplace's conventions (``localized=True``: settlements), the
marketplace's row of ``MARKETPLACE_FORMATS`` (``1.234,56`` and ``02.01.2026`` in Germany,
``2026/01/02`` in Japan); ``column_formats`` overrides one column (the ledger's ``12/01/2026``). A
value that does not parse is kept in ``<column>__raw`` and counted in the load's metadata.

Every row types its file, declared columns or not: the columns a row does not declare are typed by
their header name, by the row's ``name_types`` (``NAME_TYPES`` unless a row says otherwise), an
ordered table of (pattern, type) applied to the snake_case header of each file at load time; the
first pattern matching the whole name wins, a name no pattern matches stays text:

- VARCHAR: flags (``is-business-order``, ``eligible-for-...``); ids, sku, asin, names, titles, codes,
  types, statuses, reasons, descriptions, currency, ``*-number`` (so ``order-id``, a numeric-looking
  ``sku``, ``asin1``, ``fee-type``, ``purchase-order-number`` stay text); units of measure
  (``weight-units``); months (every report writes them differently: a row declares their format);
- TIMESTAMPTZ: ``*-time``, ``*-datetime``, ``date/time``, and the "dates" Amazon writes as ISO
  timestamps: purchase-, payments-, shipment-, reporting-, return-, request-, approval-,
  last-updated-, estimated-arrival-, settlement-start/end-, deposit-, open-date;
- DATE: ``date`` and any other ``*-date``;
- DECIMAL(18,2), money: ending in price, amount, fee(s), charge(s), cost(s), total, tax(es), value,
  discount(s) (also ``quantity-price-1``, ``*-fee-per-unit``, ``amount-total``);
- DOUBLE: average, ratio, rate, percent(age) anywhere; ending in weight, volume, side, length,
  width, height, girth;
- BIGINT: quantity, qty, units, count, number-of, lower-bound anywhere.

The values are parsed by the row's ``text_formats`` like declared ones, so a guess that is wrong for
some file loses nothing: its values stay in ``<column>__raw`` and are counted.

Windows (``ReportType.window``), i.e. what one partition asks Amazon for:

==============  ==========================================================================================
``event``       rows are events (orders, returns): the partition's local day, converted to UTC, with
                Amazon's inclusive end (``2026-03-01T08:00:00Z`` .. ``2026-03-02T07:59:59Z`` for US)
``calendar``    rows are per calendar date (the ledger summary, sales and traffic): the partition's date
                as a whole UTC day. Amazon aggregates these by date; a local-day window in UTC would
                straddle two dates and give two partitions the same date's row.
``monthly``     rows are per calendar month (storage fees): monthly partitions, and the month as whole
                UTC days (``2026-02-01T00:00:00Z`` .. ``2026-02-28T23:59:59Z``)
``snapshot``    the current state (listings, FBA inventory): no window; an unpartitioned asset whose
                runs each load today's snapshot (``partition_date`` = the local day, earlier days kept)
``listed``      Amazon generates the report on its own schedule (settlements): listed with getReports,
                never created
==============  ==========================================================================================

Adding a report type
--------------------
Add one ``ReportType`` row to ``_DESCRIBED`` (or its name to one of the plain groups below if all the
project needs is that the name is valid): format, window, key columns, typed columns, documented
options, and ``columns`` (Amazon's header names) if the sandbox should serve it. A user then lists it
under ``reports:`` in marketplaces.yaml. For the sandbox, add one generator function to
``sp_assets/sandbox/report_documents.py`` and register it in ``FLAT_FILE_GENERATORS``; its header comes
from ``columns`` here. Nothing else changes: config, assets, checks and the sandbox's createReport
validation all read this row.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sp_assets.lib.marketplaces import MARKETPLACES
from sp_assets.lib.tablespec import DATE, DOUBLE, MONEY, VARCHAR
from sp_assets.lib.textformats import ISO_8601, NameTypes, TextFormat

# ------------------------------------------------------------------------------------------ vocabulary
TSV, JSON, XML, CSV, PDF = "tsv", "json", "xml", "csv", "pdf"
FORMATS = (TSV, JSON, XML, CSV, PDF)

EVENT, CALENDAR, MONTHLY, SNAPSHOT, LISTED = "event", "calendar", "monthly", "snapshot", "listed"
WINDOWS = (EVENT, CALENDAR, MONTHLY, SNAPSHOT, LISTED)

# Which charset Amazon writes the document in: the marketplace's (Cp1252, Shift_JIS, UTF-8, from the
# marketplace registry) for flat files, always UTF-8 for JSON.
MARKETPLACE_CHARSET, UTF8 = "marketplace", "utf-8"
CHARSET_RULES = (MARKETPLACE_CHARSET, UTF8)

SEVERITIES = ("error", "warn")

# Column types the loaders give a flat file's columns (every other column is text).
TIMESTAMP = "TIMESTAMPTZ"
INT = "BIGINT"

# How a flat file writes numbers and dates. FIXED: the formats Amazon keeps in every marketplace (ISO
# dates, ISO 8601 or "2026-01-02 03:04:05 UTC" times, dot decimals without grouping).
FIXED = TextFormat(timestamp_formats=(ISO_8601, "%Y-%m-%d %H:%M:%S %Z"))


def _local(decimal_mark: str, group_mark: str, date_format: str) -> TextFormat:
    """A marketplace's conventions: its date first (the sandbox writes that one), ISO accepted too."""
    return TextFormat(decimal_mark, group_mark, (date_format, "%Y-%m-%d"),
                      (f"{date_format} %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %Z", ISO_8601))


_ISO_LOCAL = _local(".", ",", "%Y-%m-%d")  # 2026-01-02, 1,234.56
_DAY_FIRST = _local(".", ",", "%d/%m/%Y")  # 02/01/2026, 1,234.56
_DAY_FIRST_COMMA = _local(",", ".", "%d/%m/%Y")  # 02/01/2026, 1.234,56
_DOTTED = _local(",", ".", "%d.%m.%Y")  # 02.01.2026, 1.234,56
_YEAR_SLASH = _local(".", ",", "%Y/%m/%d")  # 2026/01/02, 1,234.56
# The conventions of localized reports (settlements), by marketplace code: one row per marketplace.
MARKETPLACE_FORMATS: Mapping[str, TextFormat] = MappingProxyType({
    **dict.fromkeys(("us", "ca", "mx"), _ISO_LOCAL),
    "br": _DAY_FIRST_COMMA,
    **dict.fromkeys(("uk", "ie", "au", "in", "sg", "ae", "sa", "eg", "za"), _DAY_FIRST),
    **dict.fromkeys(("de", "fr", "it", "es", "nl", "be", "pl", "se", "tr"), _DOTTED),
    "jp": _YEAR_SLASH,
})
if set(MARKETPLACE_FORMATS) != {m.code for m in MARKETPLACES}:
    raise ValueError(f"MARKETPLACE_FORMATS must name every marketplace once; missing "
                     f"{sorted({m.code for m in MARKETPLACES} - set(MARKETPLACE_FORMATS))}")

# How a flat file's column that its row does not declare is typed, by its snake_case header name:
# (pattern matching the whole name, type), first match wins, no match stays text. See the module
# docstring for the rule in words; ``sp_assets_tests/lib/reports/test_catalog.py`` checks it against
# every header the sandbox writes and Amazon's documented headers.
_MONEY_WORDS = "price|prices|amount|fee|fees|charge|charges|cost|costs|total|tax|taxes|value|discount|discounts"
_TEXT_WORDS = ("id|ids|sku|skus|asin\\d*|fnsku|msku|upc|ean|isbn|code|name|title|type|status|reason|description"
               "|comments?|currency|designation|number|url|tier|unit_of_\\w+")
_TIMESTAMP_DATES = ("purchase|payments?|shipment|reporting|estimated_arrival|return|request|approval|last_updated"
                    "|settlement_start|settlement_end|deposit|open")
NAME_TYPES = NameTypes((
    (r"(is|has|was|eligible|qualifies|will|item_is)_.+", VARCHAR),
    (rf"(.*_)?({_TEXT_WORDS})", VARCHAR),
    (r"(.*_)?(measurement|weight|volume|dimensions?|size|length|ratio)_units", VARCHAR),
    (r"(.*_)?month(_.*)?", VARCHAR),  # months are written differently by every report: declare their format
    (r"(.*_)?(time|datetime|date_time|timestamp)", TIMESTAMP),
    (rf"(.*_)?({_TIMESTAMP_DATES})_date", TIMESTAMP),
    (r"(.*_)?date", DATE),
    (rf"(.*_)?({_MONEY_WORDS})(_\d+|_per_unit|_total)?", MONEY),
    (r"(.*_)?(average|avg|ratio|rate|percentage|percent|pct)(_.*)?", DOUBLE),
    (r"(.*_)?(weight|volume|side|length|width|height|girth)", DOUBLE),
    (r"(.*_)?(quantity|qty|units|count|number_of|lower_bound)(_.*)?", INT),
))

# Columns every loaded report row gets from us (never from the file).
PARTITION_COLUMN = "partition_date"
REPORT_ID_COLUMN = "report_id"
ROW_NUMBER_COLUMN = "row_number"
CREATED_COLUMN = "report_created_time"

# The sales and traffic report is written as two tables (the seed's "Pull report data by Date or ASIN").
BY_DATE, BY_ASIN = "date", "asin"

# Names other modules refer to.
ALL_ORDERS_BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
ALL_ORDERS_BY_LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
SALES_AND_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
SETTLEMENT_V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
SETTLEMENT_V1 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"
LEDGER_SUMMARY = "GET_LEDGER_SUMMARY_VIEW_DATA"
STORAGE_FEES = "GET_FBA_STORAGE_FEE_CHARGES_DATA"
XML_BROWSE_TREE = "GET_XML_BROWSE_TREE_DATA"
XML_ALL_ORDERS_BY_ORDER_DATE = "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"

# Option values Amazon documents for every type that takes the option (checked where a row does not
# list the option itself).
COMMON_OPTION_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"custom": ("true", "false"), "reportPeriod": ("DAY", "WEEK", "MONTH", "QUARTER")})


class UnknownReportTypeError(KeyError):
    """A name that is not in the catalog; the message names the closest type."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class ReportType:
    """Everything the project knows about one Amazon report type.

    ``key`` is the natural key of a row in the loaded table (the asset check verifies it is unique);
    ``required`` are the key columns that must never be null; ``key_severity`` is ``warn`` where
    Amazon itself does not promise uniqueness (the order flat files), else ``error``.
    ``column_types`` are the snake_case columns with a type other than text; ``text_format`` says how
    the file writes them, or ``localized`` that it follows the marketplace (``MARKETPLACE_FORMATS``),
    and ``column_formats`` overrides single columns (see ``text_formats``); ``name_types`` types
    the file's other columns by their header names (``NAME_TYPES``; None leaves them text; flat files
    only: a JSON document's columns come from its schema). ``options`` are documented option names and their allowed values;
    ``options_complete`` says no other option name exists. ``columns`` are Amazon's header names as
    the file spells them (the sandbox writes exactly these). ``history_type`` names the report whose
    table carries the history of a snapshot type. ``by`` lists the tables a JSON document is split
    into. ``default_table`` (with ``default_options``, ``default_quote_char``) makes the type one of
    the project's default reports. ``json_rows`` names the array of a JSON document whose elements are
    the rows of its one table (each flattened into snake_case columns).
    """

    name: str
    fmt: str = TSV
    window: str = EVENT
    charset: str = MARKETPLACE_CHARSET
    key: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    key_severity: str = "error"
    column_types: Mapping[str, str] = field(default_factory=dict)
    text_format: TextFormat = FIXED
    localized: bool = False
    column_formats: Mapping[str, TextFormat] = field(default_factory=dict)
    name_types: NameTypes | None = NAME_TYPES
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    options_complete: bool = False
    columns: tuple[str, ...] = ()
    history_type: str | None = None
    by: tuple[str, ...] = ()
    default_table: str | None = None
    default_options: Mapping[str, str] = field(default_factory=dict)
    default_quote_char: str = "none"
    json_rows: str | None = None

    def __post_init__(self) -> None:
        where = f"report type {self.name}"
        for name, value, allowed in (("fmt", self.fmt, FORMATS), ("window", self.window, WINDOWS),
                                     ("charset", self.charset, CHARSET_RULES),
                                     ("key_severity", self.key_severity, SEVERITIES)):
            if value not in allowed:
                raise ValueError(f"{where}: {name} {value!r}; allowed: {', '.join(allowed)}")
        if not set(self.required) <= set(self.key):
            raise ValueError(f"{where}: required columns {self.required} must be key columns {self.key}")
        for option, value in self.default_options.items():
            if option in self.options and value not in self.options[option]:
                raise ValueError(f"{where}: default option {option}={value!r}; allowed: {self.options[option]}")
        untyped = sorted(set(self.column_formats) - set(self.column_types))
        if untyped:
            raise ValueError(f"{where}: column_formats name {untyped}, which column_types does not type")

    def text_formats(self, marketplace: str) -> tuple[TextFormat, Mapping[str, TextFormat]]:
        """How a file of this type from ``marketplace`` (a code) writes its typed columns: the file's
        format, and the columns written otherwise."""
        if self.localized:
            if marketplace not in MARKETPLACE_FORMATS:
                raise ValueError(f"report type {self.name}: no text conventions for marketplace {marketplace!r}; "
                                 f"known: {', '.join(MARKETPLACE_FORMATS)}")
            return MARKETPLACE_FORMATS[marketplace], self.column_formats
        return self.text_format, self.column_formats

    @property
    def creatable(self) -> bool:
        """False for reports Amazon generates on its own schedule (settlements): listed, never created."""
        return self.window != LISTED

    @property
    def is_snapshot(self) -> bool:
        return self.window == SNAPSHOT

    @property
    def sends_window(self) -> bool:
        """Whether createReport carries dataStartTime/dataEndTime for this type."""
        return self.window in (EVENT, CALENDAR, MONTHLY)

    @property
    def readable(self) -> bool:
        """Whether the loader reads the document: a flat file, a JSON document it knows how to split or whose
        ``json_rows`` array it reads, or an XML document whose records it flattens into ``columns``
        (``lib/reports/xml_documents.py``)."""
        return (self.fmt == TSV or (self.fmt == JSON and (bool(self.by) or self.json_rows is not None))
                or (self.fmt == XML and bool(self.columns)))

    def allowed_values(self, option: str) -> tuple[str, ...] | None:
        """The values ``option`` may take for this type, or None when Amazon does not document them."""
        if option in self.options:
            return self.options[option]
        return None if self.options_complete else COMMON_OPTION_VALUES.get(option)


# ------------------------------------------------------------------------------------------ column data
_ORDER_TYPES = {
    "purchase_date": TIMESTAMP, "last_updated_date": TIMESTAMP, "quantity": INT,
    **{name: MONEY for name in ("item_price", "item_tax", "shipping_price", "shipping_tax", "gift_wrap_price",
                                "gift_wrap_tax", "item_promotion_discount", "ship_promotion_discount")},
}
# XML documents are flattened into these columns (xml_documents.py writes them as a flat file's header).
_XML_BROWSE_TREE_COLUMNS = (
    "browse-node-id", "browse-node-name", "browse-node-store-context-name", "browse-path-by-id",
    "browse-path-by-name", "has-children", "child-node-ids", "product-type-definitions", "refinements-count")
_XML_ORDERS_COLUMNS = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status", "sales-channel",
    "fulfillment-channel", "ship-service-level", "ship-city", "ship-state", "ship-postal-code", "ship-country",
    "is-business-order", "asin", "sku", "item-status", "product-name", "quantity", "currency", "item-price",
    "item-tax", "shipping-price", "shipping-tax", "promotion-ids", "item-promotion-discount",
    "ship-promotion-discount")
_LEDGER_TYPES = {name: INT for name in (
    "starting_warehouse_balance", "in_transit_between_warehouses", "receipts", "customer_shipments",
    "customer_returns", "vendor_returns", "warehouse_transfer_in_out", "found", "lost", "damaged", "disposed",
    "other_events", "ending_warehouse_balance", "unknown_events")}
_MYI_TYPES = {"your_price": MONEY, "per_unit_volume": DOUBLE, **{name: INT for name in (
    "mfn_fulfillable_quantity", "afn_warehouse_quantity", "afn_fulfillable_quantity", "afn_unsellable_quantity",
    "afn_reserved_quantity", "afn_total_quantity", "afn_inbound_working_quantity", "afn_inbound_shipped_quantity",
    "afn_inbound_receiving_quantity", "afn_researching_quantity", "afn_reserved_future_supply",
    "afn_future_supply_buyable")}}
_SETTLEMENT_DATES = {name: TIMESTAMP for name in ("settlement_start_date", "settlement_end_date", "deposit_date")}
_SETTLEMENT_V2_TYPES = {ROW_NUMBER_COLUMN: INT, **_SETTLEMENT_DATES, "total_amount": MONEY, "amount": MONEY,
                        "posted_date": DATE, "posted_date_time": TIMESTAMP, "quantity_purchased": INT}
_SETTLEMENT_V1_TYPES = {ROW_NUMBER_COLUMN: INT, **_SETTLEMENT_DATES, "posted_date": TIMESTAMP,
                        "quantity_purchased": INT, **{name: MONEY for name in (
                            "total_amount", "shipment_fee_amount", "order_fee_amount", "price_amount",
                            "item_related_fee_amount", "misc_fee_amount", "other_fee_amount", "promotion_amount",
                            "direct_payment_amount", "other_amount")}}
_LISTINGS_TYPES = {"price": MONEY, "quantity": INT, "pending_quantity": INT, "open_date": TIMESTAMP}
_OPEN_LISTINGS_TYPES = {"price": MONEY, "quantity": INT, "business_price": MONEY,
                        **{f"quantity_price_{n}": MONEY for n in range(1, 6)},
                        **{f"quantity_lower_bound_{n}": INT for n in range(1, 6)},
                        **{f"progressive_price_{n}": MONEY for n in range(1, 4)},
                        **{f"progressive_lower_bound_{n}": INT for n in range(1, 4)}}
_STORAGE_FEE_TYPES = {
    "month_of_charge": DATE,
    **{name: MONEY for name in ("estimated_monthly_storage_fee", "total_incentive_fee_amount",
                                "breakdown_incentive_fee_amount", "base_rate", "utilization_surcharge_rate")},
    **{name: DOUBLE for name in ("longest_side", "median_side", "shortest_side", "weight", "item_volume",
                                 "average_quantity_on_hand", "average_quantity_pending_removal",
                                 "estimated_total_item_volume", "storage_utilization_ratio",
                                 "average_quantity_customer_orders")},
}
# The ledger writes its Date month first (12/01/2026), or month/year when aggregated by MONTHLY.
_LEDGER_DATE = {"date": FIXED.with_dates("%m/%d/%Y", "%m/%Y")}
_SETTLEMENT_KEY = ("settlement_id", ROW_NUMBER_COLUMN)

_ALL_ORDERS_COLUMNS = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "cpf", "is-business-order",
    "purchase-order-number", "price-designation",
)
_MERCHANT_LISTINGS_COLUMNS = (
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date", "image-url",
    "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note", "item-condition",
    "zshop-category1", "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3",
    "will-ship-internationally", "expedited-shipping", "zshop-boldface", "product-id",
    "bid-for-featured-placement", "add-delete", "pending-quantity", "fulfillment-channel",
    "merchant-shipping-group", "status",
)
_OPEN_LISTINGS_COLUMNS = (
    "sku", "asin", "price", "quantity", "Business Price", "Quantity Price Type",
    "Quantity Lower Bound 1", "Quantity Price 1", "Quantity Lower Bound 2", "Quantity Price 2",
    "Quantity Lower Bound 3", "Quantity Price 3", "Quantity Lower Bound 4", "Quantity Price 4",
    "Quantity Lower Bound 5", "Quantity Price 5", "Progressive Price Type", "Progressive Lower Bound 1",
    "Progressive Price 1", "Progressive Lower Bound 2", "Progressive Price 2", "Progressive Lower Bound 3",
    "Progressive Price 3",
)
_MYI_UNSUPPRESSED_COLUMNS = (
    "sku", "fnsku", "asin", "product-name", "condition", "your-price", "mfn-listing-exists",
    "mfn-fulfillable-quantity", "afn-listing-exists", "afn-warehouse-quantity", "afn-fulfillable-quantity",
    "afn-unsellable-quantity", "afn-reserved-quantity", "afn-total-quantity", "per-unit-volume",
    "afn-inbound-working-quantity", "afn-inbound-shipped-quantity", "afn-inbound-receiving-quantity",
    "afn-researching-quantity", "afn-reserved-future-supply", "afn-future-supply-buyable",
)
_AFN_INVENTORY_COLUMNS = (
    "seller-sku", "fulfillment-channel-sku", "asin", "condition-type", "Warehouse-Condition-code",
    "Quantity Available",
)
_LEDGER_SUMMARY_COLUMNS = (
    "Date", "FNSKU", "ASIN", "MSKU", "Title", "Disposition", "Starting Warehouse Balance",
    "In Transit Between Warehouses", "Receipts", "Customer Shipments", "Customer Returns", "Vendor Returns",
    "Warehouse Transfer In/Out", "Found", "Lost", "Damaged", "Disposed", "Other Events",
    "Ending Warehouse Balance", "Unknown Events", "Location",
)
_CUSTOMER_RETURNS_COLUMNS = (
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity", "fulfillment-center-id",
    "detailed-disposition", "reason", "status", "license-plate-number", "customer-comments",
)
_SETTLEMENT_V1_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "shipment-fee-type", "shipment-fee-amount", "order-fee-type", "order-fee-amount", "fulfillment-id",
    "posted-date", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku",
    "quantity-purchased", "price-type", "price-amount", "item-related-fee-type", "item-related-fee-amount",
    "misc-fee-amount", "other-fee-amount", "other-fee-reason-description", "promotion-id", "promotion-type",
    "promotion-amount", "direct-payment-type", "direct-payment-amount", "other-amount",
)
_SETTLEMENT_V2_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
    "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
)
_STORAGE_FEE_COLUMNS = (
    "asin", "fnsku", "product_name", "fulfillment_center", "country_code", "longest_side", "median_side",
    "shortest_side", "measurement_units", "weight", "weight_units", "item_volume", "volume_units",
    "product_size_tier", "average_quantity_on_hand", "average_quantity_pending_removal",
    "estimated_total_item_volume", "month_of_charge", "storage_utilization_ratio",
    "storage_utilization_ratio_units", "base_rate", "utilization_surcharge_rate", "currency",
    "estimated_monthly_storage_fee", "dangerous_goods_storage_type", "eligible_for_inventory_discount",
    "qualifies_for_inventory_discount", "total_incentive_fee_amount", "breakdown_incentive_fee_amount",
    "average_quantity_customer_orders",
)
_LISTING_KEY = (PARTITION_COLUMN, "seller_sku")
_SKU_KEY = (PARTITION_COLUMN, "sku")
_CUSTOM = {"custom": COMMON_OPTION_VALUES["custom"]}

# ------------------------------------------------------------------------------------------ described rows
# The types the project loads with a known shape. The first seven (in this order) are the defaults.
_DESCRIBED: tuple[ReportType, ...] = (
    ReportType(ALL_ORDERS_BY_ORDER_DATE, key=("amazon_order_id", "sku"), required=("amazon_order_id",),
               key_severity="warn", column_types=_ORDER_TYPES, columns=_ALL_ORDERS_COLUMNS,
               default_table="all_orders_report"),
    ReportType("GET_MERCHANT_LISTINGS_ALL_DATA", window=SNAPSHOT, key=_LISTING_KEY, required=_LISTING_KEY,
               column_types=_LISTINGS_TYPES, options=_CUSTOM, columns=_MERCHANT_LISTINGS_COLUMNS, default_table="merchant_listings"),
    ReportType("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", window=SNAPSHOT, key=_SKU_KEY, required=_SKU_KEY,
               column_types=_MYI_TYPES, columns=_MYI_UNSUPPRESSED_COLUMNS, history_type=LEDGER_SUMMARY,
               default_table="fba_inventory"),
    ReportType(LEDGER_SUMMARY, window=CALENDAR,
               key=(PARTITION_COLUMN, "date", "fnsku", "msku", "disposition", "location"),
               required=(PARTITION_COLUMN, "date", "fnsku"), column_types={**_LEDGER_TYPES, "date": DATE},
               column_formats=_LEDGER_DATE,
               options={"aggregateByLocation": ("COUNTRY", "FC"),
                        "aggregatedByTimePeriod": ("DAILY", "WEEKLY", "MONTHLY")},
               options_complete=True, columns=_LEDGER_SUMMARY_COLUMNS, default_table="ledger_summary",
               default_options={"aggregateByLocation": "COUNTRY", "aggregatedByTimePeriod": "DAILY"}),
    ReportType("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
               key=("order_id", "sku", "license_plate_number", "return_date"), required=("order_id", "sku"),
               column_types={"return_date": TIMESTAMP, "quantity": INT}, columns=_CUSTOMER_RETURNS_COLUMNS,
               default_table="customer_returns"),
    ReportType(SALES_AND_TRAFFIC, fmt=JSON, window=CALENDAR, charset=UTF8, by=(BY_DATE, BY_ASIN),
               options={"dateGranularity": ("DAY", "WEEK", "MONTH"), "asinGranularity": ("PARENT", "CHILD", "SKU")},
               options_complete=True, default_table="sales_and_traffic",
               default_options={"dateGranularity": "DAY", "asinGranularity": "CHILD"}, default_quote_char='"'),
    ReportType(SETTLEMENT_V2, window=LISTED, key=_SETTLEMENT_KEY, required=_SETTLEMENT_KEY,
               column_types=_SETTLEMENT_V2_TYPES, localized=True, columns=_SETTLEMENT_V2_COLUMNS,
               default_table="settlements"),
    # not defaults
    ReportType(ALL_ORDERS_BY_LAST_UPDATE, key=("amazon_order_id", "sku"), required=("amazon_order_id",),
               key_severity="warn", column_types=_ORDER_TYPES,
               columns=tuple(c for c in _ALL_ORDERS_COLUMNS if c != "cpf")),
    ReportType("GET_MERCHANT_LISTINGS_DATA", window=SNAPSHOT, key=_LISTING_KEY, required=_LISTING_KEY,
               column_types=_LISTINGS_TYPES),
    ReportType("GET_FLAT_FILE_OPEN_LISTINGS_DATA", window=SNAPSHOT, key=_SKU_KEY, required=_SKU_KEY,
               column_types=_OPEN_LISTINGS_TYPES, options=_CUSTOM, columns=_OPEN_LISTINGS_COLUMNS),
    ReportType("GET_FBA_MYI_ALL_INVENTORY_DATA", window=SNAPSHOT, key=_SKU_KEY, required=_SKU_KEY,
               column_types=_MYI_TYPES, history_type=LEDGER_SUMMARY),
    ReportType("GET_AFN_INVENTORY_DATA", window=SNAPSHOT,
               key=(PARTITION_COLUMN, "seller_sku", "warehouse_condition_code"), required=_LISTING_KEY,
               column_types={"quantity_available": INT}, columns=_AFN_INVENTORY_COLUMNS,
               history_type=LEDGER_SUMMARY),
    ReportType(SETTLEMENT_V1, window=LISTED, key=_SETTLEMENT_KEY, required=_SETTLEMENT_KEY,
               column_types=_SETTLEMENT_V1_TYPES, localized=True, columns=_SETTLEMENT_V1_COLUMNS),
    # Known only by name, their columns typed by NAME_TYPES, with what the name rule cannot know declared:
    # the ledger's month-first Date, and the date range report written in the marketplace's conventions.
    ReportType("GET_LEDGER_DETAIL_VIEW_DATA", column_types={"date": DATE}, column_formats=_LEDGER_DATE),
    ReportType("GET_DATE_RANGE_FINANCIAL_TRANSACTION_DATA", localized=True),
    ReportType(STORAGE_FEES, window=MONTHLY,
               key=(PARTITION_COLUMN, "asin", "fnsku", "fulfillment_center", "month_of_charge"),
               required=(PARTITION_COLUMN, "fnsku", "month_of_charge"), columns=_STORAGE_FEE_COLUMNS,
               column_types=_STORAGE_FEE_TYPES, column_formats={"month_of_charge": FIXED.with_dates("%Y-%m")}),
    # XML documents, streamed and flattened into a flat file (lib/reports/xml_documents.py), then loaded as one
    ReportType(XML_BROWSE_TREE, fmt=XML, window=SNAPSHOT, charset=UTF8, key=("browse_node_id",),
               required=("browse_node_id",), column_types={"has_children": "BOOLEAN", "refinements_count": INT},
               options={"RootNodesOnly": ("true", "false")}, columns=_XML_BROWSE_TREE_COLUMNS),
    ReportType(XML_ALL_ORDERS_BY_ORDER_DATE, fmt=XML, charset=UTF8, key=("amazon_order_id", "sku"),
               required=("amazon_order_id",), key_severity="warn",
               column_types={**_ORDER_TYPES, "is_business_order": "BOOLEAN"}, columns=_XML_ORDERS_COLUMNS),
    # JSON reports of issue 14 (schemas: report-schemas/accountHealthReport-2020-11-18.json and
    # sellingPartner{SearchTerms,MarketBasketAnalysis,RepeatPurchase}Report.json), each loaded into one table
    # from its ``json_rows`` array. Brand Analytics takes a reportPeriod; for WEEK, MONTH and QUARTER Amazon
    # wants the period's first day to its last (Sunday to Saturday for WEEK), and Search Terms may not span
    # two periods. A daily partition therefore asks for DAY, a monthly one for MONTH (Repeat Purchase has no DAY).
    ReportType("GET_V2_SELLER_PERFORMANCE_REPORT", fmt=JSON, window=SNAPSHOT, charset=UTF8, options_complete=True,
               json_rows="performanceMetrics", key=(PARTITION_COLUMN, "marketplace_id"),
               required=(PARTITION_COLUMN, "marketplace_id"),
               column_types={f"{name}_rate": DOUBLE for name in (
                   "invoice_defect_rate", "late_shipment_rate", "on_time_delivery_rate", "unit_on_time_delivery_rate",
                   "valid_tracking_rate", "pre_fulfillment_cancellation_rate", "order_defect_rate_mfn",
                   "order_defect_rate_afn")}),
    ReportType("GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT", fmt=JSON, window=CALENDAR, charset=UTF8,
               options={"reportPeriod": ("DAY", "WEEK", "MONTH", "QUARTER")}, options_complete=True,
               json_rows="dataByDepartmentAndSearchTerm",
               key=(PARTITION_COLUMN, "department_name", "search_term", "clicked_asin"),
               required=(PARTITION_COLUMN, "search_term", "clicked_asin"),
               column_types={"search_frequency_rank": INT, "click_share_rank": INT, "click_share": DOUBLE,
                             "conversion_share": DOUBLE}),
    ReportType("GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT", fmt=JSON, window=CALENDAR, charset=UTF8,
               options={"reportPeriod": ("DAY", "WEEK", "MONTH", "QUARTER")}, options_complete=True,
               json_rows="dataByAsin", key=(PARTITION_COLUMN, "start_date", "asin", "purchased_with_asin"),
               required=(PARTITION_COLUMN, "start_date", "asin", "purchased_with_asin"),
               column_types={"start_date": DATE, "end_date": DATE, "purchased_with_rank": INT,
                             "combination_pct": DOUBLE}),
    ReportType("GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT", fmt=JSON, window=MONTHLY, charset=UTF8,
               options={"reportPeriod": ("WEEK", "MONTH", "QUARTER")}, options_complete=True,
               json_rows="dataByAsin", key=(PARTITION_COLUMN, "start_date", "asin"),
               required=(PARTITION_COLUMN, "start_date", "asin"),
               column_types={"start_date": DATE, "end_date": DATE, "orders": INT, "unique_customers": INT,
                             "repeat_customers_pct_total": DOUBLE, "repeat_purchase_revenue_amount": MONEY,
                             "repeat_purchase_revenue_pct_total": DOUBLE}),
)


# ------------------------------------------------------------------------------------------ plain rows
def _plain(names: Iterable[str], **facts: Any) -> tuple[ReportType, ...]:
    """Rows of types the project accepts without a described shape: no key check; a flat file's columns
    are typed by their header names (``NAME_TYPES``)."""
    return tuple(ReportType(name, **facts) for name in names)


_PLAIN: tuple[ReportType, ...] = (
    # current-state reports: no window, today's snapshot only
    *_plain(("GET_MERCHANT_LISTINGS_INACTIVE_DATA", "GET_MERCHANT_LISTINGS_DATA_BACK_COMPAT",
             "GET_MERCHANT_LISTINGS_DATA_LITE", "GET_MERCHANT_LISTINGS_DATA_LITER",
             "GET_MERCHANT_CANCELLED_LISTINGS_DATA", "GET_MERCHANTS_LISTINGS_FYP_REPORT",
             "GET_AFN_INVENTORY_DATA_BY_COUNTRY", "GET_RESERVED_INVENTORY_DATA", "GET_FBA_INVENTORY_PLANNING_DATA",
             "GET_STRANDED_INVENTORY_UI_DATA", "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA",
             "GET_REFERRAL_FEE_PREVIEW_REPORT", "GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT",
             "GET_EXCESS_INVENTORY_DATA"), window=SNAPSHOT),
    # settlements Amazon generates and the loader cannot read
    ReportType("GET_V2_SETTLEMENT_REPORT_DATA_XML", fmt=XML, window=LISTED),
    # JSON documents (the loader reads only the sales and traffic one)
    *_plain(("GET_VENDOR_SALES_REPORT", "GET_VENDOR_TRAFFIC_REPORT",
             "GET_VENDOR_INVENTORY_REPORT", "GET_VENDOR_FORECASTING_REPORT",
             "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT", "GET_VENDOR_REAL_TIME_INVENTORY_REPORT",
             "GET_SELLER_COUPON_REPORT", "GET_PROMOTION_PERFORMANCE_REPORT"), fmt=JSON, charset=UTF8),
    # XML, CSV and PDF documents (refused at configuration load)
    *_plain(("GET_XML_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
             "GET_XML_RETURNS_DATA_BY_RETURN_DATE", "GET_XML_MFN_PRIME_RETURNS_REPORT",
             "GET_XML_MFN_SKU_RETURN_ATTRIBUTES_REPORT", "GET_XML_VAT_INVOICE_DATA_REPORT"), fmt=XML),
    ReportType("GET_CSV_MFN_PRIME_RETURNS_REPORT", fmt=CSV),
    ReportType("GET_EASYSHIP_DOCUMENTS", fmt=PDF),
    # flat files whose window is the partition's day
    *_plain((
        # analytics
        "GET_BRAND_ANALYTICS_SEARCH_CATALOG_PERFORMANCE_REPORT", "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
        "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT", "GET_VENDOR_REAL_TIME_SALES_REPORT", "GET_COUPON_PERFORMANCE_REPORT",
        # listings
        "GET_PAN_EU_OFFER_STATUS", "GET_MFN_PANEU_OFFER_STATUS",
        # orders and order tracking
        "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", "GET_ORDER_REPORT_DATA_INVOICING", "GET_ORDER_REPORT_DATA_TAX",
        "GET_ORDER_REPORT_DATA_SHIPPING", "GET_FLAT_FILE_ORDER_REPORT_DATA_INVOICING",
        "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING", "GET_FLAT_FILE_ORDER_REPORT_DATA_TAX",
        "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE", "GET_FLAT_FILE_PENDING_ORDERS_DATA",
        "GET_PENDING_ORDERS_DATA", "GET_CONVERGED_FLAT_FILE_PENDING_ORDERS_DATA",
        # returns, performance, finances
        "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", "GET_FLAT_FILE_MFN_SKU_RETURN_ATTRIBUTES_REPORT",
        "GET_SELLER_FEEDBACK_DATA", "GET_V1_SELLER_PERFORMANCE_REPORT",
        # FBA
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL", "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING",
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_TAX", "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_SALES_DATA",
        "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA", "GET_FBA_FULFILLMENT_CUSTOMER_TAXES_DATA",
        "GET_REMOTE_FULFILLMENT_ELIGIBILITY",
        "GET_FBA_FULFILLMENT_INBOUND_NONCOMPLIANCE_DATA", "GET_STRANDED_INVENTORY_LOADER_DATA",
        "GET_PRODUCT_EXCHANGE_DATA", "GET_FBA_OVERAGE_FEE_CHARGES_DATA", "GET_FBA_REIMBURSEMENTS_DATA",
        "GET_FBA_FULFILLMENT_LONGTERM_STORAGE_FEE_CHARGES_DATA",
        "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_REPLACEMENT_DATA", "GET_FBA_RECOMMENDED_REMOVAL_DATA",
        "GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA", "GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA",
        "GET_FBA_INVENTORY_AGED_DATA", "GET_FBA_UNO_INVENTORY_DATA",
        # tax, invoices, Easy Ship, Amazon Business, B2B, compliance
        "GST_MTR_STOCK_TRANSFER_REPORT", "GST_MTR_B2B", "GST_MTR_B2C", "GET_FLAT_FILE_SALES_TAX_DATA",
        "SC_VAT_TAX_REPORT", "GET_VAT_TRANSACTION_DATA", "GET_GST_MTR_B2B_CUSTOM", "GET_GST_MTR_B2C_CUSTOM",
        "GET_GST_STR_ADHOC", "GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT", "GET_EASYSHIP_PICKEDUP",
        "GET_EASYSHIP_WAITING_FOR_PICKUP", "RFQD_BULK_DOWNLOAD", "FEE_DISCOUNTS_REPORT",
        "GET_B2B_PRODUCT_OPPORTUNITIES_RECOMMENDED_FOR_YOU", "GET_B2B_PRODUCT_OPPORTUNITIES_NOT_YET_ON_AMAZON",
        "MARKETPLACE_ASIN_PAGE_VIEW_METRICS", "GET_EPR_MONTHLY_REPORTS", "GET_EPR_QUARTERLY_REPORTS",
        "GET_EPR_ANNUAL_REPORTS",
    )),
)


def _index(rows: Iterable[ReportType]) -> Mapping[str, ReportType]:
    out: dict[str, ReportType] = {}
    for row in rows:
        if row.name in out:
            raise ValueError(f"report type {row.name} has two catalog rows; keep one")
        out[row.name] = row
    for row in out.values():
        if row.history_type is not None and row.history_type not in out:
            raise ValueError(f"report type {row.name}: history_type {row.history_type} is not in the catalog")
    return MappingProxyType(out)


CATALOG: Mapping[str, ReportType] = _index((*_DESCRIBED, *_PLAIN))


def closest(name: str) -> str | None:
    """The catalog's type nearest to a misspelt ``name`` (for "did you mean ...?"), or None."""
    found = difflib.get_close_matches(name, sorted(CATALOG), n=1, cutoff=0.6)
    return found[0] if found else None


def lookup(name: str) -> ReportType:
    """The row of ``name``; an unknown name raises ``UnknownReportTypeError`` naming the closest type."""
    row = CATALOG.get(name)
    if row is None:
        near = closest(name)
        hint = f"; did you mean {near}?" if near else ""
        raise UnknownReportTypeError(f"{name!r} is not a report type in the catalog{hint}")
    return row


def defaults() -> tuple[ReportType, ...]:
    """The project's default reports, in the order their assets are listed."""
    return tuple(row for row in CATALOG.values() if row.default_table is not None)
