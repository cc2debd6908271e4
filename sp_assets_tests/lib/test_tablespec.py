"""Table specs and record conversion: exact money, UTC timestamps, loud errors naming column and value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import polars as pl
import pytest

from sp_assets.lib.tablespec import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INTEGER,
    JSON,
    MONEY,
    TIMESTAMPTZ,
    VARCHAR,
    Column,
    FrameValidationError,
    RecordConversionError,
    TableSpec,
    conform_frame,
    decimal_type,
    flatten_record,
    frame_from_records,
    normalize_sql_type,
)

SPEC = TableSpec(
    name="orders",
    columns=(
        Column("amazon_order_id", VARCHAR, nullable=False),
        Column("purchase_date", TIMESTAMPTZ),
        Column("partition_date", DATE),
        Column("order_total", MONEY),
        Column("items", BIGINT),
        Column("small", INTEGER),
        Column("ratio", DOUBLE),
        Column("is_prime", BOOLEAN),
        Column("raw", JSON),
    ),
    primary_key=("amazon_order_id",),
    partition_column="partition_date",
    version_column="purchase_date",
)


# --- types and specs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("varchar", "VARCHAR"),
        ("text", "VARCHAR"),
        ("timestamp with time zone", "TIMESTAMPTZ"),
        ("decimal( 18 , 2 )", "DECIMAL(18,2)"),
        ("int64", "BIGINT"),
        ("bool", "BOOLEAN"),
    ],
)
def test_type_spellings_are_normalized(raw: str, canonical: str) -> None:
    assert normalize_sql_type(raw) == canonical


@pytest.mark.parametrize("raw", ["FLOAT", "TIMESTAMP", "DECIMAL(40,2)", "DECIMAL(4,5)", "MAP(VARCHAR, INT)"])
def test_unsupported_types_are_rejected_listing_the_allowed_ones(raw: str) -> None:
    with pytest.raises(ValueError, match="VARCHAR|precision"):
        normalize_sql_type(raw)


def test_column_names_the_column_when_its_type_is_bad() -> None:
    with pytest.raises(ValueError, match="column 'price'"):
        Column("price", "MONEYISH")


def test_decimal_type_helper() -> None:
    assert decimal_type(18, 4) == "DECIMAL(18,4)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"primary_key": ("nope",)}, "primary_key names 'nope'"),
        ({"partition_column": "nope"}, "partition_column names 'nope'"),
        ({"version_column": "nope"}, "version_column names 'nope'"),
        ({"primary_key": ("a", "a")}, "repeats"),
    ],
)
def test_table_spec_validates_roles(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TableSpec("t", (Column("a", VARCHAR),), **kwargs)


def test_table_spec_rejects_duplicate_and_bad_names() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        TableSpec("t", (Column("a", VARCHAR), Column("a", BIGINT)))
    with pytest.raises(ValueError, match="invalid table name"):
        TableSpec("Orders", (Column("a", VARCHAR),))
    with pytest.raises(ValueError, match="invalid column name"):
        Column("AmazonOrderId", VARCHAR)


# --- frame_from_records ---------------------------------------------------------------------------


def test_frame_has_exactly_the_spec_columns_and_types() -> None:
    frame = frame_from_records(SPEC, [{"amazon_order_id": "1", "unknown_field": "ignored"}])
    assert frame.columns == list(SPEC.column_names)
    assert dict(frame.schema) == SPEC.polars_schema()
    assert frame.row(0) == ("1", None, None, None, None, None, None, None, None)


def test_empty_record_list_gives_an_empty_typed_frame() -> None:
    frame = frame_from_records(SPEC, [])
    assert frame.height == 0
    assert dict(frame.schema) == SPEC.polars_schema()


def test_money_is_exact_decimal_not_float() -> None:
    frame = frame_from_records(
        SPEC,
        [
            {"amazon_order_id": "1", "order_total": "11.01"},
            {"amazon_order_id": "2", "order_total": 0.1},  # a JSON number (pricing API)
            {"amazon_order_id": "3", "order_total": Decimal("5")},
            {"amazon_order_id": "4", "order_total": 7},
        ],
    )
    assert frame.schema["order_total"] == pl.Decimal(18, 2)
    assert frame.get_column("order_total").to_list() == [
        Decimal("11.01"),
        Decimal("0.10"),
        Decimal("5.00"),
        Decimal("7.00"),
    ]


def test_sum_of_many_tenths_is_exact() -> None:
    frame = frame_from_records(
        SPEC, [{"amazon_order_id": str(i), "order_total": "0.1"} for i in range(10_000)]
    )
    assert frame.get_column("order_total").sum() == Decimal("1000.00")


def test_timestamps_with_z_or_offset_become_utc() -> None:
    frame = frame_from_records(
        SPEC,
        [
            {"amazon_order_id": "1", "purchase_date": "2024-01-02T10:00:00Z"},
            {"amazon_order_id": "2", "purchase_date": "2024-01-02T10:00:00.123-08:00"},
            {
                "amazon_order_id": "3",
                "purchase_date": datetime(2024, 1, 2, 9, tzinfo=timezone(timedelta(hours=9))),
            },
        ],
    )
    assert frame.schema["purchase_date"] == pl.Datetime("us", "UTC")
    assert frame.get_column("purchase_date").to_list() == [
        datetime(2024, 1, 2, 10, tzinfo=UTC),
        datetime(2024, 1, 2, 18, 0, 0, 123000, tzinfo=UTC),
        datetime(2024, 1, 2, 0, tzinfo=UTC),
    ]


def test_text_values_convert_per_type() -> None:
    frame = frame_from_records(
        SPEC,
        [
            {
                "amazon_order_id": 123,
                "partition_date": "2024-01-02",
                "items": "3",
                "small": 2.0,
                "ratio": "0.25",
                "is_prime": "Yes",
                "raw": {"a": [1, 2]},
            },
            {"amazon_order_id": "2", "items": "", "is_prime": "false", "raw": "[1]"},
        ],
    )
    assert frame.row(0) == ("123", None, date(2024, 1, 2), None, 3, 2, 0.25, True, '{"a":[1,2]}')
    assert frame.row(1)[4] is None  # blank text means absent for a number
    assert frame.row(1)[7] is False
    assert frame.row(1)[8] == "[1]"


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("order_total", "11.015", "more than 2 decimal places"),
        ("order_total", "12,50", "not a decimal number"),
        ("order_total", "1e20", "does not fit"),
        ("order_total", float("nan"), "not a finite number"),
        ("purchase_date", "2024-01-02T10:00:00", "no UTC offset"),
        ("purchase_date", "yesterday", "Invalid isoformat"),
        ("purchase_date", 1704189600, "expected an ISO 8601 timestamp"),
        ("partition_date", datetime(2024, 1, 2, tzinfo=UTC), "got a datetime for a DATE column"),
        ("items", "3.5", "not a whole number"),
        ("items", True, "a boolean is not a number"),
        ("small", 2**40, "out of range for INTEGER"),
        ("is_prime", "maybe", "expected a boolean"),
        ("raw", "{not json", "Expecting property name"),
        ("amazon_order_id", {"nested": 1}, "flatten nested values first"),
        ("amazon_order_id", None, "not nullable"),
    ],
)
def test_bad_values_raise_naming_column_and_value(column: str, value: object, reason: str) -> None:
    record = {"amazon_order_id": "1", column: value}
    with pytest.raises(RecordConversionError, match=reason) as info:
        frame_from_records(SPEC, [{"amazon_order_id": "0"}, record])
    assert info.value.column == column
    assert info.value.row == 1
    assert f"column {column!r}" in str(info.value)
    assert repr(value)[:20] in str(info.value)


def test_non_mapping_record_is_rejected() -> None:
    with pytest.raises(TypeError, match="record 0 is a list"):
        frame_from_records(SPEC, [["1"]])  # type: ignore[list-item]


def test_flatten_maps_raw_amazon_json() -> None:
    spec = TableSpec(
        "o",
        (
            Column("amazon_order_id", VARCHAR),
            Column("order_total_amount", MONEY),
            Column("is_prime", BOOLEAN),
        ),
    )
    record = {"AmazonOrderId": "1", "OrderTotal": {"Amount": "9.99", "CurrencyCode": "USD"}, "IsPrime": True}
    frame = frame_from_records(spec, [record], flatten=True)
    assert frame.row(0) == ("1", Decimal("9.99"), True)


def test_flatten_refuses_two_fields_with_one_name() -> None:
    with pytest.raises(ValueError, match="same name 'item_price'"):
        flatten_record({"ItemPrice": 1, "item-price": 2})


# --- conform_frame --------------------------------------------------------------------------------


def test_conform_casts_exactly_and_keeps_extra_columns() -> None:
    frame = pl.DataFrame(
        {
            "amazon_order_id": ["a"],
            "order_total": ["1.25"],
            "items": [2.0],
            "purchase_date": pl.Series([datetime(2024, 1, 2, 1)]).dt.replace_time_zone("Asia/Tokyo"),
            "extra": [1],
        }
    )
    conformed = conform_frame(SPEC, frame)
    assert conformed.schema["order_total"] == pl.Decimal(18, 2)
    assert conformed.row(0, named=True) == {
        "amazon_order_id": "a",
        "order_total": Decimal("1.25"),
        "items": 2,
        "purchase_date": datetime(2024, 1, 1, 16, tzinfo=UTC),
        "extra": 1,
    }


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"amazon_order_id": ["a"], "order_total": [1.234]}), "would change 1 value"),
        (pl.DataFrame({"amazon_order_id": ["a"], "items": [1.5]}), "would change 1 value"),
        (pl.DataFrame({"amazon_order_id": ["a"], "purchase_date": [datetime(2024, 1, 1)]}), "naive"),
        (pl.DataFrame({"amazon_order_id": ["a"], "order_total": ["x"]}), "'order_total'.*'x'"),
        (pl.DataFrame({"amazon_order_id": ["a"], "Bad Name": [1]}), "invalid column name 'Bad Name'"),
        (pl.DataFrame({"order_total": ["1"]}), "no column 'amazon_order_id'"),
        (pl.DataFrame({"amazon_order_id": [None, "b"]}), "not nullable but has 1 nulls"),
    ],
)
def test_conform_refuses_lossy_or_invalid_frames(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(FrameValidationError, match=message):
        conform_frame(SPEC, frame)
