"""XML report documents written from the synthetic seller: the browse tree and the XML orders report.

Written element by element into the gzip stream, like the flat files. The XML orders report is cut from
the same rows as the all-orders flat file (``all_orders_row``), so the two formats agree value for value;
the browse tree is the seller's categories under their parent nodes (Amazon's real tree is far larger:
the loader's streaming is what matters, and a test feeds it a big synthetic tree).

Shapes follow Amazon's documented examples: the browse tree's ``<Result><Node>...`` with
``browseNodeId``, ``browseNodeName``, ``browsePathById``/``ByName``, ``hasChildren``, ``childNodes`` and
``productTypeDefinitions``; the orders report's ``<AmazonEnvelope><Message><Order>`` with
``FulfillmentData``, ``OrderItem`` and ``ItemPrice`` ``Component``s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from sp_assets.lib.reports import catalog
from sp_assets.sandbox.report_documents import (
    DocumentSpec,
    all_orders_row,
    item_fees,
    money,
    orders_by_order_date,
    report_time,
)
from sp_assets.sandbox.seller import SyntheticSeller

XmlGenerator = Callable[[SyntheticSeller, DocumentSpec, TextIO], int]


def _element(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value != "" else f"<{name}/>"


def _node_id(name: str) -> str:
    return str(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 900_000_000 + 100_000_000)


def write_browse_tree(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """A root node per parent category, a leaf per category of the seller's products; one row each."""
    marketplace_id = spec.marketplace_ids[0]
    leaves: dict[str, dict[str, str]] = {}
    for product in seller.products(marketplace_id):
        leaves.setdefault(product.parent_category, {})[product.category_id] = product.category_name
    root_only = dict(spec.options).get("RootNodesOnly") == "true"
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<Result>\n')
    rows = 0
    for parent, categories in sorted(leaves.items()):
        parent_id = _node_id(parent)
        nodes = [(parent_id, parent, parent_id, parent, sorted(categories), ["HOME"])]
        if not root_only:
            nodes += [(cid, name, f"{parent_id},{cid}", f"{parent},{name}", [], ["HOME", "KITCHEN"])
                      for cid, name in sorted(categories.items())]
        for node_id, name, path_ids, path_names, child_ids, product_types in nodes:
            out.write("<Node>" + _element("browseNodeId", node_id) + '<browseNodeAttributes count="0"/>'
                      + _element("browseNodeName", name) + _element("browseNodeStoreContextName", name)
                      + _element("browsePathById", path_ids) + _element("browsePathByName", path_names)
                      + _element("hasChildren", "true" if child_ids else "false")
                      + f'<childNodes count="{len(child_ids)}">'
                      + "".join(_element("id", c) for c in child_ids) + "</childNodes>"
                      + f'<productTypeDefinitions count="{len(product_types)}">'
                      + "".join(_element("productTypeDefinitionsValue", t) for t in product_types)
                      + '</productTypeDefinitions><refinementsInformation count="0"/></Node>\n')
            rows += 1
    out.write("</Result>\n")
    return rows


def write_xml_orders(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """The orders of the window, one ``Order`` per order with its ``OrderItem``s (values as the flat file's)."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<AmazonEnvelope xmlns:xsi='
              '"http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">\n'
              "<Header><DocumentVersion>1.00</DocumentVersion></Header>\n<MessageType>AllOrdersReport</MessageType>\n")
    rows = 0
    for message, order in enumerate(orders_by_order_date(seller, spec), start=1):
        items = [all_orders_row(order, item, with_cpf=True) for item in order.items]
        first = items[0]
        parts = [f"<Message><MessageID>{message}</MessageID><Order>",
                 _element("AmazonOrderID", first["amazon-order-id"]),
                 _element("MerchantOrderID", first["merchant-order-id"]),
                 _element("PurchaseDate", first["purchase-date"]),
                 _element("LastUpdatedDate", first["last-updated-date"]),
                 _element("OrderStatus", first["order-status"]), _element("SalesChannel", first["sales-channel"]),
                 "<FulfillmentData>", _element("FulfillmentChannel", first["fulfillment-channel"]),
                 _element("ShipServiceLevel", first["ship-service-level"]), "<Address>",
                 _element("City", first["ship-city"]), _element("State", first["ship-state"]),
                 _element("PostalCode", first["ship-postal-code"]), _element("Country", first["ship-country"]),
                 "</Address></FulfillmentData>", _element("IsBusinessOrder", first["is-business-order"])]
        for row in items:
            components = "".join(
                f"<Component><Type>{kind}</Type><Amount currency={quoteattr(row['currency'])}>"
                f"{escape(row[column])}</Amount></Component>"
                for kind, column in (("Principal", "item-price"), ("Tax", "item-tax"),
                                     ("Shipping", "shipping-price"), ("ShippingTax", "shipping-tax"))
                if row[column] != "")
            parts += ["<OrderItem>", _element("ASIN", row["asin"]), _element("SKU", row["sku"]),
                      _element("ItemStatus", row["item-status"]), _element("ProductName", row["product-name"]),
                      _element("Quantity", row["quantity"]), f"<ItemPrice>{components}</ItemPrice>",
                      "<Promotion>", _element("PromotionIDs", row["promotion-ids"]),
                      _element("ItemPromotionDiscount", row["item-promotion-discount"]),
                      _element("ShipPromotionDiscount", row["ship-promotion-discount"]), "</Promotion>",
                      "</OrderItem>"]
            rows += 1
        out.write("".join(parts) + "</Order></Message>\n")
    out.write("</AmazonEnvelope>\n")
    return rows


def write_order_report(seller: SyntheticSeller, spec: DocumentSpec, out: TextIO) -> int:
    """The scheduled order report: one ``OrderReport`` per priced order of the window, an ``Item`` per line
    with its price components and Amazon's commission (the settlement's fee rule)."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<AmazonEnvelope><Header><DocumentVersion>1.01'
              "</DocumentVersion></Header><MessageType>OrderReport</MessageType>\n")
    rows = 0
    message = 0
    for order in orders_by_order_date(seller, spec):
        if not order.has_prices:
            continue  # Amazon lists an order in this report once it is payable
        message += 1
        parts = [f"<Message><MessageID>{message}</MessageID><OrderReport>",
                 _element("AmazonOrderID", order.amazon_order_id),
                 _element("OrderDate", report_time(order.purchase_date)),
                 _element("OrderPostedDate", report_time(order.purchase_date)),
                 "<FulfillmentData>", _element("FulfillmentMethod", "Ship"),
                 _element("FulfillmentServiceLevel", order.ship_service_level), "<Address>",
                 _element("City", " ".join(order.ship_city.split())),
                 _element("StateOrRegion", " ".join(order.ship_state.split())),
                 _element("PostalCode", order.ship_postal_code), _element("CountryCode", order.ship_country),
                 "</Address></FulfillmentData>", _element("IsBusinessOrder", "true" if order.is_business_order
                                                           else "false")]
        for item in order.items:
            cur = item.currency
            components = "".join(
                f"<Component><Type>{kind}</Type><Amount currency={quoteattr(cur)}>{money(value, cur)}</Amount>"
                f"</Component>"
                for kind, value in (("Principal", item.item_price), ("Tax", item.item_tax),
                                    ("Shipping", item.shipping_price), ("ShippingTax", item.shipping_tax)))
            fees = "".join(f"<Fee><Type>{kind}</Type><Amount currency={quoteattr(cur)}>{money(value, cur)}</Amount>"
                           f"</Fee>" for kind, value in item_fees(item.item_price, item.unit_price, item.quantity,
                                                                  order.fulfillment_channel, cur)
                           if kind == "Commission")
            parts += ["<Item>", _element("AmazonOrderItemCode", item.order_item_id), _element("SKU", item.sku),
                      _element("Title", item.title), _element("Quantity", str(item.quantity)),
                      f"<ItemPrice>{components}</ItemPrice><ItemFees>{fees}</ItemFees></Item>"]
            rows += 1
        out.write("".join(parts) + "</OrderReport></Message>\n")
    out.write("</AmazonEnvelope>\n")
    return rows


XML_GENERATORS: dict[str, XmlGenerator] = {
    catalog.XML_BROWSE_TREE: write_browse_tree,
    catalog.XML_ALL_ORDERS_BY_ORDER_DATE: write_xml_orders,
    catalog.ORDER_REPORT_SHIPPING: write_order_report,
}
