"""snake_case is the one normalization of Amazon names; safe_identifier guards SQL interpolation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sp_assets.lib.naming import NamingError, quote_identifier, safe_identifier, snake_case


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AmazonOrderId", "amazon_order_id"),
        ("amazon-order-id", "amazon_order_id"),
        ("Starting Warehouse Balance", "starting_warehouse_balance"),
        ("ASIN", "asin"),
        ("SellerSKU", "seller_sku"),
        ("fnSku", "fn_sku"),
        ("item-price", "item_price"),
        ("ItemPrice.Amount", "item_price_amount"),
        ("Quantity Price 1", "quantity_price_1"),
        ("\ufeffamazon-order-id", "amazon_order_id"),  # a byte-order mark on the first header
        ("  --sku--  ", "sku"),
        ("Price (USD)", "price_usd"),
        ("SKUList", "sku_list"),
        ("IsISPU", "is_ispu"),
        ("numberOfItemsShipped", "number_of_items_shipped"),
        ("afn-fulfillable-quantity", "afn_fulfillable_quantity"),
        ("Über-Menge", "uber_menge"),
        ("already_snake_case", "already_snake_case"),
    ],
)
def test_snake_case_examples(raw: str, expected: str) -> None:
    assert snake_case(raw) == expected


def test_snake_case_is_idempotent() -> None:
    for raw in ("AmazonOrderId", "Quantity Price 1", "SellerSKU", "ItemPrice.Amount"):
        once = snake_case(raw)
        assert snake_case(once) == once


@pytest.mark.parametrize("raw", ["", "   ", "---", "注文番号"])
def test_snake_case_rejects_names_with_nothing_left(raw: str) -> None:
    with pytest.raises(NamingError, match="cannot derive a column name"):
        snake_case(raw)


def test_snake_case_rejects_non_strings() -> None:
    with pytest.raises(NamingError, match="must be a string"):
        snake_case(12)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["us", "orders", "_sp_assets", "quantity_price_1", "in"])
def test_safe_identifier_accepts(name: str) -> None:
    assert safe_identifier(name) == name


@pytest.mark.parametrize("name", ["", "US", "orders;drop", 'us"."x', "a-b", "a b", "x" * 121, None])
def test_safe_identifier_rejects_with_the_argument_named(name: object) -> None:
    with pytest.raises(NamingError, match=r"invalid schema name .*\[a-z0-9_\]"):
        safe_identifier(name, "schema")  # type: ignore[arg-type]


def test_quote_identifier_quotes_reserved_words() -> None:
    assert quote_identifier("in") == '"in"'
    with pytest.raises(NamingError):
        quote_identifier('in"; DROP TABLE x; --')


def test_qualified_name_lets_a_reserved_marketplace_code_name_a_schema() -> None:
    """India's code ``in`` is an SQL keyword: unquoted, ``select ... from in.orders`` is a syntax error."""
    import duckdb

    from sp_assets.lib.naming import qualified_name

    assert qualified_name("in", "orders") == '"in"."orders"'
    with duckdb.connect() as conn:
        conn.execute('create schema "in"')
        conn.execute(f"create table {qualified_name('in', 'orders')} (id integer)")
        assert conn.execute(f"select count(*) from {qualified_name('in', 'orders')}").fetchone() == (0,)
        with pytest.raises(duckdb.ParserException):
            conn.execute("select count(*) from in.orders")
    with pytest.raises(NamingError):
        qualified_name("in", 'orders"; drop table x; --')


# ------------------------------------------------------------------------------------------ every schema field
REPORT_SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "sp-api-models" / "report-schemas"
WORD = re.compile(r"[a-z][a-z0-9]*")


def _property_names(node: object) -> set[str]:
    """Every property name declared anywhere in a JSON schema (nested objects, items, definitions)."""
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                names.update(value)
            names |= _property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _property_names(value)
    return names


def _schemas() -> list[Path]:
    found = sorted(REPORT_SCHEMAS.glob("*.json"))
    if not found:
        pytest.skip(f"no report schemas in {REPORT_SCHEMAS}")
    return found


def test_every_report_schema_field_name_follows_the_rule() -> None:
    """The rule, on every property of Amazon's JSON report schemas: each word starts with a letter and
    is never a lone letter (digits stay attached to the letters before them: ``orderedProductSalesB2B``
    -> ``ordered_product_sales_b2b``, ``addressLine1`` -> ``address_line1``, never ``b2_b``); no letter
    or digit is lost; and no two fields of one schema share a column name."""
    checked = 0
    for path in _schemas():
        names = _property_names(json.loads(path.read_text(encoding="utf-8")))
        columns: dict[str, str] = {}
        for name in sorted(names):
            column = snake_case(name)
            words = column.split("_")
            assert all(WORD.fullmatch(w) and len(w) > 1 for w in words), f"{path.name}: {name} -> {column}"
            assert column.replace("_", "") == re.sub(r"[^0-9a-z]", "", name.lower()), f"{name} -> {column}"
            assert columns.setdefault(column, name) == name, f"{path.name}: {name} and {columns[column]} -> {column}"
            checked += 1
    assert checked > 300


@pytest.mark.parametrize(("raw", "expected"), [
    ("orderedProductSalesB2B", "ordered_product_sales_b2b"), ("unitsOrderedB2B", "units_ordered_b2b"),
    ("GST_MTR_B2C", "gst_mtr_b2c"), ("b2bSalesRank", "b2b_sales_rank"), ("B2BSales", "b2b_sales"),
    ("aged90PlusDaysSellableInventoryCost", "aged90_plus_days_sellable_inventory_cost"),
    ("p70ForecastUnits", "p70_forecast_units"), ("addressLine1", "address_line1"), ("ASIN1", "asin1"),
])
def test_abbreviations_with_digits_stay_one_word(raw: str, expected: str) -> None:
    assert snake_case(raw) == expected
