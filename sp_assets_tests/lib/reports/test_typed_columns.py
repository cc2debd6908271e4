"""Every report in the catalog loads typed columns: declared ones, and the rest typed by their header
names (``catalog.NAME_TYPES``), parsed by the row's text conventions, nothing lost to a wrong guess.

The documents are the sandbox's own generators (every flat file it serves, and both settlement
files), loaded with ``Warehouse.load_delimited_file`` exactly as the report assets call it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import pytest

from sp_assets.lib.marketplaces import MARKETPLACES
from sp_assets.lib.reports import catalog
from sp_assets.lib.textformats import RAW_SUFFIX
from sp_assets.lib.warehouse import Warehouse
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.seller import SyntheticSeller

SEED = 7
# A column whose name says money, a count or a date/time (a blunt word scan, independent of the rule
# under test), unless its last word says it is a kind, an identifier or a unit of measure.
_TYPED_WORD = re.compile(r"(^|_)(price|amount|fee|charge|cost|total|tax|discount|quantity|qty|units|count|date|time)"
                         r"(_|$)")
_TEXT_WORD = re.compile(r"(^|_)(id|type|units|status|description|reason|designation|number)$|^(is|eligible|qualifies)_")

Writer = Callable[[SyntheticSeller, str, TextIO], object]


def _flat_file(report_type: str) -> Writer:
    def write(seller: SyntheticSeller, marketplace_id: str, out: TextIO) -> object:
        now = datetime.now(UTC)
        row = catalog.lookup(report_type)
        spec = docs.DocumentSpec(report_type, (marketplace_id,), now - timedelta(days=40), now - timedelta(days=10),
                                 dict(row.default_options), now)
        return docs.FLAT_FILE_GENERATORS[report_type](seller, spec, out)
    return write


def _settlement(v2: bool) -> Writer:
    def write(seller: SyntheticSeller, marketplace_id: str, out: TextIO) -> object:
        index = int((datetime.now(UTC) - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD) - 2
        return docs.write_settlement(seller, marketplace_id, index, out, v2)
    return write


SERVED: dict[str, Writer] = {
    **{name: _flat_file(name) for name in docs.FLAT_FILE_GENERATORS},
    catalog.SETTLEMENT_V2: _settlement(v2=True),
    catalog.SETTLEMENT_V1: _settlement(v2=False),
}


@pytest.fixture(scope="module")
def seller() -> SyntheticSeller:
    return SyntheticSeller(seed=SEED, orders_per_day=20)


@pytest.mark.parametrize("code", ["us", "de", "jp"])
@pytest.mark.parametrize("report_type", sorted(SERVED))
def test_every_served_flat_file_loads_typed_with_nothing_raw(report_type: str, code: str, seller: SyntheticSeller,
                                                             tmp_path: Path) -> None:
    marketplace = next(m for m in MARKETPLACES if m.code == code)
    out = io.StringIO()
    SERVED[report_type](seller, marketplace.marketplace_id, out)
    path = tmp_path / "document.tsv"
    path.write_text(out.getvalue(), encoding="utf-8")
    wh = Warehouse(tmp_path / "warehouse.duckdb")

    row = catalog.lookup(report_type)
    text_format, column_formats = row.text_formats(code)
    result = wh.load_delimited_file(code, "report", path, column_types=row.column_types, text_format=text_format,
                                    column_formats=column_formats, name_types=row.name_types)

    columns = wh.columns(code, "report")
    assert result.inserted > 0
    untyped = [name for name, sql in columns.items()
               if sql == "VARCHAR" and _TYPED_WORD.search(name) and not _TEXT_WORD.search(name)]
    assert untyped == [], f"{report_type} ({code}): money/count/date columns left text"
    assert not result.unparsed and not [name for name in columns if name.endswith(RAW_SUFFIX)], report_type
    for key in ("sku", "seller_sku", "asin", "order_id", "amazon_order_id", "fnsku", "settlement_id"):
        assert columns.get(key, "VARCHAR") == "VARCHAR", f"{report_type}: identifier {key} must stay text"


def test_a_report_known_only_by_name_gets_typed_columns_in_german_conventions(tmp_path: Path) -> None:
    """A catalog row with no declared columns, written in the marketplace's conventions (Germany:
    ``1.234,56``, ``02.01.2026``): amounts, counts, dates and times are typed from the header, an id
    that looks numeric stays text, a US-written amount is kept raw and counted, and a table loaded
    before typing (every column text) is converted in place."""
    row = catalog.lookup("GET_DATE_RANGE_FINANCIAL_TRANSACTION_DATA")
    assert not row.columns and not row.column_types and row.localized
    path = tmp_path / "date-range.tsv"
    path.write_text("\n".join("\t".join(line) for line in (
        ("date/time", "settlement id", "type", "order id", "sku", "quantity", "product sales tax", "selling fees",
         "fba fees", "total", "posted date"),
        ("02.01.2026 08:00:00 UTC", "1234567", "Order", "302-1-2", "00042", "2", "3,80", "-1.234,56", "-2,10",
         "1.017,14", "03.01.2026"),
        ("03.01.2026 09:30:00 UTC", "1234567", "Refund", "302-1-3", "00043", "1", "0,00", "1,50", "0,00",
         "12.50", "04.01.2026"),
    )) + "\n", encoding="utf-8")
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    wh.load_delimited_file("de", "transactions", path, constants={"load": "before typing"})  # every column text

    text_format, column_formats = row.text_formats("de")
    result = wh.load_delimited_file("de", "transactions", path, column_types=row.column_types,
                                    text_format=text_format, column_formats=column_formats,
                                    name_types=row.name_types, constants={"load": "typed"})

    columns = wh.columns("de", "transactions")
    assert {name: columns[name] for name in ("date_time", "quantity", "product_sales_tax", "selling_fees",
                                             "fba_fees", "total", "posted_date", "sku", "settlement_id",
                                             "order_id", "type")} == {
        "date_time": "TIMESTAMP WITH TIME ZONE", "quantity": "BIGINT", "product_sales_tax": "DECIMAL(18,2)",
        "selling_fees": "DECIMAL(18,2)", "fba_fees": "DECIMAL(18,2)", "total": "DECIMAL(18,2)",
        "posted_date": "DATE", "sku": "VARCHAR", "settlement_id": "VARCHAR", "order_id": "VARCHAR", "type": "VARCHAR"}
    rows = wh.query("SELECT load, date_time, sku, quantity, selling_fees, total, total__raw, posted_date "
                    "FROM de.transactions ORDER BY load, date_time").rows()
    first = (datetime(2026, 1, 2, 8, tzinfo=UTC), "00042", 2, Decimal("-1234.56"), Decimal("1017.14"), None,
             date(2026, 1, 3))
    second = (datetime(2026, 1, 3, 9, 30, tzinfo=UTC), "00043", 1, Decimal("1.50"), None, "12.50", date(2026, 1, 4))
    assert [r[1:] for r in rows] == [first, second, first, second]
    assert [r[0] for r in rows] == ["before typing"] * 2 + ["typed"] * 2
    # the US-written 12.50 is refused, not read as 1250: once in the migrated rows, once in this load
    assert dict(result.unparsed) == {"total": 2}
