"""The marts: one ``TableSpec`` per model (grain, key, typed and described columns) and what it reads.

The SQL of a model is ``models/<table>.sql`` beside this module: one SELECT that returns exactly the
spec's columns. It reads only the runner's stand-ins for the raw tables (``in_<input>``, see
``INPUTS``), the other marts (``marts.<table>``) and ``mart_settings`` (the reporting currency), so a
model never depends on which marketplaces are configured or which optional report is loaded.
Column types live here, not in the SQL: the runner creates each table from its spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sp_assets.lib.tablespec import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    MONEY,
    TIMESTAMPTZ,
    VARCHAR,
    Column,
    TableSpec,
)

MODELS_DIR = Path(__file__).parent / "models"
# The schema is MARTS_SCHEMA (lib/warehouse/sql.py), reserved there so no union view ever reads it.
NO_SKU = "(no sku)"  # the SKU of money that belongs to no SKU (service fees, subscription, storage charged)


# --------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Input:
    """A raw table a model reads, as ``in_<name>``: every configured marketplace's copy, UNION ALL, with
    ``account`` and ``marketplace`` columns (the ``amazon.*`` views' values for the copy's schema); the declared columns only, cast to their types (a column a copy lacks
    is NULL); no copy at all is an empty relation of the same shape, so the model still runs."""

    name: str
    columns: tuple[tuple[str, str], ...]


def _input(name: str, **columns: str) -> Input:
    return Input(name, tuple(columns.items()))


INPUTS: dict[str, Input] = {i.name: i for i in (
    # <code>.financial_events and <code>.financial_event_groups: the finances domain (Finances API v0)
    _input("financial_events", posted_date=DATE, posted_at=TIMESTAMPTZ, event_type=VARCHAR,
           amazon_order_id=VARCHAR, sku=VARCHAR, quantity=BIGINT, component_kind=VARCHAR,
           component_type=VARCHAR, amount=MONEY, currency=VARCHAR, event_key=VARCHAR),
    _input("financial_event_groups", financial_event_group_id=VARCHAR, processing_status=VARCHAR,
           fund_transfer_status=VARCHAR, original_total_amount=MONEY, original_total_currency=VARCHAR,
           group_start=TIMESTAMPTZ, group_end=TIMESTAMPTZ),
    _input("order_items", partition_date=DATE, amazon_order_id=VARCHAR, order_item_id=VARCHAR,
           order_status=VARCHAR, seller_sku=VARCHAR, quantity_ordered=BIGINT),
    # GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA (default table fba_inventory): one snapshot per day
    _input("fba_inventory", partition_date=DATE, sku=VARCHAR, fnsku=VARCHAR, afn_fulfillable_quantity=BIGINT,
           afn_reserved_quantity=BIGINT, afn_inbound_working_quantity=BIGINT,
           afn_inbound_shipped_quantity=BIGINT, afn_inbound_receiving_quantity=BIGINT),
    # GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA (default table customer_returns)
    _input("customer_returns", partition_date=DATE, order_id=VARCHAR, sku=VARCHAR, quantity=BIGINT,
           reason=VARCHAR),
    # GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 (default table settlements)
    _input("settlements", settlement_id=VARCHAR, settlement_start_date=TIMESTAMPTZ,
           settlement_end_date=TIMESTAMPTZ, deposit_date=TIMESTAMPTZ, total_amount=MONEY, currency=VARCHAR),
    # GET_FBA_STORAGE_FEE_CHARGES_DATA (monthly; only when configured)
    _input("storage_fees", fnsku=VARCHAR, month_of_charge=DATE, estimated_monthly_storage_fee=MONEY,
           currency=VARCHAR),
    # GET_LEDGER_SUMMARY_VIEW_DATA: its FNSKU -> MSKU pairs map the storage report's FNSKUs to SKUs
    _input("ledger_summary", fnsku=VARCHAR, msku=VARCHAR),
)}


# --------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class Model:
    """One mart: its table, the column that is its day (daily grain: built per partition window), what
    it reads (raw inputs and other marts), and whether it converts money with ``marts.fx_rates``."""

    spec: TableSpec
    inputs: tuple[str, ...]
    marts: tuple[str, ...] = ()
    day_column: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def sql_path(self) -> Path:
        return MODELS_DIR / f"{self.name}.sql"

    def sql(self) -> str:
        return self.sql_path.read_text(encoding="utf-8")


def _c(name: str, sql_type: str, description: str, nullable: bool = True) -> Column:
    return Column(name, sql_type, nullable=nullable, description=description)


_MONEY_PARTS = (
    ("gross_sales", "charges of shipments (principal, tax, shipping, gift wrap)"),
    ("promotions", "promotion discounts of shipments (negative)"),
    ("referral_fees", "Amazon's referral fee (Commission; negative)"),
    ("fba_fees", "FBA fulfilment fees (FBA...; negative)"),
    ("other_fees", "every other fee and service fee (negative)"),
    ("taxes_withheld", "tax Amazon collects and remits as marketplace facilitator (negative)"),
    ("refunds", "refunds, guarantee claims and chargebacks, their fee refunds included"),
    ("reimbursements", "adjustments: FBA inventory reimbursements and other adjustments"),
    ("net_proceeds", "the sum of every financial event: what Amazon pays out for the row"),
    ("storage_fees", "the storage report's monthly estimate spread evenly over the month's days; "
                     "informational, NOT in net_proceeds (Amazon charges storage as a service fee)"),
)
ACCOUNT = _c("account", VARCHAR, "the seller account, the amazon.* views' account column (the accounts: "
                               "name; default with one account)", nullable=False)
FX_COLUMNS = (
    _c("reporting_currency", VARCHAR, "the configured reporting_currency", nullable=False),
    _c("fx_rate", DOUBLE, "units of reporting currency per unit of currency, the latest rate of "
                          "marts.fx_rates on or before the day; NULL (and a failed check) when there is none"),
)


def _money(suffix: str, where: str) -> tuple[Column, ...]:
    return tuple(_c(f"{name}{suffix}", MONEY, f"{text} ({where})") for name, text in _MONEY_PARTS)


SKU_DAILY_PROFIT = Model(
    TableSpec(
        name="sku_daily_profit",
        description="Grain: one row per account, marketplace, SKU and day (the marketplace's local day the money "
                    "was posted). From the financial events (units, sales, fees, refunds, reimbursements) "
                    "and the storage fee report; in the marketplace's currency and the reporting currency.",
        columns=(
            ACCOUNT,
            _c("marketplace", VARCHAR, "marketplace code (us, de, ...)", nullable=False),
            _c("day", DATE, "posted day, the marketplace's local day", nullable=False),
            _c("sku", VARCHAR, f"seller SKU; {NO_SKU!r} for money of no SKU", nullable=False),
            _c("currency", VARCHAR, "the marketplace's currency"),
            _c("units", BIGINT, "units shipped (quantity of the shipments' principal)"),
            *_money("", "marketplace currency"),
            *FX_COLUMNS,
            *_money("_rc", "reporting currency"),
        ),
        primary_key=("account", "marketplace", "day", "sku"),
        partition_column="day",
    ),
    inputs=("financial_events", "storage_fees", "ledger_summary", "fba_inventory"),
    marts=("fx_rates",),
    day_column="day",
)

MARKETPLACE_DAILY = Model(
    TableSpec(
        name="marketplace_daily",
        description="Grain: one row per account, marketplace and day: marts.sku_daily_profit summed over SKUs, in "
                    "the marketplace's currency and the reporting currency.",
        columns=(
            ACCOUNT,
            _c("marketplace", VARCHAR, "marketplace code", nullable=False),
            _c("day", DATE, "posted day, the marketplace's local day", nullable=False),
            _c("currency", VARCHAR, "the marketplace's currency"),
            _c("skus", BIGINT, "SKUs with money or units that day"),
            _c("units", BIGINT, "units shipped"),
            *_money("", "marketplace currency"),
            *FX_COLUMNS,
            *_money("_rc", "reporting currency"),
        ),
        primary_key=("account", "marketplace", "day"),
        partition_column="day",
    ),
    inputs=(),
    marts=("sku_daily_profit",),
    day_column="day",
)

INVENTORY_COVER = Model(
    TableSpec(
        name="inventory_cover",
        description="Grain: one row per account, marketplace, SKU and day of an FBA inventory snapshot (fba_inventory): "
                    "stock, demand of the last 7 and 30 days (order_items, cancelled excluded) and days of cover.",
        columns=(
            ACCOUNT,
            _c("marketplace", VARCHAR, "marketplace code", nullable=False),
            _c("day", DATE, "the snapshot's local day", nullable=False),
            _c("sku", VARCHAR, "seller SKU", nullable=False),
            _c("available", BIGINT, "afn_fulfillable_quantity"),
            _c("inbound", BIGINT, "working + shipped + receiving inbound units"),
            _c("reserved", BIGINT, "afn_reserved_quantity"),
            _c("avg_daily_units_7d", DOUBLE, "units ordered in the 7 days ending that day, / 7"),
            _c("avg_daily_units_30d", DOUBLE, "units ordered in the 30 days ending that day, / 30"),
            _c("days_of_cover", DOUBLE, "available / avg_daily_units_7d; NULL without sales in 7 days"),
            _c("stock_out", BOOLEAN, "available is 0"),
        ),
        primary_key=("account", "marketplace", "day", "sku"),
        partition_column="day",
    ),
    inputs=("fba_inventory", "order_items"),
    day_column="day",
)

RETURNS = Model(
    TableSpec(
        name="returns",
        description="Grain: one row per account, marketplace, SKU and month: units sold (order_items by purchase day, "
                    "cancelled excluded), units returned (customer_returns by return day), rate, top reasons.",
        columns=(
            ACCOUNT,
            _c("marketplace", VARCHAR, "marketplace code", nullable=False),
            _c("month", DATE, "first day of the month", nullable=False),
            _c("sku", VARCHAR, "seller SKU", nullable=False),
            _c("units_sold", BIGINT, "units ordered in the month"),
            _c("units_returned", BIGINT, "units returned in the month"),
            _c("return_rate", DOUBLE, "units_returned / units_sold; NULL when nothing was sold"),
            _c("top_return_reasons", VARCHAR, "the three most frequent reasons, 'REASON (units)', most first"),
        ),
        primary_key=("account", "marketplace", "month", "sku"),
    ),
    inputs=("order_items", "customer_returns"),
)

SETTLEMENT_RECONCILIATION = Model(
    TableSpec(
        name="settlement_reconciliation",
        description="Grain: one row per financial event group (= settlement): the settlement report's total, "
                    "the sum of the financial events posted in the group's period, the difference.",
        columns=(
            ACCOUNT,
            _c("marketplace", VARCHAR, "marketplace code", nullable=False),
            _c("settlement_id", VARCHAR, "financial_event_group_id (the settlement id)", nullable=False),
            _c("processing_status", VARCHAR, "Open or Closed"),
            _c("group_start", TIMESTAMPTZ, "the group's period start"),
            _c("group_end", TIMESTAMPTZ, "the group's period end (exclusive)"),
            _c("currency", VARCHAR, "the group's currency"),
            _c("group_total", MONEY, "original_total_amount of the group (Finances API)"),
            _c("settlement_total", MONEY, "total-amount of the settlement report; NULL when not loaded"),
            _c("events_total", MONEY, "sum of the financial events posted in [group_start, group_end)"),
            _c("events", BIGINT, "financial event components summed"),
            _c("difference", MONEY, "settlement_total - events_total; must be 0 for a closed group"),
        ),
        primary_key=("account", "marketplace", "settlement_id"),
    ),
    inputs=("financial_event_groups", "financial_events", "settlements"),
)

FX_RATES = TableSpec(
    name="fx_rates",
    description="Exchange rates the user supplies (fx_rates CSV): a rate holds from its date until the "
                "currency's next rate.",
    columns=(
        _c("date", DATE, "first day the rate applies", nullable=False),
        _c("currency", VARCHAR, "ISO code of the converted currency", nullable=False),
        _c("rate", DOUBLE, "units of reporting currency per unit of currency", nullable=False),
    ),
    primary_key=("date", "currency"),
)

MODELS: dict[str, Model] = {m.name: m for m in (
    SKU_DAILY_PROFIT, MARKETPLACE_DAILY, INVENTORY_COVER, RETURNS, SETTLEMENT_RECONCILIATION)}
