"""Parsing report documents: flat files by header name, and the sales-and-traffic JSON. Plain Python.

Amazon adds columns to flat files without notice and documents them with different spellings
(``StartingWarehouseBalance`` in the docs, ``Starting Warehouse Balance`` in real files), so rows are
read by header name, every column is kept (including ones nobody has heard of), and names go through
the project's single normalization (``naming.snake_case``): both spellings land in one column.

Amazon writes flat files raw: no quoting. A value may nevertheless start with ``"`` (a buyer comment,
a title), which a reader with ``"`` as quote character takes for a quoted field, swallowing the quotes
or, with an odd count, the following fields and lines. The ``quote`` option is therefore exposed as
the seed connector exposes it: ``'"'`` (default, like Domo's) or ``None`` (read every byte literally).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sp_assets.lib.naming import NamingError, snake_case

__all__ = ["ReportParseError", "TsvTable", "flatten_sales_and_traffic", "normalize_columns", "read_tsv",
           "tsv_record_batches", "SalesAndTraffic"]

QUOTE_CHOICES = ('"', None)


class ReportParseError(ValueError):
    """A document cannot be parsed as asked; the message says which header or option is the problem."""


def _raise_field_limit() -> None:
    # A raw quote in a value can make the csv module read a long span as one field: allow it instead of
    # failing with "field larger than field limit"; the columns still line up once the quote closes.
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(max(csv.field_size_limit(), limit))
            return
        except OverflowError:
            limit //= 2


def normalize_columns(headers: list[str], header_map: Mapping[str, str] | None = None) -> list[str]:
    """Header names -> unique snake_case column names (``header_map`` first, for localized headers).

    A name seen twice after normalization gets ``_2``, ``_3``... so no column is dropped.
    """
    mapping = dict(header_map or {})
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, header in enumerate(headers):
        raw = mapping.get(header, header)
        try:
            name = snake_case(raw)
        except NamingError:
            raise ReportParseError(
                f"column {position + 1} header {header!r} has no ASCII letters or digits; pass header_map="
                f"{{{header!r}: 'some_name'}} to name it (localized reports need this)"
            ) from None
        count = seen.get(name, 0) + 1
        seen[name] = count
        names.append(name if count == 1 else f"{name}_{count}")
    return names


@dataclass
class TsvTable:
    """A flat file opened for reading: normalized ``columns``, the file's ``headers``, and row dicts.

    Iterate it for ``{column: value}`` dicts. A row with more fields than the header keeps them as
    ``extra_1``, ``extra_2``...; a shorter row gets ``None`` for the missing ones. Empty values are
    ``None`` unless ``empty_as_none`` is False.
    """

    path: Path
    headers: list[str]
    columns: list[str]
    quote: str | None
    empty_as_none: bool = True

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with self.path.open(encoding="utf-8", newline="") as handle:
            reader = _reader(handle, self.quote)
            next(reader, None)
            width = len(self.columns)
            for fields in reader:
                if not fields or fields == [""]:
                    continue
                yield self._row(fields, width)

    def _row(self, fields: list[str], width: int) -> dict[str, Any]:
        values: list[Any] = [(None if (self.empty_as_none and v == "") else v) for v in fields]
        if len(values) < width:
            values += [None] * (width - len(values))
        row = dict(zip(self.columns, values[:width], strict=True))
        for extra, value in enumerate(values[width:], start=1):
            row[f"extra_{extra}"] = value
        return row

    def rows(self) -> list[dict[str, Any]]:
        return list(self)


def _reader(handle: Any, quote: str | None) -> Any:
    if quote not in QUOTE_CHOICES:
        raise ReportParseError(f"quote must be '\"' or None (read quotes literally), got {quote!r}")
    _raise_field_limit()
    if quote is None:
        return csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    return csv.reader(handle, delimiter="\t", quotechar=quote, doublequote=True, strict=False)


def read_tsv(path: str | Path, *, quote: str | None = '"', header_map: Mapping[str, str] | None = None,
             empty_as_none: bool = True) -> TsvTable:
    """Open a UTF-8 flat file (as ``run_report`` writes it) for reading by header name."""
    source = Path(path)
    with source.open(encoding="utf-8", newline="") as handle:
        headers = next(_reader(handle, quote), None)
    if not headers or headers == [""]:
        raise ReportParseError(f"{source} has no header row")
    headers = [h.lstrip("\ufeff").strip() for h in headers]
    return TsvTable(source, headers, normalize_columns(headers, header_map), quote, empty_as_none)


def tsv_record_batches(table: TsvTable, batch_size: int = 50_000) -> Iterator[Any]:
    """``pyarrow.RecordBatch``es of all-string columns (the header's, then any ``extra_N`` seen).

    Streaming: a million-row report never sits in memory as Python dicts at once.
    """
    import pyarrow as pa

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    batch: list[dict[str, Any]] = []
    columns = list(table.columns)
    for row in table:
        for name in row:
            if name not in columns:
                columns.append(name)
        batch.append(row)
        if len(batch) >= batch_size:
            yield _to_batch(pa, batch, columns)
            batch = []
    if batch:
        yield _to_batch(pa, batch, columns)


def _to_batch(pa: Any, rows: list[dict[str, Any]], columns: list[str]) -> Any:
    arrays = [pa.array([r.get(c) for r in rows], type=pa.string()) for c in columns]
    return pa.RecordBatch.from_arrays(arrays, names=columns)


# ------------------------------------------------------------------------------------------ JSON
@dataclass
class SalesAndTraffic:
    """GET_SALES_AND_TRAFFIC_REPORT flattened into two record lists with snake_case keys."""

    by_date: list[dict[str, Any]]
    by_asin: list[dict[str, Any]]
    specification: dict[str, Any]


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{prefix}_{snake_case(key)}" if prefix else snake_case(key), out)
    elif isinstance(value, list):
        out[prefix] = json.dumps(value, separators=(",", ":"))
    else:
        out[prefix] = value


def _record(entry: dict[str, Any], sections: tuple[str, ...]) -> dict[str, Any]:
    """Top-level scalars keep their name; the metric sections are flattened without their prefix
    (``salesByDate.orderedProductSales.amount`` -> ``ordered_product_sales_amount``). A name that
    two sections share keeps its section prefix, so nothing is overwritten."""
    record: dict[str, Any] = {}
    flat_sections: list[tuple[str, dict[str, Any]]] = []
    for key, value in entry.items():
        if key in sections and isinstance(value, dict):
            flat: dict[str, Any] = {}
            _flatten(value, "", flat)
            flat_sections.append((snake_case(key), flat))
        else:
            _flatten(value, snake_case(key), record)
    counts: dict[str, int] = {}
    for _, flat in flat_sections:
        for name in flat:
            counts[name] = counts.get(name, 0) + 1
    for section, flat in flat_sections:
        for name, value in flat.items():
            clash = counts[name] > 1 or name in record
            record[f"{section}_{name}" if clash else name] = value
    return record


def flatten_sales_and_traffic(document: Mapping[str, Any]) -> SalesAndTraffic:
    """Turn the sales-and-traffic JSON into by-date and by-ASIN records (unknown fields are kept)."""
    if not isinstance(document, Mapping):
        raise ReportParseError(f"a sales and traffic document is a JSON object, got {type(document).__name__}")
    spec = dict(document.get("reportSpecification") or {})
    marketplace_ids = spec.get("marketplaceIds") or []
    context = {"marketplace_id": marketplace_ids[0] if len(marketplace_ids) == 1 else ",".join(marketplace_ids)}
    by_date = [{**context, **_record(e, ("salesByDate", "trafficByDate"))}
               for e in document.get("salesAndTrafficByDate") or []]
    by_asin = []
    for entry in document.get("salesAndTrafficByAsin") or []:
        record = {**context, "parent_asin": None, "child_asin": None, "sku": None}
        record.update(_record(entry, ("salesByAsin", "trafficByAsin")))
        by_asin.append(record)
    return SalesAndTraffic(by_date, by_asin, spec)
