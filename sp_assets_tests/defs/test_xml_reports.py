"""XML report documents (issue 14): the browse tree and the XML orders report, streamed and flattened.

Both materialize against the sandbox into typed tables; the XML orders agree with the flat all-orders
report of the same day value for value; a browse tree far larger than memory should hold is read with a
bounded Python heap (the record elements are cleared as they are read).
"""

from __future__ import annotations

import tracemalloc
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from sp_assets.defs.reports.assets import build_report_assets
from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.xml_documents import XmlDocumentError, xml_to_flat_file

from .conftest import AssetEnv, make_config, past_day

BROWSE, XML_ORDERS = catalog.XML_BROWSE_TREE, catalog.XML_ALL_ORDERS_BY_ORDER_DATE
ORDER_REPORT = catalog.ORDER_REPORT_SHIPPING


def _config():
    return make_config({"us": {"reports": [
        {"type": BROWSE, "table": "browse_tree"},
        {"type": ORDER_REPORT},
        {"type": XML_ORDERS, "table": "xml_orders"},
        {"type": catalog.ALL_ORDERS_BY_ORDER_DATE, "table": "all_orders_report", "quote_char": "none"}]}},
        reports=[])


def _assets(entry, *tables: str) -> list[dg.AssetsDefinition]:
    return [a for a in build_report_assets(entry) if {k.path[-1] for k in a.keys} & set(tables)]


def test_xml_orders_land_typed_and_agree_with_the_flat_report(asset_env: AssetEnv) -> None:
    config = _config()
    entry = config.get("us")
    day = past_day(12)
    result = asset_env.materialize(_assets(entry, "xml_orders", "all_orders_report"), config,
                                   partition_key=day.isoformat())
    assert result.success
    wh = asset_env.warehouse
    columns = wh.columns("us", "xml_orders")
    assert (columns["purchase_date"], columns["item_price"], columns["quantity"], columns["is_business_order"]) == (
        "TIMESTAMP WITH TIME ZONE", "DECIMAL(18,2)", "BIGINT", "BOOLEAN")
    fields = "amazon_order_id, sku, quantity, item_price, item_tax, purchase_date, order_status"
    xml_rows = sorted(wh.query(f"select {fields} from us.xml_orders").rows())
    flat_rows = sorted(wh.query(f"select {fields} from us.all_orders_report").rows())
    assert len(xml_rows) > 20 and xml_rows == flat_rows
    assert all(isinstance(r[3], Decimal) for r in xml_rows if r[3] is not None)
    assert {r[0] for r in wh.query("select partition_date from us.xml_orders").rows()} == {day}


def test_the_browse_tree_lands_one_row_per_node(asset_env: AssetEnv) -> None:
    config = _config()
    entry = config.get("us")
    result = asset_env.materialize(_assets(entry, "browse_tree"), config)  # a snapshot: unpartitioned, today
    assert result.success
    wh = asset_env.warehouse
    rows = wh.query("select browse_node_id, browse_node_name, has_children, child_node_ids, browse_path_by_id "
                    "from us.browse_tree").rows()
    categories = {p.category_id for p in asset_env.sandbox.seller.products(entry.marketplace_id)}
    leaves = [r for r in rows if r[2] is False]
    assert {r[0] for r in leaves} == categories
    roots = [r for r in rows if r[2] is True]
    assert roots and {c for r in roots for c in r[3].split(",")} == categories
    assert all(leaf[4].split(",")[0] in {r[0] for r in roots} for leaf in leaves)
    assert wh.columns("us", "browse_tree")["has_children"] == "BOOLEAN"


def test_a_large_browse_tree_streams_with_a_bounded_heap(tmp_path: Path) -> None:
    source, target = tmp_path / "tree.xml", tmp_path / "tree.tsv"
    nodes = 60_000
    with source.open("w", encoding="utf-8") as out:
        out.write("<Result>")
        for n in range(nodes):
            out.write(f"<Node><browseNodeId>{n}</browseNodeId><browseNodeName>Node {n} with a name"
                      f"</browseNodeName><browsePathById>1,{n}</browsePathById><hasChildren>false</hasChildren>"
                      f"<childNodes count=\"0\"/></Node>")
        out.write("</Result>")
    size = source.stat().st_size
    tracemalloc.start()
    try:
        assert xml_to_flat_file(BROWSE, source, target) == nodes
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 4, f"peak Python heap {peak} bytes for a {size}-byte document: not streamed"
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == list(catalog.lookup(BROWSE).columns) and len(lines) == nodes + 1


def test_malformed_xml_is_a_document_error(tmp_path: Path) -> None:
    source = tmp_path / "bad.xml"
    source.write_text("<Result><Node><browseNodeId>1</browseNodeId></Result>", encoding="utf-8")
    with pytest.raises(XmlDocumentError, match="not well-formed"):
        xml_to_flat_file(BROWSE, source, tmp_path / "bad.tsv")


def test_the_scheduled_order_report_lands_one_row_per_item_with_its_commission(asset_env: AssetEnv) -> None:
    config = _config()
    entry = config.get("us")
    day = past_day(12)
    result = asset_env.materialize(_assets(entry, "order_report_shipping", "all_orders_report"), config,
                                   partition_key=day.isoformat())
    assert result.success
    wh = asset_env.warehouse
    columns = wh.columns("us", "order_report_shipping")
    assert (columns["purchase_date"], columns["item_price"], columns["commission_fee"], columns["quantity"]) == (
        "TIMESTAMP WITH TIME ZONE", "DECIMAL(18,2)", "DECIMAL(18,2)", "BIGINT")
    rows = wh.query("select amazon_order_id, sku, quantity, item_price, commission_fee "
                    "from us.order_report_shipping").rows()
    flat = {(r[0], r[1]): (r[2], r[3]) for r in wh.query(
        "select amazon_order_id, sku, quantity, item_price from us.all_orders_report where item_price is not null"
    ).rows()}
    assert len(rows) > 20 and {(r[0], r[1]): (r[2], r[3]) for r in rows} == flat, "the priced lines, as the flat file"
    assert all(r[4] == (-r[3] * Decimal("0.15")).quantize(Decimal("0.01")) for r in rows), "15% Commission"
