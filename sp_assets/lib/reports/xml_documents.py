"""XML report documents as flat files: streamed element by element, never held whole. Plain Python.

Amazon writes a few report types only as XML (the browse tree, the XML order reports). Rather than a
second loader, each is turned into the project's one flat-file dialect (tab-separated UTF-8, a header
row, no quoting) and then loaded exactly like a flat report: typed columns by the catalog row, a value
that does not parse kept in ``<column>__raw``, one transaction per partition.

``ElementTree.iterparse`` reads the document in chunks; each record element (``Node`` of the browse
tree, ``Order`` of an orders report) is turned into rows when it ends and then cleared, together with
the references its parent holds, so memory stays at one record however large the file (a browse tree
of a big marketplace is hundreds of megabytes). The column names are the catalog row's ``columns``
(one fact, one place): a flattener returns its values in that order.

Namespaces are ignored (Amazon's envelopes sometimes declare one): a tag is compared by its local name.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.decoding import DocumentError


class XmlDocumentError(DocumentError):
    """An XML document that is not what its report type promises (malformed, or the wrong root)."""


def local(tag: str) -> str:
    """``{namespace}Name`` -> ``Name``."""
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return " ".join(element.text.split())  # tabs and newlines would break the flat file's rows


def child(element: ET.Element, *path: str) -> ET.Element | None:
    """The first descendant along ``path`` of local tag names, or None."""
    current: ET.Element | None = element
    for name in path:
        if current is None:
            return None
        current = next((c for c in current if local(c.tag) == name), None)
    return current


def text_at(element: ET.Element, *path: str) -> str:
    return _text(child(element, *path))


def children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if local(c.tag) == name]


# ------------------------------------------------------------------------------------------ browse tree
def browse_tree_rows(node: ET.Element) -> list[list[str]]:
    """One ``Node``: its id, names, paths, children (ids, comma-separated) and product types."""
    child_ids = [_text(c) for c in children(child(node, "childNodes"), "id")]
    product_types = [_text(c) for c in children(child(node, "productTypeDefinitions"), "productTypeDefinitionsValue")]
    refinements = child(node, "refinementsInformation")
    return [[text_at(node, "browseNodeId"), text_at(node, "browseNodeName"),
             text_at(node, "browseNodeStoreContextName"), text_at(node, "browsePathById"),
             text_at(node, "browsePathByName"), text_at(node, "hasChildren"), ",".join(child_ids),
             ",".join(product_types),
             refinements.get("count", "") if refinements is not None else ""]]


# ------------------------------------------------------------------------------------------ orders
def _components(parent: ET.Element | None) -> dict[str, tuple[str, str]]:
    """``Component`` children (``Type``, ``Amount currency=...``) by type: (amount, currency)."""
    found: dict[str, tuple[str, str]] = {}
    for component in children(parent, "Component"):
        amount = child(component, "Amount")
        found[text_at(component, "Type")] = (_text(amount), amount.get("currency", "") if amount is not None else "")
    return found


def order_rows(order: ET.Element) -> list[list[str]]:
    """One ``Order``: a row per ``OrderItem``, the order's own fields repeated on each (as the flat file)."""
    fulfillment = child(order, "FulfillmentData")
    address = child(fulfillment, "Address") if fulfillment is not None else None
    head = [text_at(order, "AmazonOrderID"), text_at(order, "MerchantOrderID"), text_at(order, "PurchaseDate"),
            text_at(order, "LastUpdatedDate"), text_at(order, "OrderStatus"), text_at(order, "SalesChannel"),
            text_at(fulfillment, "FulfillmentChannel") if fulfillment is not None else "",
            text_at(fulfillment, "ShipServiceLevel") if fulfillment is not None else "",
            text_at(address, "City") if address is not None else "",
            text_at(address, "State") if address is not None else "",
            text_at(address, "PostalCode") if address is not None else "",
            text_at(address, "Country") if address is not None else "",
            text_at(order, "IsBusinessOrder")]
    rows = []
    for item in children(order, "OrderItem"):
        prices = _components(child(item, "ItemPrice"))
        currency = next((c for _, c in prices.values() if c), "")
        promotion = child(item, "Promotion")
        rows.append([*head, text_at(item, "ASIN"), text_at(item, "SKU"), text_at(item, "ItemStatus"),
                     text_at(item, "ProductName"), text_at(item, "Quantity"), currency,
                     prices.get("Principal", ("", ""))[0], prices.get("Tax", ("", ""))[0],
                     prices.get("Shipping", ("", ""))[0], prices.get("ShippingTax", ("", ""))[0],
                     text_at(promotion, "PromotionIDs") if promotion is not None else "",
                     text_at(promotion, "ItemPromotionDiscount") if promotion is not None else "",
                     text_at(promotion, "ShipPromotionDiscount") if promotion is not None else ""])
    return rows


def order_report_rows(report: ET.Element) -> list[list[str]]:
    """One ``OrderReport`` (the scheduled order report): a row per ``Item``, the order's fields repeated."""
    fulfillment = child(report, "FulfillmentData")
    address = child(fulfillment, "Address") if fulfillment is not None else None
    head = [text_at(report, "AmazonOrderID"), text_at(report, "OrderDate"), text_at(report, "OrderPostedDate"),
            text_at(fulfillment, "FulfillmentMethod") if fulfillment is not None else "",
            text_at(fulfillment, "FulfillmentServiceLevel") if fulfillment is not None else "",
            text_at(address, "City") if address is not None else "",
            text_at(address, "StateOrRegion") if address is not None else "",
            text_at(address, "PostalCode") if address is not None else "",
            text_at(address, "CountryCode") if address is not None else "",
            text_at(report, "IsBusinessOrder")]
    rows = []
    for item in children(report, "Item"):
        prices = _components(child(item, "ItemPrice"))
        fees = {text_at(fee, "Type"): text_at(fee, "Amount") for fee in children(child(item, "ItemFees"), "Fee")}
        currency = next((c for _, c in prices.values() if c), "")
        rows.append([*head, text_at(item, "AmazonOrderItemCode"), text_at(item, "SKU"), text_at(item, "Title"),
                     text_at(item, "Quantity"), currency, prices.get("Principal", ("", ""))[0],
                     prices.get("Tax", ("", ""))[0], prices.get("Shipping", ("", ""))[0],
                     prices.get("ShippingTax", ("", ""))[0], fees.get("Commission", "")])
    return rows


@dataclass(frozen=True)
class XmlFlattener:
    """The element each record is (by local name) and how it becomes rows of the catalog row's columns."""

    record: str
    rows: Callable[[ET.Element], list[list[str]]]


FLATTENERS: dict[str, XmlFlattener] = {
    catalog.XML_BROWSE_TREE: XmlFlattener("Node", browse_tree_rows),
    catalog.XML_ALL_ORDERS_BY_ORDER_DATE: XmlFlattener("Order", order_rows),
    catalog.ORDER_REPORT_SHIPPING: XmlFlattener("OrderReport", order_report_rows),
}


def iter_records(path: Path, record: str) -> Iterator[ET.Element]:
    """Each ``record`` element of the document as it ends; cleared (and dropped from its parent) after use."""
    parents: list[ET.Element] = []
    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                parents.append(element)
                continue
            parents.pop()
            if local(element.tag) == record:
                yield element
                element.clear()
                if parents:
                    parents[-1].remove(element)
    except ET.ParseError as error:
        raise XmlDocumentError(f"{path.name}: not well-formed XML ({error})") from None


def xml_to_flat_file(report_type: str, source: Path, target: Path) -> int:
    """Write ``source`` (an XML document of ``report_type``) to ``target`` as a flat file; the data rows."""
    flattener = FLATTENERS.get(report_type)
    if flattener is None:
        raise XmlDocumentError(f"{report_type}: no XML reader; readable XML types: {', '.join(sorted(FLATTENERS))}")
    columns = catalog.lookup(report_type).columns
    rows = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(columns) + "\n")
        for element in iter_records(source, flattener.record):
            for values in flattener.rows(element):
                if len(values) != len(columns):  # a programming error: the flattener and the row disagree
                    raise XmlDocumentError(f"{report_type}: {len(values)} values for {len(columns)} columns")
                out.write("\t".join(v.replace("\t", " ") for v in values) + "\n")
                rows += 1
    return rows
