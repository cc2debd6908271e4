"""Product Pricing: the calls against the sandbox (batches, tricky SKUs, invalid entries) and answer parsing."""

from __future__ import annotations

import pytest

from sp_assets.lib.pricing import (
    InvalidItem,
    PricedItem,
    batches,
    get_competitive_pricing,
    get_pricing,
    outcomes,
)
from sp_assets_tests.lib.spapi.support import US, client_for

TRICKY = ["MUG 12oz BLUE", "CABLE+USB/C-1M", 'TEE "VINTAGE" L', "KIT#7 SET"]


def test_pricing_batches_of_20_and_tricky_skus_round_trip(sandbox_factory) -> None:
    sb = sandbox_factory()
    skus = [p.sku for p in sb.seller.products(US)]
    assert set(TRICKY) <= set(skus)
    unknown = ['NO SUCH "SKU" +/#', "missing-1"]
    with client_for(sb) as client:
        results = list(get_pricing(client, US, "Sku", skus + unknown))
    assert sb.stats.get("getPricing.served") == -(-(len(skus) + 2) // 20)  # each batch once, <= 20 each
    priced = {r.identifier: r for r in results if isinstance(r, PricedItem)}
    invalid = {r.identifier: r for r in results if isinstance(r, InvalidItem)}
    assert set(priced) == set(skus)  # every SKU, the tricky ones included, came back as sent
    assert set(invalid) == set(unknown) and all(r.status == "ClientError" and not r.ok for r in invalid.values())
    offer = priced["CABLE+USB/C-1M"].record["Product"]["Offers"][0]
    assert offer["SellerSKU"] == "CABLE+USB/C-1M"


def test_competitive_pricing_by_asin(sandbox) -> None:
    asins = [p.asin for p in sandbox.seller.products(US)[:5]]
    with client_for(sandbox) as client:
        results = list(get_competitive_pricing(client, US, "Asin", asins + ["B000000000"]))
    assert [r.identifier for r in results if r.ok] == asins
    assert "CompetitivePricing" in results[0].record["Product"]
    assert [r.status for r in results if not r.ok] == ["ClientError"]


def test_pricing_rejects_bad_arguments_before_calling(sandbox) -> None:
    client = client_for(sandbox)
    with pytest.raises(ValueError, match="item_type"):
        list(get_pricing(client, US, "Upc", ["x"]))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        list(get_pricing(client, US, "Sku", ["x"], batch_size=21))
    assert client.stats.total().calls == 0


def test_pricing_outcomes_and_batches() -> None:
    assert [len(b) for b in batches([str(i) for i in range(45)])] == [20, 20, 5]
    assert batches(["a", "a", "b"]) == [["a", "b"]]
    with pytest.raises(ValueError):
        batches(["a"], 21)
    body = {"payload": [
        {"status": "Success", "SellerSKU": "ok-1", "Product": {}},
        {"status": "ClientError", "SellerSKU": "Laptop 12\\&quot;"},
    ]}
    result = list(outcomes(body, "Sku", ["ok-1", 'Laptop 12"', "lost"]))
    assert isinstance(result[0], PricedItem) and result[0].ok
    assert isinstance(result[1], InvalidItem) and result[1].identifier == 'Laptop 12"'
    assert result[1].status == "ClientError" and not result[1].ok
    assert result[2] == InvalidItem("lost", "Sku", "NoResult")
