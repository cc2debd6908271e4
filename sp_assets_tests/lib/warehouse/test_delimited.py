"""Loading a flat-file report with DuckDB (``delimited``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sp_assets.lib.tablespec import (
    BIGINT,
    DATE,
    MONEY,
    TIMESTAMPTZ,
)
from sp_assets.lib.textformats import ISO_8601, TextFormat
from sp_assets.lib.warehouse import (
    Warehouse,
    WarehouseError,
    WriteResult,
)
from sp_assets_tests.lib.warehouse.support import (
    DAY,
    NEXT_DAY,
    assert_other_process_can_open,
)

BOTH_ENGINES = True  # every test taking ``wh`` runs on a DuckDB file and on DuckLake (conftest.py)


def write_tsv(path: Path, header: list[str], rows: list[list[str]], newline: str = "\n") -> Path:
    lines = ["\t".join(header), *("\t".join(row) for row in rows)]
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


def test_load_tsv_with_constants_and_partition_replace(wh: Warehouse, tmp_path: Path) -> None:
    tsv = write_tsv(
        tmp_path / "report.tsv",
        ["\ufeffamazon-order-id", "Item Price", "product-name"],
        [["A1", "11.01", 'Widget 5" wide'], ["A2", "3.50", "Gadget"]],
        newline="\r\n",
    )
    load = {
        "constants": {"report_id": "R1", "partition_date": DAY},
        "replace_where": {"partition_date": DAY},
        "column_types": {"item_price": MONEY},
        "partition_start": DAY,
        "partition_end": NEXT_DAY,
    }
    first = wh.load_delimited_file("us", "flat_orders", tsv, **load)
    second = wh.load_delimited_file("us", "flat_orders", tsv, **load)

    assert (first.inserted, first.created_table) == (2, True)
    assert (second.inserted, second.deleted) == (2, 2)
    assert wh.columns("us", "flat_orders") == {
        "amazon_order_id": "VARCHAR",
        "item_price": "DECIMAL(18,2)",
        "product_name": "VARCHAR",
        "report_id": "VARCHAR",
        "partition_date": "DATE",
    }
    rows = wh.query("SELECT * FROM us.flat_orders ORDER BY 1").rows()
    assert rows == [
        ("A1", Decimal("11.01"), 'Widget 5" wide', "R1", DAY),
        ("A2", Decimal("3.50"), "Gadget", "R1", DAY),
    ]
    assert wh.loads("us", "flat_orders").get_column("partition_start").to_list() == ["2024-01-02"] * 2
    assert wh.query("SELECT count(*) FROM amazon.flat_orders WHERE marketplace = 'us'").item() == 2


def test_load_tsv_schema_drift_both_ways(wh: Warehouse, tmp_path: Path) -> None:
    first = write_tsv(tmp_path / "a.tsv", ["sku", "qty", "old-col"], [["s1", "1", "x"]])
    second = write_tsv(tmp_path / "b.tsv", ["sku", "qty", "new-col"], [["s2", "2", "y"], ["s3"]])
    wh.load_delimited_file("us", "inventory", first, constants={"snapshot": "1"})
    result = wh.load_delimited_file("us", "inventory", second, constants={"snapshot": "2"})
    assert result.added_columns == ("new_col",)
    rows = wh.query("SELECT sku, qty, old_col, new_col, snapshot FROM us.inventory ORDER BY sku").rows()
    assert rows == [("s1", "1", "x", None, "1"), ("s2", "2", None, "y", "2"), ("s3", None, None, None, "2")]


def test_load_tsv_header_names_are_deduped_and_must_be_derivable(wh: Warehouse, tmp_path: Path) -> None:
    tsv = write_tsv(tmp_path / "a.tsv", ["order-id", "sku", "SKU", ""], [["1", "a", "b", "c"]])
    wh.load_delimited_file("us", "report", tsv)
    assert list(wh.columns("us", "report")) == ["order_id", "sku", "sku_2", "column_4"]
    jp = write_tsv(tmp_path / "jp.tsv", ["注文番号", "sku"], [["1", "a"]])
    with pytest.raises(ValueError, match="cannot derive a column name from '注文番号'"):
        wh.load_delimited_file("jp", "jp_report", jp)


def test_load_quoted_tsv(wh: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text('id\tnote\n1\t"a\tb"\n2\t"say ""hi"""\n', encoding="utf-8")
    wh.load_delimited_file("us", "quoted", path, quote='"')
    assert wh.query("SELECT note FROM us.quoted ORDER BY id").to_series().to_list() == ["a\tb", 'say "hi"']


def test_load_empty_file_records_zero_rows(wh: Warehouse, tmp_path: Path) -> None:
    tsv = write_tsv(tmp_path / "a.tsv", ["sku"], [["s1"]])
    wh.load_delimited_file("us", "inv", tsv, constants={"day": DAY}, replace_where={"day": DAY})
    empty = tmp_path / "empty.tsv"
    empty.write_bytes(b"")
    result = wh.load_delimited_file(
        "us", "inv", empty, constants={"day": DAY}, replace_where={"day": DAY}, partition_start=DAY
    )
    assert (result.rows, result.deleted) == (0, 1)
    assert wh.row_count("us", "inv") == 0
    assert wh.loads("us", "inv").row(0, named=True)["rows"] == 0

    nothing = wh.load_delimited_file("us", "never_created", empty, partition_start=DAY)
    assert nothing.rows == 0 and not wh.table_exists("us", "never_created")
    assert wh.loads("us", "never_created").height == 1


def test_failed_load_rolls_back_everything(wh: Warehouse, tmp_path: Path) -> None:
    """A value the table's column cannot hold (text into a column an earlier load typed) fails inside
    the transaction, after the new column was added and the day's rows deleted: all of it rolls back."""
    good = write_tsv(tmp_path / "good.tsv", ["sku", "price", "units"], [["a", "1.00", "3"]])
    bad = write_tsv(tmp_path / "bad.tsv", ["sku", "price", "units", "extra"], [["b", "2.00", "three", "x"]])
    options = {"column_types": {"price": MONEY}, "constants": {"day": DAY}, "replace_where": {"day": DAY}}
    wh.load_delimited_file("us", "prices", good, **{**options, "column_types": {"price": MONEY, "units": BIGINT}})
    with pytest.raises(WarehouseError, match="us.prices.*rolled back.*three"):
        wh.load_delimited_file("us", "prices", bad, **options)
    assert wh.query("SELECT sku FROM us.prices").to_series().to_list() == ["a"]
    assert "extra" not in wh.columns("us", "prices")
    assert wh.loads("us", "prices").height == 1
    if wh.path:  # a file: DuckDB's own lock was released (a lake has no such lock)
        assert_other_process_can_open(wh.path)  # the failed write closed its connection


def test_load_rejects_rows_with_extra_fields_unless_relaxed(wh: Warehouse, tmp_path: Path) -> None:
    tsv = write_tsv(tmp_path / "ragged.tsv", ["a", "b"], [["1", "2", "3"]])
    with pytest.raises(WarehouseError, match="Expected Number of Columns: 2 Found: 3"):
        wh.load_delimited_file("us", "ragged", tsv)
    assert wh.load_delimited_file("us", "ragged", tsv, strict=False).inserted == 1


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"quote": "\t"}, "quote must be one character other than the delimiter"),
        ({"quote": "ab"}, "quote must be one character"),
        ({"constants": {"sku": "x"}}, "also a column of the file"),
    ],
)
def test_load_argument_errors(wh: Warehouse, tmp_path: Path, options: dict, error: str) -> None:
    tsv = write_tsv(tmp_path / "a.tsv", ["sku"], [["s1"]])
    with pytest.raises(ValueError, match=error):
        wh.load_delimited_file("us", "t", tsv, **options)


GERMAN = TextFormat(",", ".", ("%d.%m.%Y",), ("%d.%m.%Y %H:%M:%S %Z", ISO_8601))
US = TextFormat(".", ",", ("%m/%d/%Y",), (ISO_8601,))
TYPES = {"amount": MONEY, "units": BIGINT, "posted": DATE, "posted_at": TIMESTAMPTZ}


@pytest.mark.parametrize(
    ("fmt", "rows"),
    [
        (GERMAN, [["1.234,56", "1.200", "02.01.2026", "02.01.2026 08:00:00 UTC"], ["-3,25", "7", "", ""]]),
        (US, [["1,234.56", "1,200", "01/02/2026", "2026-01-02T08:00:00+00:00"], ["-3.25", "7", "", ""]]),
    ],
)
def test_typed_columns_parse_by_the_files_conventions(wh: Warehouse, tmp_path: Path, fmt: TextFormat,
                                                      rows: list[list[str]]) -> None:
    tsv = write_tsv(tmp_path / "s.tsv", ["amount", "units", "posted", "posted_at"], rows)
    result = wh.load_delimited_file("de", "s", tsv, column_types=TYPES, text_format=fmt)
    assert wh.columns("de", "s") == {"amount": "DECIMAL(18,2)", "units": "BIGINT", "posted": "DATE",
                                     "posted_at": "TIMESTAMP WITH TIME ZONE"}, "no __raw column when everything parses"
    assert wh.query("SELECT amount, units, posted, epoch(posted_at)::BIGINT FROM de.s ORDER BY amount").rows() == [
        (Decimal("-3.25"), 7, None, None),
        (Decimal("1234.56"), 1200, date(2026, 1, 2), int(datetime(2026, 1, 2, 8, tzinfo=UTC).timestamp())),
    ]
    assert result.unparsed == {}


def test_a_value_that_does_not_parse_is_kept_raw_and_counted(wh: Warehouse, tmp_path: Path) -> None:
    """US-formatted amounts in a German file are not read as other numbers (1,234.56 is not 1.23456)."""
    tsv = write_tsv(tmp_path / "s.tsv", ["amount", "posted"],
                    [["1.234,56", "02.01.2026"], ["1,234.56", "2026/01/02"], ["n/a", "02.01.2026"]])
    result = wh.load_delimited_file("de", "s", tsv, column_types={"amount": MONEY, "posted": DATE},
                                    text_format=GERMAN)
    assert result.unparsed == {"amount": 2, "posted": 1} and result.rows == 3
    assert {"amount__raw", "posted__raw"} <= set(result.added_columns) | set(wh.columns("de", "s"))
    assert wh.query("SELECT amount, amount__raw, posted, posted__raw FROM de.s ORDER BY amount__raw NULLS FIRST"
                    ).rows() == [
        (Decimal("1234.56"), None, date(2026, 1, 2), None),
        (None, "1,234.56", None, "2026/01/02"),
        (None, "n/a", date(2026, 1, 2), None),
    ]
    assert "amount__raw" in wh.query("SELECT * FROM amazon.s").columns, "the union view shows the raw column"


def test_a_text_column_from_before_typing_is_converted_in_place(wh: Warehouse, tmp_path: Path) -> None:
    """An existing table keeps its rows: the text column becomes DECIMAL/DATE, unreadable text goes raw."""
    old = write_tsv(tmp_path / "old.tsv", ["sku", "amount", "date"],
                    [["a", "1.234,56", "12/01/2026"], ["b", "kaputt", "12/02/2026"]])
    wh.load_delimited_file("de", "t", old, constants={"day": DAY}, replace_where={"day": DAY})
    assert wh.columns("de", "t")["amount"] == "VARCHAR"
    new = write_tsv(tmp_path / "new.tsv", ["sku", "amount", "date"], [["c", "2,50", "12/03/2026"]])
    result = wh.load_delimited_file("de", "t", new, column_types={"amount": MONEY, "date": DATE},
                                    text_format=GERMAN, column_formats={"date": US},
                                    constants={"day": NEXT_DAY}, replace_where={"day": NEXT_DAY})
    columns = wh.columns("de", "t")
    assert (columns["amount"], columns["date"]) == ("DECIMAL(18,2)", "DATE")
    assert result.unparsed == {"amount": 1} and "amount__raw" in result.added_columns
    assert wh.query("SELECT sku, amount, amount__raw, date FROM de.t ORDER BY sku").rows() == [
        ("a", Decimal("1234.56"), None, date(2026, 12, 1)),
        ("b", None, "kaputt", date(2026, 12, 2)),
        ("c", Decimal("2.50"), None, date(2026, 12, 3)),
    ]


SETTLEMENT_TYPES = {"amount": MONEY, "quantity": BIGINT, "posted_date": DATE}


def test_one_bad_amount_in_a_new_table_is_kept_raw_counted_once_and_no_other_raw_column_exists(
        wh: Warehouse, tmp_path: Path) -> None:
    """One read of the file: the load keeps every typed column's failed text, counts it from the table,
    and drops the raw columns that stayed empty, so the new table has exactly the columns it needs."""
    tsv = write_tsv(tmp_path / "settlement.tsv", ["sku", "amount", "quantity", "posted-date"],
                    [["a", "1.234,56", "1", "02.01.2026"], ["b", "12,5O", "2", "03.01.2026"],
                     ["c", "-3,25", "", "04.01.2026"]])
    result = wh.load_delimited_file("de", "settlement", tsv, column_types=SETTLEMENT_TYPES, text_format=GERMAN,
                                    constants={"day": DAY}, replace_where={"day": DAY})
    assert result.unparsed == {"amount": 1} and result.rows == 3
    assert result.created_table and result.added_columns == ()
    assert list(wh.columns("de", "settlement")) == ["sku", "amount", "quantity", "posted_date", "amount__raw", "day"]
    assert wh.query("SELECT sku, amount, amount__raw, quantity FROM de.settlement ORDER BY sku").rows() == [
        ("a", Decimal("1234.56"), None, 1), ("b", None, "12,5O", 2), ("c", Decimal("-3.25"), None, None)]
    assert "amount__raw" in wh.query("SELECT * FROM amazon.settlement").columns, "the union view has the raw column"
    assert wh.loads("de", "settlement")["rows"].to_list() == [3]


def test_unparsed_values_of_later_loads_count_only_the_loads_own(wh: Warehouse, tmp_path: Path) -> None:
    """An existing table gains a raw column only when a file needs it; the count of a load is its own
    values, not the raw values other partitions (or the rows it replaces) already hold."""
    def load(day: date, amounts: list[str]) -> WriteResult:
        tsv = write_tsv(tmp_path / f"{day}.tsv", ["sku", "amount", "quantity"],
                        [[f"s{i}", amount, "1"] for i, amount in enumerate(amounts)])
        return wh.load_delimited_file("de", "t", tsv, column_types=SETTLEMENT_TYPES, text_format=GERMAN,
                                      constants={"day": day}, replace_where={"day": day})

    assert load(DAY, ["1,00"]).unparsed == {} and "amount__raw" not in wh.columns("de", "t")
    second = load(NEXT_DAY, ["2,00", "kaputt"])
    assert second.unparsed == {"amount": 1} and second.added_columns == ("amount__raw",)
    assert "quantity__raw" not in wh.columns("de", "t")
    third = load(NEXT_DAY, ["x", "y", "3,00"])  # replaces the day holding "kaputt"
    assert third.unparsed == {"amount": 2} and third.added_columns == () and third.deleted == 2
    assert load(DAY, ["1,00"]).unparsed == {}
    assert wh.query("SELECT amount__raw FROM de.t WHERE amount__raw IS NOT NULL ORDER BY 1").rows() == [("x",), ("y",)]


def test_the_load_memory_limit_is_checked_and_a_merge_scales_its_phases_from_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sp_assets.lib.warehouse.delimited import LOAD_MEMORY_ENV, load_memory_limit, scaled_memory_limit

    monkeypatch.delenv(LOAD_MEMORY_ENV, raising=False)
    assert load_memory_limit() == "160MB" and scaled_memory_limit(0.8) == "125000KiB"  # 128,000,000 bytes
    monkeypatch.setenv(LOAD_MEMORY_ENV, "1GiB")
    assert scaled_memory_limit(1.2) == f"{int(2**30 * 1.2) // 1024}KiB"
    monkeypatch.setenv(LOAD_MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match="SP_ASSETS_DUCKDB_LOAD_MEMORY: 'lots' must be a size such as 256MB"):
        scaled_memory_limit(0.8)
