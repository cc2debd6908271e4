"""One report request: type, marketplaces, data window and options, validated. Plain Python.

``ReportRequest.key`` is the same in every process, which is what lets the ledger (``ledger.py``)
resume a report a crashed run requested. What the catalog knows about the type (JSON or flat file,
which charset Amazon writes) is read from ``catalog.py``, never restated here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sp_assets.lib.marketplaces import UnknownMarketplaceError, by_id
from sp_assets.lib.reports import catalog
from sp_assets.lib.spapi.http import iso_z

_MAX_MARKETPLACES = 25


@dataclass(frozen=True)
class ReportRequest:
    """One report to request: type, marketplaces, data window and options (string -> string).

    ``data_end`` is inclusive, as Amazon's ``dataEndTime``: a UTC day is ``[D 00:00:00, D 23:59:59]``
    (see ``day_window``). ``key`` is stable across processes and is the ledger's key.
    """

    report_type: str
    marketplace_ids: tuple[str, ...]
    data_start: datetime | None = None
    data_end: datetime | None = None
    options: tuple[tuple[str, str], ...] = ()

    def __init__(self, report_type: str, marketplace_ids: str | Sequence[str], data_start: datetime | None = None,
                 data_end: datetime | None = None, options: Mapping[str, str] | None = None) -> None:
        ids = (marketplace_ids,) if isinstance(marketplace_ids, str) else tuple(marketplace_ids)
        object.__setattr__(self, "report_type", _valid_report_type(report_type))
        object.__setattr__(self, "marketplace_ids", _valid_marketplaces(ids))
        object.__setattr__(self, "data_start", _aware("data_start", data_start))
        object.__setattr__(self, "data_end", _aware("data_end", data_end))
        object.__setattr__(self, "options", _valid_options(options))
        if self.data_start and self.data_end and self.data_start > self.data_end:
            raise ValueError(f"data_start ({self.data_start.isoformat()}) must not be after data_end "
                             f"({self.data_end.isoformat()})")

    @property
    def options_dict(self) -> dict[str, str]:
        return dict(self.options)

    @property
    def key(self) -> str:
        """A stable text key: the same request gives the same key in every process."""
        return json.dumps([self.report_type, list(self.marketplace_ids), iso_or_none(self.data_start), iso_or_none(self.data_end),
                           [list(o) for o in self.options]], separators=(",", ":"))

    def describe(self) -> str:
        window = f" {iso_or_none(self.data_start)}..{iso_or_none(self.data_end)}" if self.data_start or self.data_end else ""
        options = f" {self.options_dict}" if self.options else ""
        return f"{','.join(self.marketplace_ids)}{window}{options}"

    @property
    def is_json(self) -> bool:
        row = catalog.CATALOG.get(self.report_type)
        return row is not None and row.fmt == catalog.JSON

    @property
    def is_xml(self) -> bool:
        row = catalog.CATALOG.get(self.report_type)
        return row is not None and row.fmt == catalog.XML

    @property
    def fallback_charset(self) -> str | None:
        """The charset of a document that does not declare one: the catalog's rule for the type (UTF-8, or
        the first marketplace's flat-file charset, the rule for a type the catalog does not know)."""
        row = catalog.CATALOG.get(self.report_type)
        if row is not None and row.charset == catalog.UTF8:
            return "UTF-8"
        try:
            return by_id(self.marketplace_ids[0]).charset
        except UnknownMarketplaceError:
            return None


def day_window(day_start: datetime) -> tuple[datetime, datetime]:
    """``(start, end)`` of one whole day for ``ReportRequest``: the end is the last second (inclusive)."""
    start = _aware("day_start", day_start)
    assert start is not None
    return start, start + timedelta(days=1) - timedelta(seconds=1)


def _valid_report_type(value: str) -> str:
    if not isinstance(value, str) or not value or not value.replace("_", "").isalnum() or value.upper() != value:
        raise ValueError(f"report_type must be an Amazon report type such as GET_MERCHANT_LISTINGS_ALL_DATA, "
                         f"got {value!r}")
    return value


def _valid_marketplaces(ids: tuple[str, ...]) -> tuple[str, ...]:
    if not 1 <= len(ids) <= _MAX_MARKETPLACES or not all(isinstance(i, str) and i for i in ids):
        raise ValueError(f"marketplace_ids must hold 1 to {_MAX_MARKETPLACES} marketplace id strings, got {ids!r}")
    return ids


def _valid_options(options: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if options is None:
        return ()
    if not isinstance(options, Mapping):
        raise ValueError(f"options must be a mapping of strings to strings, got {type(options).__name__}")
    bad = [f"{k!r} ({type(v).__name__})" for k, v in options.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise ValueError(f"report options must map strings to strings (Amazon refuses other types); "
                         f"not strings: {', '.join(bad)}")
    return tuple(sorted(options.items()))


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def iso_or_none(value: datetime | None) -> str | None:
    """``2026-03-01T00:00:00Z`` or None: how windows are written in keys and in the ledger."""
    return None if value is None else iso_z(value)

