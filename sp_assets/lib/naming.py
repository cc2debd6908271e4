"""One normalization of Amazon's names into DuckDB identifiers, used everywhere.

Amazon spells the same field three ways: ``AmazonOrderId`` in JSON, ``amazon-order-id`` in flat-file
reports and ``Amazon Order Id`` in some localized headers. If every module normalized on its own, the
same field would land in two columns. ``snake_case`` is the single rule; ``safe_identifier`` guards
every schema, table and column name before it is interpolated into SQL (DuckDB cannot bind
identifiers as parameters).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["NamingError", "qualified_name", "quote_identifier", "safe_identifier", "snake_case"]


class NamingError(ValueError):
    """A name cannot be turned into, or is not, a safe DuckDB identifier."""


_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
# "SellerSKU" -> "Seller_SKU": a lower-case letter followed by an upper-case letter.
_LOWER_UPPER = re.compile(r"(?<=[a-z])(?=[A-Z])")
# "SKUList" -> "SKU_List", "Aged90PlusDays" -> "Aged90_Plus_Days": an acronym or a number followed by a
# capitalized word. A digit before a lone capital does not split: "B2B", "B2C" stay one word.
_ACRONYM_WORD = re.compile(r"(?<=[A-Z0-9])(?=[A-Z][a-z])")
_SAFE = re.compile(r"[a-z0-9_]+")
MAX_IDENTIFIER_LENGTH = 120


def snake_case(name: str) -> str:
    """Normalize an Amazon field or header name to ``lower_snake_case``.

    Examples: ``AmazonOrderId`` and ``amazon-order-id`` -> ``amazon_order_id``; ``SellerSKU`` ->
    ``seller_sku``; ``ItemPrice.Amount`` -> ``item_price_amount``; ``Quantity Price 1`` ->
    ``quantity_price_1``; ``orderedProductSalesB2B`` -> ``ordered_product_sales_b2b``. Words split
    where a lower-case letter meets a capital, and where an acronym or a number meets a capitalized
    word; digits stay attached to the letters before them (``addressLine1`` -> ``address_line1``,
    ``p70ForecastUnits`` -> ``p70_forecast_units``), so an abbreviation such as B2B stays one word. Accents are folded (``Über`` -> ``uber``) and any other punctuation,
    a byte-order mark or surrounding junk becomes a separator. A name with nothing left (empty,
    only punctuation, or only non-Latin script such as a Japanese header) raises ``NamingError``:
    callers map such headers explicitly instead of getting a silent ``column0``.
    """
    if not isinstance(name, str):
        raise NamingError(f"a column name must be a string, got {type(name).__name__}: {name!r}")
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = _NON_ALNUM.sub("_", folded)
    words = _ACRONYM_WORD.sub("_", _LOWER_UPPER.sub("_", words))
    result = re.sub("_+", "_", words).strip("_").lower()
    if not result:
        raise NamingError(
            f"cannot derive a column name from {name!r}: it has no ASCII letters or digits; "
            "map it to a name explicitly (for example with header_map)"
        )
    return result


def safe_identifier(name: str, what: str = "identifier") -> str:
    """Return ``name`` unchanged if it is safe to interpolate into SQL, else raise ``NamingError``.

    Allowed: 1 to 120 characters from ``[a-z0-9_]``. ``what`` names the thing in the error
    (``"schema"``, ``"table"``, ``"column"``) so the message says which argument was wrong.
    """
    if not isinstance(name, str) or not _SAFE.fullmatch(name) or len(name) > MAX_IDENTIFIER_LENGTH:
        raise NamingError(
            f"invalid {what} name {name!r}: use 1-{MAX_IDENTIFIER_LENGTH} characters from [a-z0-9_] "
            f"(snake_case({name!r}) may help)"
        )
    return name


def quote_identifier(name: str, what: str = "identifier") -> str:
    """Validate ``name`` and double-quote it, so reserved words such as ``in`` or ``order`` work."""
    return f'"{safe_identifier(name, what)}"'


def qualified_name(schema: str, table: str) -> str:
    """``"schema"."table"`` for SQL: a marketplace code such as ``in`` (India) is a reserved word."""
    return f"{quote_identifier(schema, 'schema')}.{quote_identifier(table, 'table')}"
