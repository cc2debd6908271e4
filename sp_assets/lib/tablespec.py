"""Table specs and the record-to-frame mapping every asset uses before writing to DuckDB.

A ``TableSpec`` says what one warehouse table holds: typed columns, the primary key, the column a
partition replace deletes by, and the column that orders versions of a row (so a merge never
regresses). ``frame_from_records`` turns API records into a polars frame with exactly those columns
and types, converting money exactly (``"11.01"`` becomes ``Decimal("11.01")``, never a float) and
timestamps to UTC, and failing loudly, naming the column and the value, instead of writing a
silently wrong number. ``conform_frame`` applies the same rules to a frame built some other way.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl

from sp_assets.lib.naming import safe_identifier, snake_case

__all__ = [
    "BIGINT",
    "BOOLEAN",
    "DATE",
    "DOUBLE",
    "INTEGER",
    "JSON",
    "MONEY",
    "TIMESTAMPTZ",
    "VARCHAR",
    "Column",
    "FrameValidationError",
    "RecordConversionError",
    "TableSpec",
    "conform_frame",
    "decimal_type",
    "flatten_record",
    "frame_from_records",
    "normalize_sql_type",
    "polars_dtype",
]

VARCHAR = "VARCHAR"
BIGINT = "BIGINT"
INTEGER = "INTEGER"
DOUBLE = "DOUBLE"
BOOLEAN = "BOOLEAN"
DATE = "DATE"
TIMESTAMPTZ = "TIMESTAMPTZ"
JSON = "JSON"
MONEY = "DECIMAL(18,2)"

_SIMPLE_DTYPES: dict[str, pl.DataType] = {
    VARCHAR: pl.String(),
    BIGINT: pl.Int64(),
    INTEGER: pl.Int32(),
    DOUBLE: pl.Float64(),
    BOOLEAN: pl.Boolean(),
    DATE: pl.Date(),
    TIMESTAMPTZ: pl.Datetime("us", "UTC"),
    JSON: pl.String(),
}
_ALIASES = {
    "TEXT": VARCHAR,
    "STRING": VARCHAR,
    "INT": INTEGER,
    "INT4": INTEGER,
    "INT32": INTEGER,
    "INT8": BIGINT,
    "INT64": BIGINT,
    "FLOAT8": DOUBLE,
    "FLOAT64": DOUBLE,
    "BOOL": BOOLEAN,
    "TIMESTAMP WITH TIME ZONE": TIMESTAMPTZ,
}
_DECIMAL = re.compile(r"DECIMAL\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_INT_RANGES = {BIGINT: (-(2**63), 2**63 - 1), INTEGER: (-(2**31), 2**31 - 1)}
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_DECIMAL_CONTEXT = decimal.Context(prec=80)


class FrameValidationError(ValueError):
    """A frame does not fit its table spec (missing required column, nulls in a key, lossy cast...)."""


class RecordConversionError(FrameValidationError):
    """A record value cannot be converted to its column's type; names the column, row and value."""

    def __init__(self, column: str, sql_type: str, row: int, value: object, reason: str) -> None:
        self.column = column
        self.sql_type = sql_type
        self.row = row
        self.value = value
        shown = repr(value)
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        super().__init__(f"column {column!r} ({sql_type}), record {row}: cannot use value {shown}: {reason}")


def decimal_type(precision: int, scale: int) -> str:
    """``DECIMAL(p,s)`` spelled the canonical way; e.g. ``decimal_type(18, 4)`` for per-unit fees."""
    return normalize_sql_type(f"DECIMAL({precision},{scale})")


def normalize_sql_type(sql_type: str) -> str:
    """Canonical spelling of a supported column type, or ``ValueError`` listing what is allowed.

    The set is deliberately small (VARCHAR, BIGINT, INTEGER, DOUBLE, BOOLEAN, DATE, TIMESTAMPTZ,
    JSON, DECIMAL(p,s)): each has one exact polars counterpart, so what a spec declares is what
    lands in DuckDB, and money is never a float.
    """
    if not isinstance(sql_type, str):
        raise ValueError(f"column type must be a string, got {type(sql_type).__name__}")
    upper = " ".join(sql_type.strip().upper().split())
    upper = _ALIASES.get(upper, upper)
    if upper in _SIMPLE_DTYPES:
        return upper
    match = _DECIMAL.fullmatch(upper)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        if not 1 <= precision <= 38 or not 0 <= scale <= precision:
            raise ValueError(f"invalid {sql_type!r}: need 1 <= precision <= 38 and 0 <= scale <= precision")
        return f"DECIMAL({precision},{scale})"
    allowed = ", ".join([*_SIMPLE_DTYPES, "DECIMAL(p,s)"])
    raise ValueError(f"unsupported column type {sql_type!r}; allowed: {allowed}")


def _decimal_parts(sql_type: str) -> tuple[int, int] | None:
    match = _DECIMAL.fullmatch(sql_type)
    return (int(match.group(1)), int(match.group(2))) if match else None


def polars_dtype(sql_type: str) -> pl.DataType:
    """The polars dtype that holds ``sql_type`` exactly (TIMESTAMPTZ -> Datetime('us', 'UTC'))."""
    canonical = normalize_sql_type(sql_type)
    parts = _decimal_parts(canonical)
    if parts:
        return pl.Decimal(*parts)
    return _SIMPLE_DTYPES[canonical]


@dataclass(frozen=True)
class Column:
    """One typed column. ``nullable=False`` makes a null in it an error before anything is written."""

    name: str
    type: str
    nullable: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        safe_identifier(self.name, "column")
        try:
            object.__setattr__(self, "type", normalize_sql_type(self.type))
        except ValueError as exc:
            raise ValueError(f"column {self.name!r}: {exc}") from None

    @property
    def polars_dtype(self) -> pl.DataType:
        return polars_dtype(self.type)


@dataclass(frozen=True)
class TableSpec:
    """What one warehouse table holds; validated on construction so a typo fails at import time.

    ``primary_key`` identifies a row (merge upserts by it; replace and merge keep one row per key).
    ``partition_column`` is what ``replace_partition`` deletes by; ``version_column`` (for example
    ``last_update_date``) orders versions of a row, so an older fetch never overwrites a newer one.
    """

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    partition_column: str | None = None
    version_column: str | None = None
    description: str = ""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        safe_identifier(self.name, "table")
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "primary_key", tuple(self.primary_key))
        if not self.columns:
            raise ValueError(f"table spec {self.name!r} has no columns")
        by_name: dict[str, Column] = {}
        for column in self.columns:
            if not isinstance(column, Column):
                raise ValueError(f"table spec {self.name!r}: columns must be Column objects, got {column!r}")
            if column.name in by_name:
                raise ValueError(f"table spec {self.name!r}: column {column.name!r} is declared twice")
            by_name[column.name] = column
        object.__setattr__(self, "_by_name", by_name)
        for role, names in (
            ("primary_key", self.primary_key),
            ("partition_column", (self.partition_column,) if self.partition_column else ()),
            ("version_column", (self.version_column,) if self.version_column else ()),
        ):
            for name in names:
                if name not in by_name:
                    raise ValueError(
                        f"table spec {self.name!r}: {role} names {name!r}, which is not a column "
                        f"(columns: {', '.join(by_name)})"
                    )
        if len(set(self.primary_key)) != len(self.primary_key):
            raise ValueError(f"table spec {self.name!r}: primary_key repeats a column: {self.primary_key}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"table spec {self.name!r} has no column {name!r}") from None

    def has_column(self, name: str) -> bool:
        return name in self._by_name

    def polars_schema(self) -> dict[str, pl.DataType]:
        return {column.name: column.polars_dtype for column in self.columns}


# --- value converters: one per type; each returns the python value polars stores, or None ---------


def _blank_to_none(value: object) -> object:
    """An empty or blank string means "absent" for every non-text type (APIs and reports both do it)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _to_varchar(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"expected text or a scalar, got {type(value).__name__} (flatten nested values first)")


def _to_json(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        json.loads(value)  # must already be JSON text; raises ValueError otherwise
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _to_decimal_value(value: object) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # shortest repr: 11.01 -> Decimal("11.01"), not the binary expansion
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueError("not a decimal number") from None
    else:
        raise TypeError(f"expected a number or numeric text, got {type(value).__name__}")
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _decimal_converter(precision: int, scale: int) -> Callable[[object], Decimal | None]:
    quantum = Decimal(1).scaleb(-scale)
    limit = Decimal(10) ** (precision - scale)

    def convert(value: object) -> Decimal | None:
        value = _blank_to_none(value)
        if value is None:
            return None
        number = _to_decimal_value(value)
        exact = number.quantize(quantum, context=_DECIMAL_CONTEXT)
        if exact != number:
            raise ValueError(f"has more than {scale} decimal places; rounding would change the amount")
        if abs(exact) >= limit:
            raise ValueError(f"does not fit DECIMAL({precision},{scale})")
        return exact

    return convert


def _integer_converter(sql_type: str) -> Callable[[object], int | None]:
    low, high = _INT_RANGES[sql_type]

    def convert(value: object) -> int | None:
        value = _blank_to_none(value)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            exact = _to_decimal_value(value)
            if exact != exact.to_integral_value():
                raise ValueError("not a whole number")
            number = int(exact)
        if not low <= number <= high:
            raise ValueError(f"out of range for {sql_type}")
        return number

    return convert


def _to_double(value: object) -> float | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _to_boolean(value: object) -> bool | None:
    value = _blank_to_none(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("expected a boolean (true/false, yes/no, y/n, 1/0)")


def _to_date(value: object) -> date | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, datetime):
        raise TypeError("got a datetime for a DATE column; pass the calendar date the source means")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise TypeError(f"expected an ISO date (YYYY-MM-DD), got {type(value).__name__}")


def _to_timestamptz(value: object) -> datetime | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
    elif isinstance(value, datetime):
        moment = value
    else:
        raise TypeError(f"expected an ISO 8601 timestamp with a UTC offset, got {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp has no UTC offset or Z; refusing to guess its time zone")
    return moment.astimezone(UTC)


def _converter(sql_type: str) -> Callable[[object], Any]:
    parts = _decimal_parts(sql_type)
    if parts:
        return _decimal_converter(*parts)
    if sql_type in _INT_RANGES:
        return _integer_converter(sql_type)
    return {
        VARCHAR: _to_varchar,
        JSON: _to_json,
        DOUBLE: _to_double,
        BOOLEAN: _to_boolean,
        DATE: _to_date,
        TIMESTAMPTZ: _to_timestamptz,
    }[sql_type]


def flatten_record(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested objects into snake_case keys: ``{"ItemPrice": {"Amount": "1"}}`` -> ``item_price_amount``.

    Lists stay as they are (store them in a JSON column or a child table). Two source keys that
    normalize to the same name raise ``ValueError`` rather than one silently overwriting the other.
    """
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = snake_case(f"{prefix}_{key}" if prefix else str(key))
        items = flatten_record(value, name) if isinstance(value, Mapping) else {name: value}
        for flat_name, flat_value in items.items():
            if flat_name in flat:
                raise ValueError(f"two fields of the record normalize to the same name {flat_name!r}")
            flat[flat_name] = flat_value
    return flat


def frame_from_records(
    spec: TableSpec, rows: Iterable[Mapping[str, Any]], *, flatten: bool = False
) -> pl.DataFrame:
    """Build a frame with exactly ``spec``'s columns and types from dict records.

    Missing keys become null and unknown keys are ignored (Amazon adds fields without notice).
    With ``flatten=True`` each record first goes through ``flatten_record``, so raw API JSON
    (``AmazonOrderId``, ``OrderTotal.Amount``) can be passed as is. A value that does not convert
    raises ``RecordConversionError`` naming the column, the record index and the value.
    """
    records = [_as_record(row, index, flatten) for index, row in enumerate(rows)]
    series = [_column_series(column, records) for column in spec.columns]
    return pl.DataFrame(series)


def _as_record(row: object, index: int, flatten: bool) -> Mapping[str, Any]:
    if not isinstance(row, Mapping):
        raise TypeError(
            f"record {index} is a {type(row).__name__}, expected a mapping of column name to value"
        )
    return flatten_record(row) if flatten else row


def _column_series(column: Column, records: Sequence[Mapping[str, Any]]) -> pl.Series:
    convert = _converter(column.type)
    values: list[Any] = []
    for index, record in enumerate(records):
        raw = record.get(column.name)
        try:
            value = convert(raw)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise RecordConversionError(column.name, column.type, index, raw, str(exc)) from None
        if value is None and not column.nullable:
            raise RecordConversionError(column.name, column.type, index, raw, "the column is not nullable")
        values.append(value)
    return pl.Series(column.name, values, dtype=column.polars_dtype)


# --- conforming a frame built elsewhere -----------------------------------------------------------


def conform_frame(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """Cast ``frame``'s spec columns to the spec's dtypes, refusing any cast that would lose data.

    Columns the spec does not know are kept (the warehouse adds them to the table: schema drift).
    Spec columns the frame lacks are allowed when nullable (they are written as null). Raises
    ``FrameValidationError`` naming the column for: an invalid column name, a missing or null
    non-nullable column, a naive datetime, text that is not a number, or a cast that rounds.
    """
    for name in frame.columns:
        try:
            safe_identifier(name, "column")
        except ValueError as exc:
            raise FrameValidationError(str(exc)) from None
    casts: list[pl.Series] = []
    for column in spec.columns:
        if column.name not in frame.columns:
            if not column.nullable:
                raise FrameValidationError(
                    f"table {spec.name!r}: the frame has no column {column.name!r}, which is not nullable"
                )
            continue
        series = _cast_series(frame.get_column(column.name), column)
        if not column.nullable and series.null_count():
            raise FrameValidationError(
                f"table {spec.name!r}: column {column.name!r} is not nullable but has {series.null_count()} nulls"
            )
        if series is not frame.get_column(column.name):
            casts.append(series)
    return frame.with_columns(casts) if casts else frame


def _cast_series(series: pl.Series, column: Column) -> pl.Series:
    target = column.polars_dtype
    source = series.dtype
    if source == target:
        return series
    where = f"column {column.name!r} ({source} -> {column.type})"
    if source == pl.Null:
        return series.cast(target)
    if isinstance(target, pl.Datetime):
        return _cast_to_utc(series, where)
    if source == pl.String and target != pl.String:
        return _convert_text_series(series, column)
    try:
        cast = series.cast(target, strict=True)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise FrameValidationError(f"{where}: cannot cast: {exc}") from None
    _check_numeric_cast_is_exact(series, cast, where)
    return cast


def _convert_text_series(series: pl.Series, column: Column) -> pl.Series:
    """Text goes through the same exact converters as records ("11.01" -> Decimal, "Yes" -> True)."""
    convert = _converter(column.type)
    values: list[Any] = []
    for index, raw in enumerate(series.to_list()):
        try:
            values.append(convert(raw))
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise RecordConversionError(column.name, column.type, index, raw, str(exc)) from None
    return pl.Series(column.name, values, dtype=column.polars_dtype)


def _cast_to_utc(series: pl.Series, where: str) -> pl.Series:
    if not isinstance(series.dtype, pl.Datetime):
        raise FrameValidationError(
            f"{where}: expected zone-aware datetimes; build the frame with frame_from_records"
        )
    if series.dtype.time_zone is None:
        raise FrameValidationError(f"{where}: naive datetimes have no time zone; refusing to guess it")
    return series.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC"))


def _check_numeric_cast_is_exact(source: pl.Series, cast: pl.Series, where: str) -> None:
    """polars rounds silently (1.5 -> 1 as an integer, 1.234 -> 1.23 as DECIMAL(18,2)); refuse that."""
    if not (source.dtype.is_numeric() and cast.dtype.is_numeric()):
        return
    if source.dtype.is_float() and not source.is_finite().fill_null(True).all():
        raise FrameValidationError(f"{where}: NaN or infinity cannot be stored as {cast.dtype}")
    back = cast.cast(source.dtype, strict=False)
    lost = source.filter((back != source).fill_null(True) & source.is_not_null())
    if lost.len():
        raise FrameValidationError(f"{where}: the cast would change {lost.len()} value(s), e.g. {lost[0]!r}")
