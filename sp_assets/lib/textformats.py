"""How a flat file writes numbers and dates, and the DuckDB SQL that reads them back. Plain Python.

Amazon writes some flat files in the marketplace's conventions: a German settlement has ``1.234,56``
and ``02.01.2026``, a Japanese one ``2026/01/02``, the ledger summary ``12/01/2026`` (month first).
A ``TextFormat`` states one such convention; ``parse_sql`` turns a text column into its typed value
inside DuckDB (``try_strptime``, separator replacement, ``TRY_CAST``), so a gigabyte report is typed
while it streams, never row by row in Python. A value that does not parse gives NULL here; the
loader keeps its text in a ``<column>__raw`` column and counts it (``failed_sql``), so nothing is
silently lost.

The rules are strict on purpose: a number must have the declared shape (``1.234,56`` is refused
where ``1,234.56`` is declared, instead of becoming 1.23456 or 123456), an amount with more decimals
than its column keeps would be rounded and is refused, and a timestamp format must carry its zone
(``%z``, ``%Z``, or ISO 8601 with ``Z``/an offset): a naive time would be read in whatever time zone
the DuckDB session has, which is a guess.

This module imports nothing of the project but ``tablespec``'s type names, so the report catalog
(which the sandbox reads) may hold ``TextFormat`` rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

__all__ = ["ISO", "ISO_8601", "NameTypes", "TextFormat", "failed_sql", "parse_sql", "raw_column"]

# The timestamp "format" that means ISO 8601 with ``Z`` or a UTC offset (``2026-01-02T03:04:05+00:00``),
# read with DuckDB's cast, which knows every variant of it.
ISO_8601 = "ISO 8601"
RAW_SUFFIX = "__raw"
DECIMAL_MARKS = (".", ",")
GROUP_MARKS = ("", ",", ".", " ", "'")
_ZONE = re.compile(r"%[zZ]")
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_INTEGERS = ("BIGINT", "INTEGER")
_ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)"


@dataclass(frozen=True)
class TextFormat:
    """One convention for writing numbers and dates as text.

    ``decimal_mark`` separates the fraction, ``group_mark`` the thousands ("" when the file never
    groups). ``date_formats`` and ``timestamp_formats`` are strptime formats tried in order (the
    first that matches the whole value wins); every timestamp format names its zone (``%z``/``%Z``)
    or is ``ISO_8601``.
    """

    decimal_mark: str = "."
    group_mark: str = ""
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    timestamp_formats: tuple[str, ...] = (ISO_8601,)

    def __post_init__(self) -> None:
        if self.decimal_mark not in DECIMAL_MARKS:
            raise ValueError(f"decimal_mark {self.decimal_mark!r}; allowed: {DECIMAL_MARKS}")
        if self.group_mark not in GROUP_MARKS or self.group_mark == self.decimal_mark:
            raise ValueError(f"group_mark {self.group_mark!r}; allowed: {GROUP_MARKS}, other than the decimal mark")
        if not self.date_formats or not self.timestamp_formats:
            raise ValueError("a text format needs at least one date format and one timestamp format")
        for fmt in self.timestamp_formats:
            if fmt != ISO_8601 and not _ZONE.search(fmt):
                raise ValueError(f"timestamp format {fmt!r} has no zone (%z or %Z): the time would be read in the "
                                 f"session's time zone, a guess; name the zone or use ISO_8601")

    def with_dates(self, *formats: str) -> TextFormat:
        """The same numbers, other date formats (a column written differently from the rest of its file)."""
        return replace(self, date_formats=tuple(formats))


ISO = TextFormat()


@dataclass(frozen=True)
class NameTypes:
    """An ordered table of ``(pattern, column type)`` that types a flat file's columns by their names.

    A report Amazon documents only by name has no declared columns, yet its header says what each
    column holds (``item-price``, ``quantity-shipped``, ``reporting-date``): the loader applies this
    table to the snake_case header of each file, for the columns a catalog row does not declare. The
    first pattern that matches the whole name wins; a name no pattern matches stays text. The table is
    data (the report catalog holds it), so a new rule is a new row, not a new branch. A wrong guess
    loses nothing: a value that does not parse keeps its text in ``<column>__raw`` and is counted.
    """

    rules: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        for pattern, sql_type in self.rules:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"column-name rule {pattern!r}: not a regular expression ({exc})") from None
            try:
                parse_sql(sql_type, "x", ISO)
            except ValueError:
                raise ValueError(f"column-name rule {pattern!r}: type {sql_type!r} has no text parser; allowed: "
                                 f"DECIMAL(p,s), BIGINT, INTEGER, DOUBLE, DATE, TIMESTAMPTZ, BOOLEAN, VARCHAR"
                                 ) from None

    def type_of(self, column: str) -> str | None:
        """The type of the first rule whose pattern matches all of ``column`` (snake_case), else None."""
        for pattern, sql_type in self.rules:
            if re.fullmatch(pattern, column):
                return sql_type
        return None

    def types(self, columns: Iterable[str]) -> dict[str, str]:
        """The typed columns among ``columns`` (the ones a rule gives a type other than text)."""
        return {name: found for name in columns if (found := self.type_of(name)) not in (None, "VARCHAR")}


def raw_column(column: str) -> str:
    """The column that keeps a value's text when it does not parse: ``amount`` -> ``amount__raw``."""
    return f"{column}{RAW_SUFFIX}"


def parse_sql(sql_type: str, text: str, fmt: TextFormat) -> str | None:
    """A DuckDB expression giving the ``sql_type`` value of the text expression ``text``, NULL when
    the text is empty or does not parse; None for VARCHAR (nothing to parse)."""
    value = f"trim({text})"
    decimal = _DECIMAL.fullmatch(sql_type)
    if decimal:
        return _number(value, fmt, rf"(\d{{1,{int(decimal.group(2))}}}0*)" if int(decimal.group(2)) else "0+",
                       f"TRY_CAST({{}} AS {sql_type})")
    if sql_type in _INTEGERS:
        return _number(value, fmt, "0+", f"TRY_CAST(TRY_CAST({{}} AS DECIMAL(38,0)) AS {sql_type})")
    if sql_type == "DOUBLE":
        return _number(value, fmt, r"\d+", "TRY_CAST({} AS DOUBLE)")
    if sql_type == "DATE":
        return f"CAST(try_strptime({value}, {_list(fmt.date_formats)}) AS DATE)"
    if sql_type == "TIMESTAMPTZ":
        return _timestamp(value, fmt)
    if sql_type in ("BOOLEAN", "JSON"):
        return f"TRY_CAST({value} AS {sql_type})"
    if sql_type == "VARCHAR":
        return None
    raise ValueError(f"no text parser for column type {sql_type!r}")


def failed_sql(text: str, parsed: str) -> str:
    """True where the text holds a value (not empty) that ``parsed`` could not read."""
    return f"({text} IS NOT NULL AND trim({text}) <> '' AND ({parsed}) IS NULL)"


def _number(value: str, fmt: TextFormat, fraction: str, cast: str) -> str:
    """Check the whole value's shape (sign, grouped or plain digits, fraction), then normalize to
    ``1234.56`` and cast: a value of another convention fails instead of becoming another number."""
    digits = rf"(\d{{1,3}}({re.escape(fmt.group_mark)}\d{{3}})+|\d+)" if fmt.group_mark else r"\d+"
    shape = rf"[-+]?{digits}({re.escape(fmt.decimal_mark)}{fraction})?"
    normal = value
    if fmt.group_mark:
        normal = f"replace({normal}, {_literal(fmt.group_mark)}, '')"
    if fmt.decimal_mark != ".":
        normal = f"replace({normal}, {_literal(fmt.decimal_mark)}, '.')"
    return f"CASE WHEN regexp_full_match({value}, {_literal(shape)}) THEN {cast.format(normal)} END"


def _timestamp(value: str, fmt: TextFormat) -> str:
    parts = []
    zoned = [f for f in fmt.timestamp_formats if f != ISO_8601]
    if zoned:
        parts.append(f"try_strptime({value}, {_list(zoned)})")
    if ISO_8601 in fmt.timestamp_formats:
        parts.append(f"CASE WHEN regexp_full_match({value}, {_literal(_ISO_TIMESTAMP)}) "
                     f"THEN TRY_CAST({value} AS TIMESTAMPTZ) END")
    return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"


def _list(formats: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_literal(f) for f in formats) + "]"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
