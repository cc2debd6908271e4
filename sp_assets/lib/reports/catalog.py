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
  last-updated-, estimated-arrival-, settlement-start/end-, deposit-, open-, promise-date;
- DATE: ``date`` and any other ``*-date``;
- DECIMAL(18,2), money: ending in price, amount, fee(s), charge(s), cost(s), total, tax(es), value,
  discount(s) (also ``quantity-price-1``, ``*-fee-per-unit``, ``amount-total``);
- DOUBLE: average, ratio, rate, percent(age) anywhere; ending in weight, volume, side, length,
  width, height, girth;
- BIGINT: quantity, qty, units, count, number-of, lower-bound anywhere (and ``quantity-...-total``,
  which the money rule would otherwise take).

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
``sp_assets/sandbox/report_documents.py`` and register it in ``FLAT_FILE_GENERATORS`` (the seller reports
of issue 14 live in ``report_documents_more.py``, merged into it); its header comes from ``columns`` here.
Where Amazon limits the type, say so in the row: ``request_interval_minutes`` (generated at most once per
period: the sandbox ends a request inside it FATAL and the client waits it out) and ``history_days``
(older partitions are refused before anything is requested). Nothing else changes: config, assets, checks and the sandbox's createReport
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
                    "|settlement_start|settlement_end|deposit|open|promise")
NAME_TYPES = NameTypes((
    (r"(is|has|was|eligible|qualifies|will|item_is)_.+", VARCHAR),
    (rf"(.*_)?({_TEXT_WORDS})", VARCHAR),
    (r"(.*_)?(measurement|weight|volume|dimensions?|size|length|ratio)_units", VARCHAR),
    (r"(.*_)?month(_.*)?", VARCHAR),  # months are written differently by every report: declare their format
    (r"(.*_)?(time|datetime|date_time|timestamp)", TIMESTAMP),
    (rf"(.*_)?({_TIMESTAMP_DATES})_date", TIMESTAMP),
    (r"(.*_)?date", DATE),
    (r"(quantity|qty)_.+_total", INT),  # quantity-reimbursed-total counts units, not money
    (rf"(.*_)?({_MONEY_WORDS})(_\d+|_per_unit|_total)?", MONEY),
    (r"(.*_)?(average|avg|ratio|rate|percentage|percent|pct)(_.*)?", DOUBLE),
    (r"(.*_)?(weight|volume|side|length|width|height|girth)", DOUBLE),
    (r"(.*_)?(quantity|qty|units|count|number_of|lower_bound)(_.*)?", INT),
))

# How often Amazon generates an FBA report at most ("Fulfillment by Amazon (FBA) Reports", SP-API docs):
# a request inside the period ends FATAL (amzn/selling-partner-api-models#4032).
NEAR_REAL_TIME, DAILY = 30, 240
# "18 months of history" (the inventory ledger's Detailed View; the reimbursements report).
EIGHTEEN_MONTHS = 548

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
ORDER_REPORT_SHIPPING = "GET_ORDER_REPORT_DATA_SHIPPING"

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
    the project's default reports; ``table`` is the table a user's entry writes when it names none (a
    short name, so ``GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA`` lands in ``removal_shipments``;
    without it, the type's name in lower case without ``get_``). ``request_interval_minutes``: Amazon
    generates the type at most once per that many minutes per seller and marketplaces (its FBA reports:
    30 near real-time, 240 daily) and ends a request inside that period FATAL, so the client waits the
    period out before requesting again. ``history_days``: how far back Amazon keeps the type's data
    (the ledger's and reimbursements' 18 months); an older partition is refused, not requested.
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
    table: str | None = None
    request_interval_minutes: int = 0
    history_days: int | None = None

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
        if self.history_days is not None and self.history_days <= 0:
            raise ValueError(f"{where}: history_days {self.history_days}; allowed: a positive number of days or None")
        if self.request_interval_minutes < 0:
            raise ValueError(f"{where}: request_interval_minutes {self.request_interval_minutes}; allowed: 0 or more")
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
    def table_name(self) -> str:
        """The table a ``reports:`` entry of this type writes when it names none."""
        return self.table or self.name.lower().removeprefix("get_")

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
# The scheduled order report (XML despite its name): one row per Item of each OrderReport.
_ORDER_REPORT_COLUMNS = (
    "amazon-order-id", "purchase-date", "order-posted-datetime", "fulfillment-method", "ship-service-level", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "is-business-order", "order-item-id", "sku",
    "product-name", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "commission-fee")
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
_REIMBURSEMENT_TYPES = {"approval_date": TIMESTAMP, "amount_per_unit": MONEY, "amount_total": MONEY,
                        **{f"quantity_reimbursed_{kind}": INT for kind in ("cash", "inventory", "total")}}
_MFN_RETURNS_TYPES = {"order_date": DATE, "return_request_date": TIMESTAMP, "return_delivery_date": DATE,
                      "safe_t_claim_creation_time": TIMESTAMP, "return_quantity": INT, "order_quantity": INT,
                      **{name: MONEY for name in ("label_cost", "order_amount", "refunded_amount",
                                                  "safe_t_claim_reimbursement_amount")}}
_LEDGER_DETAIL_TYPES = {"date": DATE, "date_and_time": TIMESTAMP, "quantity": INT, "reconciled_quantity": INT,
                        "unreconciled_quantity": INT}
_FEE_PREVIEW_TYPES = {
    **{name: MONEY for name in ("your_price", "sales_price", "estimated_fee_total", "estimated_referral_fee_per_unit",
                                "estimated_variable_closing_fee", "expected_domestic_fulfilment_fee_per_unit")},
    **{f"expected_efn_fulfilment_fee_per_unit_{country}": MONEY for country in ("uk", "de", "fr", "it", "es", "se")},
    **{name: DOUBLE for name in ("longest_side", "median_side", "shortest_side", "length_and_girth",
                                 "item_package_weight")},
}
_FBA_SHIPMENTS_TYPES = {
    **{name: TIMESTAMP for name in ("purchase_date", "payments_date", "shipment_date", "reporting_date",
                                    "estimated_arrival_date")},
    "quantity_shipped": INT,
    **{name: MONEY for name in ("item_price", "item_tax", "shipping_price", "shipping_tax", "gift_wrap_price",
                                "gift_wrap_tax", "item_promotion_discount", "ship_promotion_discount")},
}
_REMOVAL_ORDER_TYPES = {"request_date": TIMESTAMP, "last_updated_date": TIMESTAMP, "removal_fee": MONEY,
                        **{f"{kind}_quantity": INT for kind in ("requested", "cancelled", "disposed", "shipped",
                                                                "in_process")}}
_REMOVAL_SHIPMENT_TYPES = {"request_date": TIMESTAMP, "shipment_date": TIMESTAMP, "shipped_quantity": INT}
# promotion-rule-value names the rule (PercentageOff), whatever its name suggests
_PROMOTION_TYPES = {"shipment_date": TIMESTAMP, "item_promotion_discount": MONEY, "promotion_rule_value": VARCHAR}
_REPLACEMENT_TYPES = {"shipment_date": TIMESTAMP, "quantity": INT}
_PLANNING_TYPES = {
    "snapshot_date": DATE,
    **{name: INT for name in (
        "available", "pending_removal_quantity", "inv_age_0_to_90_days", "inv_age_91_to_180_days",
        "inv_age_181_to_270_days", "inv_age_271_to_365_days", "inv_age_365_plus_days", "units_shipped_t7",
        "units_shipped_t30", "units_shipped_t60", "units_shipped_t90", "healthy_inventory_level",
        "recommended_sale_duration_days", "recommended_removal_quantity", "sales_rank", "days_of_supply",
        "estimated_excess_quantity", "inv_age_0_to_30_days", "inv_age_31_to_60_days", "inv_age_61_to_90_days",
        "inv_age_181_to_330_days", "inv_age_331_to_365_days", "inbound_quantity", "inbound_working",
        "inbound_shipped", "inbound_received", "reserved_quantity", "unfulfillable_quantity")},
    **{name: MONEY for name in (
        "your_price", "sales_price", "lowest_price_new_plus_shipping", "lowest_price_used", "recommended_sales_price",
        "estimated_cost_savings_of_recommended_actions", "featuredoffer_price", "sales_shipped_last_7_days",
        "sales_shipped_last_30_days", "sales_shipped_last_60_days", "sales_shipped_last_90_days",
        "estimated_storage_cost_next_month")},
    **{name: DOUBLE for name in ("sell_through", "item_volume", "storage_volume", "weeks_of_cover_t30",
                                 "weeks_of_cover_t90")},
}
_RESTOCK_TYPES = {
    "price": MONEY, "sales_last_30_days": MONEY, "recommended_ship_date": DATE,
    **{name: INT for name in (
        "units_sold_last_30_days", "total_units", "inbound", "available", "fc_transfer", "fc_processing",
        "customer_order", "unfulfillable", "working", "shipped", "receiving",
        "total_days_of_supply_including_units_from_open_shipments", "days_of_supply_at_amazon_fulfillment_network",
        "recommended_replenishment_qty")},
}
_STRANDED_TYPES = {"date_stranded": DATE, "date_to_take_auto_removal": DATE, "your_price": MONEY,
                   **{name: INT for name in ("fulfillable_qty", "unfulfillable_qty", "reserved_quantity",
                                             "inbound_shipped_qty")}}
_UNSHIPPED_ORDERS_TYPES = {
    **{name: TIMESTAMP for name in ("purchase_date", "payments_date", "reporting_date", "promise_date")},
    **{name: INT for name in ("days_past_promise", "quantity_purchased", "quantity_shipped", "quantity_to_ship")},
}
# Seller feedback writes its Date month first with a two-digit year (12/01/26).
_FEEDBACK_DATE = {"date": FIXED.with_dates("%m/%d/%y")}
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
# Amazon's headers of the seller reports other connectors offer ("Reports attributes", SP-API docs;
# where Amazon's page and real files differ, as the ledger's spaced names, the real files' spelling).
_REIMBURSEMENTS_COLUMNS = (
    "approval-date", "reimbursement-id", "case-id", "amazon-order-id", "reason", "sku", "fnsku", "asin",
    "product-name", "condition", "currency-unit", "amount-per-unit", "amount-total", "quantity-reimbursed-cash",
    "quantity-reimbursed-inventory", "quantity-reimbursed-total", "original-reimbursement-id",
    "original-reimbursement-type",
)
_MFN_RETURNS_COLUMNS = (
    "Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID", "Merchant RMA ID",
    "Label type", "Label cost", "Currency code", "Return carrier", "Tracking ID", "Label to be paid by",
    "A-to-Z Claim", "Is prime", "ASIN", "Merchant SKU", "Item Name", "Return quantity", "Return Reason",
    "In policy", "Return type", "Resolution", "Invoice number", "Return delivery date", "Order Amount",
    "Order quantity", "SafeT Action reason", "SafeT claim id", "SafeT claim state", "SafeT claim creation time",
    "SafeT claim reimbursement amount", "Refunded Amount",
)
_LEDGER_DETAIL_COLUMNS = (
    "Date", "FNSKU", "ASIN", "MSKU", "Title", "Event Type", "Reference ID", "Quantity", "Fulfillment Center",
    "Disposition", "Reason", "Country", "Reconciled Quantity", "Unreconciled Quantity", "Date and Time",
)
_FEE_PREVIEW_COLUMNS = (
    "sku", "fnsku", "asin", "product-name", "product-group", "brand", "fulfilled-by", "has-local-inventory",
    "your-price", "sales-price", "longest-side", "median-side", "shortest-side", "length-and-girth",
    "unit-of-dimension", "item-package-weight", "unit-of-weight", "product-size-weight-band", "currency",
    "estimated-fee-total", "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
    "expected-domestic-fulfilment-fee-per-unit", "expected-efn-fulfilment-fee-per-unit-uk",
    "expected-efn-fulfilment-fee-per-unit-de", "expected-efn-fulfilment-fee-per-unit-fr",
    "expected-efn-fulfilment-fee-per-unit-it", "expected-efn-fulfilment-fee-per-unit-es",
    "expected-efn-fulfilment-fee-per-unit-se",
)
_FBA_SHIPMENTS_COLUMNS = (
    "amazon-order-id", "merchant-order-id", "shipment-id", "shipment-item-id", "amazon-order-item-id",
    "merchant-order-item-id", "purchase-date", "payments-date", "shipment-date", "reporting-date", "buyer-email",
    "buyer-name", "buyer-phone-number", "sku", "product-name", "quantity-shipped", "currency", "item-price",
    "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price", "gift-wrap-tax", "ship-service-level",
    "recipient-name", "ship-address-1", "ship-address-2", "ship-address-3", "ship-city", "ship-state",
    "ship-postal-code", "ship-country", "ship-phone-number", "bill-address-1", "bill-address-2", "bill-address-3",
    "bill-city", "bill-state", "bill-postal-code", "bill-country", "item-promotion-discount",
    "ship-promotion-discount", "carrier", "tracking-number", "estimated-arrival-date", "fulfillment-center-id",
    "fulfillment-channel", "sales-channel",
)
_REMOVAL_ORDER_COLUMNS = (
    "request-date", "order-id", "order-type", "service-speed", "order-status", "last-updated-date", "sku", "fnsku",
    "disposition", "requested-quantity", "cancelled-quantity", "disposed-quantity", "shipped-quantity",
    "in-process-quantity", "removal-fee", "currency",
)
_REMOVAL_SHIPMENT_COLUMNS = (
    "request-date", "order-id", "shipment-date", "sku", "fnsku", "disposition", "shipped-quantity", "carrier",
    "tracking-number", "removal-order-type",
)
_PROMOTION_COLUMNS = (
    "shipment-date", "currency", "item-promotion-discount", "item-promotion-id", "description",
    "promotion-rule-value", "amazon-order-id", "shipment-id", "shipment-item-id",
)
_REPLACEMENT_COLUMNS = (
    "shipment-date", "sku", "asin", "fulfillment-center-id", "original-fulfillment-center-id", "quantity",
    "replacement-reason-code", "replacement-amazon-order-id", "original-amazon-order-id",
)
# The inventory planning file has about 90 columns, varying by marketplace: the ones every marketplace writes.
_PLANNING_COLUMNS = (
    "snapshot-date", "sku", "fnsku", "asin", "product-name", "condition", "available", "pending-removal-quantity",
    "inv-age-0-to-90-days", "inv-age-91-to-180-days", "inv-age-181-to-270-days", "inv-age-271-to-365-days",
    "inv-age-365-plus-days", "currency", "units-shipped-t7", "units-shipped-t30", "units-shipped-t60",
    "units-shipped-t90", "alert", "your-price", "sales-price", "lowest-price-new-plus-shipping",
    "lowest-price-used", "recommended-action", "healthy-inventory-level", "recommended-sales-price",
    "recommended-sale-duration-days", "recommended-removal-quantity", "estimated-cost-savings-of-recommended-actions",
    "sell-through", "item-volume", "volume-unit-measurement", "storage-type", "storage-volume", "marketplace",
    "product-group", "sales-rank", "days-of-supply", "estimated-excess-quantity", "weeks-of-cover-t30",
    "weeks-of-cover-t90", "featuredoffer-price", "sales-shipped-last-7-days", "sales-shipped-last-30-days",
    "sales-shipped-last-60-days", "sales-shipped-last-90-days", "inv-age-0-to-30-days", "inv-age-31-to-60-days",
    "inv-age-61-to-90-days", "inv-age-181-to-330-days", "inv-age-331-to-365-days",
    "estimated-storage-cost-next-month", "inbound-quantity", "inbound-working", "inbound-shipped",
    "inbound-received", "no-sale-last-6-months", "reserved-quantity", "unfulfillable-quantity",
)
_RESTOCK_COLUMNS = (
    "Country", "Product Name", "FNSKU", "Merchant SKU", "ASIN", "Condition", "Supplier", "Supplier part no.",
    "Currency code", "Price", "Sales last 30 days", "Units Sold Last 30 Days", "Total Units", "Inbound",
    "Available", "FC transfer", "FC Processing", "Customer Order", "Unfulfillable", "Working", "Shipped",
    "Receiving", "Fulfilled by", "Total Days of Supply (including units from open shipments)",
    "Days of Supply at Amazon Fulfillment Network", "Alert", "Recommended replenishment qty",
    "Recommended ship date", "Recommended action", "Unit storage size",
)
_STRANDED_COLUMNS = (
    "primary-action", "date-stranded", "Date-to-take-auto-removal", "status-primary", "status-secondary",
    "error-message", "stranded-reason", "asin", "sku", "fnsku", "product-name", "condition", "fulfilled-by",
    "fulfillable-qty", "your-price", "unfulfillable-qty", "reserved-quantity", "inbound-shipped-qty",
)
_AFN_BY_COUNTRY_COLUMNS = (
    "seller-sku", "fulfillment-channel-sku", "asin", "condition-type", "country", "quantity-for-local-fulfillment",
)
_UNSHIPPED_ORDERS_COLUMNS = (
    "order-id", "order-item-id", "purchase-date", "payments-date", "reporting-date", "promise-date",
    "days-past-promise", "buyer-email", "buyer-name", "buyer-phone-number", "sku", "product-name",
    "quantity-purchased", "quantity-shipped", "quantity-to-ship", "ship-service-level", "recipient-name",
    "ship-address-1", "ship-address-2", "ship-address-3", "ship-city", "ship-state", "ship-postal-code",
    "ship-country", "is-business-order", "purchase-order-number", "price-designation", "is-prime",
)
_SUPPRESSED_LISTINGS_COLUMNS = (
    "Status", "Reason", "SKU", "ASIN", "Product name", "Condition", "Status Change Date", "Issue Description",
)
_FEEDBACK_COLUMNS = ("Date", "Rating", "Comments", "Response", "Order ID", "Rater Email")

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
    # Known only by name, its columns typed by NAME_TYPES; the file follows the marketplace's conventions.
    ReportType("GET_DATE_RANGE_FINANCIAL_TRANSACTION_DATA", localized=True),
    ReportType(STORAGE_FEES, window=MONTHLY,
               key=(PARTITION_COLUMN, "asin", "fnsku", "fulfillment_center", "month_of_charge"),
               required=(PARTITION_COLUMN, "fnsku", "month_of_charge"), columns=_STORAGE_FEE_COLUMNS,
               column_types=_STORAGE_FEE_TYPES, column_formats={"month_of_charge": FIXED.with_dates("%Y-%m")}),
    # XML documents, streamed and flattened into a flat file (lib/reports/xml_documents.py), then loaded as one
    ReportType(XML_BROWSE_TREE, fmt=XML, window=SNAPSHOT, charset=UTF8, key=("browse_node_id",),
               required=("browse_node_id",), column_types={"has_children": "BOOLEAN", "refinements_count": INT},
               options={"RootNodesOnly": ("true", "false")}, columns=_XML_BROWSE_TREE_COLUMNS, table="browse_tree"),
    ReportType(XML_ALL_ORDERS_BY_ORDER_DATE, fmt=XML, charset=UTF8, key=("amazon_order_id", "sku"),
               required=("amazon_order_id",), key_severity="warn",
               column_types={**_ORDER_TYPES, "is_business_order": "BOOLEAN"}, columns=_XML_ORDERS_COLUMNS,
               table="xml_orders"),
    # the scheduled order report is XML despite its name (its flat file is GET_FLAT_FILE_ORDER_REPORT_...)
    ReportType(ORDER_REPORT_SHIPPING, fmt=XML, charset=UTF8, key=("amazon_order_id", "order_item_id"),
               required=("amazon_order_id", "order_item_id"),
               column_types={"purchase_date": TIMESTAMP, "order_posted_datetime": TIMESTAMP, "quantity": INT,
                             "is_business_order": "BOOLEAN", **{name: MONEY for name in (
                                 "item_price", "item_tax", "shipping_price", "shipping_tax", "commission_fee")}},
               columns=_ORDER_REPORT_COLUMNS, table="order_report_shipping"),
    # JSON reports of issue 14 (schemas: report-schemas/accountHealthReport-2020-11-18.json and
    # sellingPartner{SearchTerms,MarketBasketAnalysis,RepeatPurchase}Report.json), each loaded into one table
    # from its ``json_rows`` array. Brand Analytics takes a reportPeriod; for WEEK, MONTH and QUARTER Amazon
    # wants the period's first day to its last (Sunday to Saturday for WEEK), and Search Terms may not span
    # two periods. A daily partition therefore asks for DAY, a monthly one for MONTH (Repeat Purchase has no DAY).
    ReportType("GET_V2_SELLER_PERFORMANCE_REPORT", fmt=JSON, window=SNAPSHOT, charset=UTF8, options_complete=True,
               json_rows="performanceMetrics", table="seller_performance", key=(PARTITION_COLUMN, "marketplace_id"),
               required=(PARTITION_COLUMN, "marketplace_id"),
               column_types={f"{name}_rate": DOUBLE for name in (
                   "invoice_defect_rate", "late_shipment_rate", "on_time_delivery_rate", "unit_on_time_delivery_rate",
                   "valid_tracking_rate", "pre_fulfillment_cancellation_rate", "order_defect_rate_mfn",
                   "order_defect_rate_afn")}),
    ReportType("GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT", fmt=JSON, window=CALENDAR, charset=UTF8,
               options={"reportPeriod": ("DAY", "WEEK", "MONTH", "QUARTER")}, options_complete=True,
               json_rows="dataByDepartmentAndSearchTerm", table="search_terms",
               key=(PARTITION_COLUMN, "department_name", "search_term", "clicked_asin"),
               required=(PARTITION_COLUMN, "search_term", "clicked_asin"),
               column_types={"search_frequency_rank": INT, "click_share_rank": INT, "click_share": DOUBLE,
                             "conversion_share": DOUBLE}),
    ReportType("GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT", fmt=JSON, window=CALENDAR, charset=UTF8,
               options={"reportPeriod": ("DAY", "WEEK", "MONTH", "QUARTER")}, options_complete=True,
               json_rows="dataByAsin", table="market_basket",
               key=(PARTITION_COLUMN, "start_date", "asin", "purchased_with_asin"),
               required=(PARTITION_COLUMN, "start_date", "asin", "purchased_with_asin"),
               column_types={"start_date": DATE, "end_date": DATE, "purchased_with_rank": INT,
                             "combination_pct": DOUBLE}),
    ReportType("GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT", fmt=JSON, window=MONTHLY, charset=UTF8,
               options={"reportPeriod": ("WEEK", "MONTH", "QUARTER")}, options_complete=True,
               json_rows="dataByAsin", table="repeat_purchase", key=(PARTITION_COLUMN, "start_date", "asin"),
               required=(PARTITION_COLUMN, "start_date", "asin"),
               column_types={"start_date": DATE, "end_date": DATE, "orders": INT, "unique_customers": INT,
                             "repeat_customers_pct_total": DOUBLE, "repeat_purchase_revenue_amount": MONEY,
                             "repeat_purchase_revenue_pct_total": DOUBLE}),
    # The seller reports other connectors offer (issue 14). Event reports ask for the partition's day;
    # snapshot reports for the state at the request (today's partition only).
    # -- money and returns
    ReportType("GET_FBA_REIMBURSEMENTS_DATA", key=("reimbursement_id", "sku"), required=("reimbursement_id",),
               column_types=_REIMBURSEMENT_TYPES, columns=_REIMBURSEMENTS_COLUMNS, table="fba_reimbursements",
               history_days=EIGHTEEN_MONTHS),
    ReportType("GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", key=("order_id", "amazon_rma_id", "merchant_sku"),
               required=("order_id", "merchant_sku"), column_types=_MFN_RETURNS_TYPES, columns=_MFN_RETURNS_COLUMNS,
               table="mfn_returns"),
    # The ledger is per date like its summary: the partition's date as a whole UTC day.
    ReportType("GET_LEDGER_DETAIL_VIEW_DATA", window=CALENDAR,
               key=("date_and_time", "fnsku", "event_type", "reference_id", "fulfillment_center", "disposition"),
               required=("date_and_time", "fnsku", "event_type"), column_types=_LEDGER_DETAIL_TYPES,
               column_formats=_LEDGER_DATE, columns=_LEDGER_DETAIL_COLUMNS, table="ledger_detail",
               history_days=EIGHTEEN_MONTHS),
    ReportType("GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA", window=SNAPSHOT, key=_SKU_KEY, required=_SKU_KEY,
               column_types=_FEE_PREVIEW_TYPES, columns=_FEE_PREVIEW_COLUMNS,
               table="fba_fee_preview", request_interval_minutes=DAILY),
    # -- FBA shipments, removals, promotions, replacements (event windows: shipment or request date)
    ReportType("GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL", key=("amazon_order_id", "shipment_item_id"),
               required=("amazon_order_id", "shipment_item_id"), column_types=_FBA_SHIPMENTS_TYPES,
               columns=_FBA_SHIPMENTS_COLUMNS, table="fba_shipments"),
    ReportType("GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA", key=("order_id", "sku", "disposition"),
               required=("order_id", "sku"), column_types=_REMOVAL_ORDER_TYPES, columns=_REMOVAL_ORDER_COLUMNS,
               table="removal_orders"),
    ReportType("GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA",
               key=("order_id", "tracking_number", "sku", "disposition"), required=("order_id", "sku"),
               column_types=_REMOVAL_SHIPMENT_TYPES, columns=_REMOVAL_SHIPMENT_COLUMNS, table="removal_shipments"),
    ReportType("GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA",
               key=("amazon_order_id", "shipment_item_id", "item_promotion_id"),
               required=("amazon_order_id", "shipment_item_id"), column_types=_PROMOTION_TYPES,
               columns=_PROMOTION_COLUMNS, table="fba_promotions"),
    ReportType("GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_REPLACEMENT_DATA",
               key=("replacement_amazon_order_id", "sku"), required=("replacement_amazon_order_id", "sku"),
               column_types=_REPLACEMENT_TYPES, columns=_REPLACEMENT_COLUMNS, table="fba_replacements"),
    # -- FBA inventory snapshots
    ReportType("GET_FBA_INVENTORY_PLANNING_DATA", window=SNAPSHOT, key=_SKU_KEY, required=_SKU_KEY,
               column_types=_PLANNING_TYPES, columns=_PLANNING_COLUMNS,
               table="fba_inventory_planning", request_interval_minutes=DAILY),
    ReportType("GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT", window=SNAPSHOT,
               key=(PARTITION_COLUMN, "merchant_sku"), required=(PARTITION_COLUMN, "merchant_sku"),
               column_types=_RESTOCK_TYPES, columns=_RESTOCK_COLUMNS,
               table="restock_recommendations", request_interval_minutes=DAILY),
    ReportType("GET_STRANDED_INVENTORY_UI_DATA", window=SNAPSHOT, key=_SKU_KEY, required=_SKU_KEY,
               column_types=_STRANDED_TYPES, columns=_STRANDED_COLUMNS,
               table="stranded_inventory", request_interval_minutes=NEAR_REAL_TIME),
    ReportType("GET_AFN_INVENTORY_DATA_BY_COUNTRY", window=SNAPSHOT, key=(PARTITION_COLUMN, "seller_sku", "country"),
               required=_LISTING_KEY, column_types={"quantity_for_local_fulfillment": INT},
               columns=_AFN_BY_COUNTRY_COLUMNS, history_type=LEDGER_SUMMARY,
               table="afn_inventory_by_country", request_interval_minutes=NEAR_REAL_TIME),
    # -- orders: the seller's unshipped items now; archived orders by order date like the all-orders file
    ReportType("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", window=SNAPSHOT,
               key=(PARTITION_COLUMN, "order_id", "order_item_id"), required=(PARTITION_COLUMN, "order_id"),
               column_types=_UNSHIPPED_ORDERS_TYPES, columns=_UNSHIPPED_ORDERS_COLUMNS, table="unshipped_orders"),
    ReportType("GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE", key=("amazon_order_id", "sku"),
               required=("amazon_order_id",), key_severity="warn", column_types=_ORDER_TYPES,
               columns=_ALL_ORDERS_COLUMNS, table="archived_orders"),
    # -- listings snapshots (the all-listings file's columns, filtered by status)
    ReportType("GET_MERCHANT_LISTINGS_DATA", window=SNAPSHOT, key=_LISTING_KEY, required=_LISTING_KEY,
               column_types=_LISTINGS_TYPES, options=_CUSTOM, columns=_MERCHANT_LISTINGS_COLUMNS,
               table="active_listings"),
    ReportType("GET_MERCHANT_LISTINGS_INACTIVE_DATA", window=SNAPSHOT, key=_LISTING_KEY, required=_LISTING_KEY,
               column_types=_LISTINGS_TYPES, columns=_MERCHANT_LISTINGS_COLUMNS, table="inactive_listings"),
    ReportType("GET_MERCHANT_CANCELLED_LISTINGS_DATA", window=SNAPSHOT, key=_LISTING_KEY, required=_LISTING_KEY,
               column_types=_LISTINGS_TYPES, columns=_MERCHANT_LISTINGS_COLUMNS, table="cancelled_listings"),
    ReportType("GET_MERCHANTS_LISTINGS_FYP_REPORT", window=SNAPSHOT, key=_SKU_KEY, required=_SKU_KEY,
               column_types={"status_change_date": DATE}, columns=_SUPPRESSED_LISTINGS_COLUMNS,
               table="suppressed_listings"),
    # -- performance: feedback left in the window (Date written 12/01/26)
    ReportType("GET_SELLER_FEEDBACK_DATA", key=("order_id",), required=("order_id",),
               column_types={"date": DATE, "rating": INT}, column_formats=_FEEDBACK_DATE, columns=_FEEDBACK_COLUMNS,
               table="seller_feedback"),
)


# ------------------------------------------------------------------------------------------ plain rows
def _plain(names: Iterable[str], **facts: Any) -> tuple[ReportType, ...]:
    """Rows of types the project accepts without a described shape: no key check; a flat file's columns
    are typed by their header names (``NAME_TYPES``)."""
    return tuple(ReportType(name, **facts) for name in names)


_PLAIN: tuple[ReportType, ...] = (
    # current-state reports: no window, today's snapshot only
    *_plain(("GET_MERCHANT_LISTINGS_DATA_BACK_COMPAT", "GET_MERCHANT_LISTINGS_DATA_LITE",
             "GET_MERCHANT_LISTINGS_DATA_LITER", "GET_RESERVED_INVENTORY_DATA", "GET_REFERRAL_FEE_PREVIEW_REPORT",
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
        "GET_ORDER_REPORT_DATA_INVOICING", "GET_ORDER_REPORT_DATA_TAX", "GET_FLAT_FILE_ORDER_REPORT_DATA_INVOICING",
        "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING", "GET_FLAT_FILE_ORDER_REPORT_DATA_TAX",
        "GET_FLAT_FILE_PENDING_ORDERS_DATA", "GET_PENDING_ORDERS_DATA", "GET_CONVERGED_FLAT_FILE_PENDING_ORDERS_DATA",
        # returns, performance, finances
        "GET_FLAT_FILE_MFN_SKU_RETURN_ATTRIBUTES_REPORT", "GET_V1_SELLER_PERFORMANCE_REPORT",
        # FBA
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING", "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_TAX",
        "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_SALES_DATA", "GET_FBA_FULFILLMENT_CUSTOMER_TAXES_DATA",
        "GET_REMOTE_FULFILLMENT_ELIGIBILITY", "GET_FBA_FULFILLMENT_INBOUND_NONCOMPLIANCE_DATA",
        "GET_STRANDED_INVENTORY_LOADER_DATA", "GET_PRODUCT_EXCHANGE_DATA", "GET_FBA_OVERAGE_FEE_CHARGES_DATA",
        "GET_FBA_FULFILLMENT_LONGTERM_STORAGE_FEE_CHARGES_DATA", "GET_FBA_RECOMMENDED_REMOVAL_DATA",
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

# Types Amazon no longer serves, and since when (wire contract section 3): named so that a configuration
# listing one is told why, not that the name is unknown.
REMOVED: Mapping[str, str] = MappingProxyType({
    "GET_FBA_SNS_FORECAST_DATA": "Amazon removed it on 2025-12-11",
    "GET_FBA_SNS_PERFORMANCE_DATA": "Amazon removed it on 2025-12-11",
})
if set(REMOVED) & set(CATALOG):
    raise ValueError(f"report types both removed and in the catalog: {sorted(set(REMOVED) & set(CATALOG))}")


def closest(name: str) -> str | None:
    """The catalog's type nearest to a misspelt ``name`` (for "did you mean ...?"), or None."""
    found = difflib.get_close_matches(name, sorted(CATALOG), n=1, cutoff=0.6)
    return found[0] if found else None


def lookup(name: str) -> ReportType:
    """The row of ``name``; an unknown name raises ``UnknownReportTypeError`` naming the closest type."""
    row = CATALOG.get(name)
    if row is None and name in REMOVED:
        raise UnknownReportTypeError(f"{name!r} is no longer a report type: {REMOVED[name]}")
    if row is None:
        near = closest(name)
        hint = f"; did you mean {near}?" if near else ""
        raise UnknownReportTypeError(f"{name!r} is not a report type in the catalog{hint}")
    return row


def defaults() -> tuple[ReportType, ...]:
    """The project's default reports, in the order their assets are listed."""
    return tuple(row for row in CATALOG.values() if row.default_table is not None)
