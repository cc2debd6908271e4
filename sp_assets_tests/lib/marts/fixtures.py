"""Raw tables with a handful of rows each, so every mart's numbers can be computed by hand in a test.

Shared by the model tests (``test_models.py``) and the asset tests (``sp_assets_tests/defs/test_marts_assets.py``).
"""

from __future__ import annotations

from pathlib import Path

from sp_assets.lib.marts import Source
from sp_assets.lib.warehouse import Warehouse

FINANCIAL_EVENTS = """(posted_date DATE, posted_at TIMESTAMPTZ, event_type VARCHAR, amazon_order_id VARCHAR,
    seller_order_id VARCHAR, order_item_id VARCHAR, sku VARCHAR, quantity BIGINT, component_kind VARCHAR,
    component_type VARCHAR, amount DECIMAL(18,2), currency VARCHAR, event_key VARCHAR, raw VARCHAR)"""

# (day, event_type, sku, quantity, kind, type, amount) in USD; posted at noon UTC
US_EVENTS = [
    ("2026-10-05", "Shipment", "SKU-A", 2, "charge", "Principal", "20.00"),
    ("2026-10-05", "Shipment", "SKU-A", 2, "charge", "Tax", "1.60"),
    ("2026-10-05", "Shipment", "SKU-A", 2, "fee", "Commission", "-3.00"),
    ("2026-10-05", "Shipment", "SKU-A", 2, "fee", "FBAPerUnitFulfillmentFee", "-6.00"),
    ("2026-10-05", "Shipment", "SKU-A", 2, "promotion", "PromotionMetaDataDefinitionValue", "-2.00"),
    ("2026-10-05", "Shipment", "SKU-A", 2, "tax_withheld", "MarketplaceFacilitatorTax-Principal", "-1.60"),
    ("2026-10-05", "Refund", "SKU-A", 1, "charge", "Principal", "-10.00"),
    ("2026-10-05", "Refund", "SKU-A", 1, "fee", "Commission", "1.50"),
    ("2026-10-05", "ServiceFee", None, None, "fee", "Subscription", "-39.99"),
    ("2026-10-05", "Adjustment", "SKU-B", 1, "adjustment", "REVERSAL_REIMBURSEMENT", "12.00"),
    ("2026-10-06", "Shipment", "SKU-A", 1, "charge", "Principal", "10.00"),
]
DE_EVENTS = [
    ("2026-10-05", "Shipment", "SKU-D", 3, "charge", "Principal", "30.00"),
    ("2026-10-05", "Shipment", "SKU-D", 3, "fee", "Commission", "-4.50"),
]
US_EVENTS_TOTAL = "-17.49"  # every US event above: the closed settlement's total


def create_raw_tables(warehouse: Warehouse, *, jp_events: bool = False) -> None:
    """us and de financial events, groups, settlements, storage fees, inventory, orders and returns."""
    with warehouse.connect() as db:
        for code in ("us", "de", "jp"):
            db.execute(f"CREATE SCHEMA IF NOT EXISTS {code}")
            db.execute(f"CREATE TABLE {code}.financial_events {FINANCIAL_EVENTS}")
        for code, events, currency in (("us", US_EVENTS, "USD"), ("de", DE_EVENTS, "EUR"),
                                       *([("jp", [("2026-10-05", "Shipment", "SKU-J", 1, "charge", "Principal",
                                                   "1000")], "JPY")] if jp_events else [])):
            for n, (day, event_type, sku, quantity, kind, ctype, amount) in enumerate(events):
                db.execute(f"INSERT INTO {code}.financial_events VALUES (?, ?::TIMESTAMPTZ, ?, 'O-1', NULL, NULL, ?, ?,"
                           " ?, ?, ?, ?, ?, '{{}}')",
                           [day, f"{day} 12:00:00+00", event_type, sku, quantity, kind, ctype, amount, currency,
                            f"{code}-{n}"])
        db.execute("""CREATE TABLE us.financial_event_groups (financial_event_group_id VARCHAR,
            processing_status VARCHAR, fund_transfer_status VARCHAR, original_total_amount DECIMAL(18,2),
            original_total_currency VARCHAR, converted_total_amount DECIMAL(18,2), converted_total_currency VARCHAR,
            beginning_balance_amount DECIMAL(18,2), fund_transfer_date TIMESTAMPTZ, trace_id VARCHAR,
            account_tail VARCHAR, group_start TIMESTAMPTZ, group_end TIMESTAMPTZ)""")
        db.execute(f"""INSERT INTO us.financial_event_groups VALUES
            ('G1', 'Closed', 'Succeeded', {US_EVENTS_TOTAL}, 'USD', NULL, NULL, 0, NULL, NULL, NULL,
             '2026-10-01 00:00:00+00', '2026-10-15 00:00:00+00'),
            ('G2', 'Open', NULL, 0, 'USD', NULL, NULL, 0, NULL, NULL, NULL, '2026-10-15 00:00:00+00', NULL)""")
        db.execute("""CREATE TABLE us.settlements (settlement_id VARCHAR, row_number BIGINT,
            settlement_start_date TIMESTAMPTZ, settlement_end_date TIMESTAMPTZ, deposit_date TIMESTAMPTZ,
            total_amount DECIMAL(18,2), currency VARCHAR, amount DECIMAL(18,2))""")
        db.execute(f"""INSERT INTO us.settlements VALUES
            ('G1', 1, '2026-10-01 00:00:00+00', '2026-10-15 00:00:00+00', '2026-10-16 00:00:00+00',
             {US_EVENTS_TOTAL}, 'USD', NULL),
            ('G1', 2, NULL, NULL, NULL, NULL, NULL, 20.00)""")
        # storage: 6.00 + 4.00 for FN-A (SKU-A by the ledger) in October: 1000 cents over 31 days
        db.execute("""CREATE TABLE us.storage_fees (partition_date DATE, asin VARCHAR, fnsku VARCHAR,
            fulfillment_center VARCHAR, month_of_charge DATE, estimated_monthly_storage_fee DECIMAL(18,2),
            currency VARCHAR)""")
        db.execute("""INSERT INTO us.storage_fees VALUES
            ('2026-10-01', 'B1', 'FN-A', 'PHX3', '2026-10-01', 6.00, 'USD'),
            ('2026-10-01', 'B1', 'FN-A', 'ONT8', '2026-10-01', 4.00, 'USD')""")
        db.execute("CREATE TABLE us.ledger_summary (partition_date DATE, date DATE, fnsku VARCHAR, msku VARCHAR)")
        db.execute("INSERT INTO us.ledger_summary VALUES ('2026-10-01', '2026-10-01', 'FN-A', 'SKU-A')")
        db.execute("""CREATE TABLE us.fba_inventory (partition_date DATE, sku VARCHAR, fnsku VARCHAR,
            afn_fulfillable_quantity BIGINT, afn_reserved_quantity BIGINT, afn_inbound_working_quantity BIGINT,
            afn_inbound_shipped_quantity BIGINT, afn_inbound_receiving_quantity BIGINT)""")
        db.execute("""INSERT INTO us.fba_inventory VALUES ('2026-10-10', 'SKU-A', 'FN-A', 14, 4, 1, 2, 3),
            ('2026-10-10', 'SKU-Z', 'FN-Z', 0, 0, NULL, NULL, NULL)""")
        db.execute("""CREATE TABLE us.order_items (amazon_order_id VARCHAR, order_item_id VARCHAR,
            partition_date DATE, order_status VARCHAR, seller_sku VARCHAR, quantity_ordered INTEGER)""")
        db.execute("""INSERT INTO us.order_items VALUES
            ('O-1', '1', '2026-10-10', 'Shipped', 'SKU-A', 7), ('O-2', '1', '2026-10-04', 'Shipped', 'SKU-A', 7),
            ('O-3', '1', '2026-09-15', 'Shipped', 'SKU-A', 16), ('O-4', '1', '2026-10-09', 'Canceled', 'SKU-A', 100)""")
        db.execute("""CREATE TABLE us.customer_returns (partition_date DATE, return_date TIMESTAMPTZ, order_id VARCHAR,
            sku VARCHAR, quantity BIGINT, reason VARCHAR, license_plate_number VARCHAR)""")
        db.execute("""INSERT INTO us.customer_returns VALUES
            ('2026-10-12', NULL, 'O-1', 'SKU-A', 2, 'DEFECTIVE', 'L1'), ('2026-10-13', NULL, 'O-2', 'SKU-A', 1, 'DEFECTIVE', 'L2'),
            ('2026-10-13', NULL, 'O-2', 'SKU-A', 1, 'UNWANTED_ITEM', 'L3'),
            ('2026-10-14', NULL, 'O-2', 'SKU-A', 1, 'NOT_AS_DESCRIBED', 'L4'),
            ('2026-10-14', NULL, 'O-2', 'SKU-A', 1, 'DAMAGED_BY_CARRIER', 'L5')""")


def sources(codes: tuple[str, ...] = ("us", "de", "jp")) -> dict[str, list[Source]]:
    """Every input read from the table of its default name in each marketplace."""
    names = ("financial_events", "financial_event_groups", "order_items", "fba_inventory", "customer_returns",
             "settlements", "storage_fees", "ledger_summary")
    return {name: [Source(code, name) for code in codes] for name in names}


def write_fx_csv(path: Path, text: str = "date,currency,rate\n2026-10-01,EUR,1.10\n2026-10-06,EUR,1.20\n") -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# Two seller accounts both selling in the US: ``acme_us`` holds the us tables above, ``brand_us`` the same
# rows with every amount doubled and 7 more units available, so a mart that mixed the accounts' rows (a
# join or a grouping without ``account``) would show numbers that belong to neither.
ACCOUNT_SCHEMAS = ("acme_us", "brand_us")
US_TABLES = ("financial_events", "financial_event_groups", "settlements", "storage_fees", "ledger_summary",
             "fba_inventory", "order_items", "customer_returns")


def create_account_tables(warehouse: Warehouse) -> None:
    """``acme_us.*`` and ``brand_us.*`` (see ``ACCOUNT_SCHEMAS``), copied from the us tables."""
    create_raw_tables(warehouse)
    with warehouse.connect() as db:
        for schema in ACCOUNT_SCHEMAS:
            db.execute(f"CREATE SCHEMA {schema}")
            for table in US_TABLES:
                db.execute(f"CREATE TABLE {schema}.{table} AS SELECT * FROM us.{table}")
        db.execute("UPDATE brand_us.financial_events SET amount = amount * 2")
        db.execute("UPDATE brand_us.financial_event_groups SET original_total_amount = original_total_amount * 2")
        db.execute("UPDATE brand_us.settlements SET total_amount = total_amount * 2")
        db.execute("UPDATE brand_us.fba_inventory SET afn_fulfillable_quantity = afn_fulfillable_quantity + 7")
