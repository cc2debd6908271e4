"""Finances v0 in the sandbox: listFinancialEvents and listFinancialEventGroups against Amazon's model
(financesV0.json), Amazon's window rules, and the money identities the events are built to keep with
the orders, the customer returns and the settlement reports.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sp_assets.lib.marketplaces import by_id
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response

MODEL = "financesV0.json"
EVENTS, GROUPS = "/finances/v0/financialEvents", "/finances/v0/financialEventGroups"
US = "ATVPDKIKX0DER"


def closed_period(back: int = 2) -> tuple[int, datetime, datetime]:
    """A settlement period that closed ``back - 1`` periods ago: its index, start and end."""
    index = int((datetime.now(UTC) - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD) - back
    return (index, *docs.settlement_period(index))


def pages(na: SandboxCaller, path: str, operation: str, params: dict[str, Any],
          model: str = MODEL) -> Iterator[dict[str, Any]]:
    """Every page's payload, each validated against Amazon's model of ``operation``."""
    query = dict(params)
    while True:
        answer = na.get(path, params=query)
        assert answer.status_code == 200, answer.text
        validate_response(model, operation, 200, answer.json(), strict=True)
        payload = answer.json()["payload"]
        yield payload
        if not payload.get("NextToken"):
            return
        query = {**params, "NextToken": payload["NextToken"]}


def all_events(na: SandboxCaller, start: datetime, end: datetime, **extra: Any) -> dict[str, list[dict]]:
    lists: dict[str, list[dict]] = {}
    for payload in pages(na, EVENTS, "listFinancialEvents", {"PostedAfter": start.isoformat(),
                                                             "PostedBefore": end.isoformat(), **extra}):
        for name, events in payload["FinancialEvents"].items():
            lists.setdefault(name, []).extend(events)
    return lists


def amounts(event: dict[str, Any]) -> Iterator[Decimal]:
    for item in event.get("ShipmentItemList", []) + event.get("ShipmentItemAdjustmentList", []):
        for key, field in (("ItemChargeList", "ChargeAmount"), ("ItemChargeAdjustmentList", "ChargeAmount"),
                           ("ItemFeeList", "FeeAmount"), ("PromotionList", "PromotionAmount")):
            for component in item.get(key, []):
                yield Decimal(str(component[field]["CurrencyAmount"]))


def settlement_total(sb: SandboxServer, marketplace_id: str, index: int) -> Decimal:
    """The total-amount of the settlement report's summary row, as the report writes it."""
    out = io.StringIO()
    docs.write_settlement(sb.seller, marketplace_id, index, out, v2=True)
    header, summary = (line.split("\t") for line in out.getvalue().splitlines()[:2])
    return Decimal(dict(zip(header, summary, strict=True))["total-amount"].replace(",", ""))


def test_a_closed_periods_events_add_up_to_its_settlement_and_its_group(sandbox: SandboxServer) -> None:
    na = caller(sandbox, "Atzr|sandbox-na-finances-identity")
    index, start, end = closed_period()
    lists = all_events(na, start, end)
    assert set(lists) >= {"ShipmentEventList", "RefundEventList", "ServiceFeeEventList", "AdjustmentEventList"}
    us = [e for name in ("ShipmentEventList", "RefundEventList") for e in lists[name]
          if e["MarketplaceName"] == by_id(US).sales_channel]
    others = [e for e in lists["ShipmentEventList"] if e["MarketplaceName"] != by_id(US).sales_channel]
    assert len(us) > 500 and others, "the whole region's events, each naming its marketplace"
    assert all(start <= datetime.fromisoformat(e["PostedDate"]) < end for e in us)
    events_total = sum((a for e in us for a in amounts(e)), Decimal(0))
    groups = [g for payload in pages(na, GROUPS, "listFinancialEventGroups", {
        "FinancialEventGroupStartedAfter": start.isoformat(),
        "FinancialEventGroupStartedBefore": (start + timedelta(hours=1)).isoformat()})
        for g in payload["FinancialEventGroupList"]]
    group = next(g for g in groups if g["FinancialEventGroupId"] == docs.settlement_id(US, index))
    assert (group["ProcessingStatus"], group["FinancialEventGroupStart"], group["FinancialEventGroupEnd"]) == (
        "Closed", start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert group["OriginalTotal"]["CurrencyCode"] == "USD"
    original_total = Decimal(str(group["OriginalTotal"]["CurrencyAmount"]))
    assert events_total == original_total == settlement_total(sandbox, US, index), "to the cent"


def test_principal_is_the_order_items_price_and_each_refund_is_a_return(sandbox: SandboxServer) -> None:
    na = caller(sandbox, "Atzr|sandbox-na-finances-orders")
    _, start, _ = closed_period()
    lists = all_events(na, start, start + timedelta(days=3))
    shipments = [e for e in lists["ShipmentEventList"] if e["MarketplaceName"] == "Amazon.com"]
    for event in shipments[:5]:
        order_id = event["AmazonOrderId"]
        served: list[dict] = []
        for payload in pages(na, f"/orders/v0/orders/{order_id}/orderItems", "getOrderItems", {},
                             "ordersV0.json"):
            served.extend(payload["OrderItems"])
        prices = {i["OrderItemId"]: Decimal(i["ItemPrice"]["Amount"]) for i in served}
        principal = {i["OrderItemId"]: sum(Decimal(str(c["ChargeAmount"]["CurrencyAmount"]))
                                           for c in i["ItemChargeList"] if c["ChargeType"] == "Principal")
                     for i in event["ShipmentItemList"]}
        assert principal == prices, order_id
    refunds = lists["RefundEventList"]
    assert refunds, "a few returns in three days"
    for refund in refunds:
        plan = sandbox.seller.order_plan(refund["AmazonOrderId"])
        assert plan is not None
        (adjustment,) = refund["ShipmentItemAdjustmentList"]
        matches = [r for r in docs.plan_returns(sandbox.seller, plan)
                   if r.item.order_item_id == adjustment["OrderItemId"]
                   and r.at == datetime.fromisoformat(refund["PostedDate"])]
        assert len(matches) == 1 and matches[0].quantity == adjustment["QuantityShipped"]
        (charge,) = adjustment["ItemChargeAdjustmentList"]
        assert charge["ChargeType"] == "Principal" and charge["ChargeAmount"]["CurrencyAmount"] < 0


def test_groups_page_and_the_current_period_is_open(sandbox: SandboxServer) -> None:
    na = caller(sandbox, "Atzr|sandbox-na-finances-groups")
    _, start, _ = closed_period(back=3)
    payloads = list(pages(na, GROUPS, "listFinancialEventGroups", {
        "FinancialEventGroupStartedAfter": start.isoformat(), "MaxResultsPerPage": 5}))
    groups = [g for p in payloads for g in p["FinancialEventGroupList"]]
    assert len(payloads) >= 3 and all(len(p["FinancialEventGroupList"]) <= 5 for p in payloads)
    assert len({g["FinancialEventGroupId"] for g in groups}) == len(groups) == 4 * 4, "4 periods x 4 marketplaces"
    statuses = [g["ProcessingStatus"] for g in groups]
    assert statuses == ["Closed"] * 12 + ["Open"] * 4
    open_group = groups[-1]
    assert "FinancialEventGroupEnd" not in open_group and "FundTransferDate" not in open_group


def test_amazons_window_rules(sandbox: SandboxServer) -> None:
    na = caller(sandbox, "Atzr|sandbox-na-finances-rules")
    now = datetime.now(UTC)
    for params in ({"PostedAfter": (now - timedelta(days=1)).isoformat(), "PostedBefore": now.isoformat()},
                   {"PostedAfter": (now - timedelta(days=1)).isoformat(),
                    "PostedBefore": (now - timedelta(days=2)).isoformat()},
                   {"PostedAfter": (now - timedelta(seconds=30)).isoformat()},
                   {"PostedAfter": (now - timedelta(days=1)).isoformat(), "MaxResultsPerPage": 101},
                   {"NextToken": "not-a-token"}, {}):
        answer = na.get(EVENTS, params=params)
        assert answer.status_code == 400, params
        validate_response(MODEL, "listFinancialEvents", 400, answer.json(), strict=True)
    late = na.get(EVENTS, params={"PostedAfter": (now - timedelta(days=1)).isoformat(),
                                  "PostedBefore": now.isoformat()}).json()["errors"][0]
    assert late["message"] == "Date range is invalid." and "two minutes" in late["details"]
    wide = na.get(EVENTS, params={"PostedAfter": (now - timedelta(days=200)).isoformat(),
                                  "PostedBefore": (now - timedelta(days=10)).isoformat()})
    assert wide.status_code == 200 and not any(wide.json()["payload"]["FinancialEvents"].values()), \
        "more than 180 days apart: empty"
    bad_groups = na.get(GROUPS, params={"FinancialEventGroupStartedAfter": now.isoformat()})
    assert bad_groups.status_code == 400
    validate_response(MODEL, "listFinancialEventGroups", 400, bad_groups.json(), strict=True)


# ------------------------------------------------------------------------------------------ 2024-06-19
TRANSACTIONS_MODEL = "finances_2024-06-19.json"
TRANSACTIONS = "/finances/2024-06-19/transactions"


def leaves(breakdowns: list[dict]) -> Iterator[Decimal]:
    for breakdown in breakdowns:
        if breakdown.get("breakdowns"):
            yield from leaves(breakdown["breakdowns"])
        else:
            yield Decimal(str(breakdown["breakdownAmount"]["currencyAmount"]))


def test_transactions_are_the_events_of_one_marketplace(sandbox: SandboxServer) -> None:
    na = caller(sandbox, "Atzr|sandbox-na-finances-transactions")
    index, start, end = closed_period()
    window = {"postedAfter": start.isoformat(), "postedBefore": (start + timedelta(days=2)).isoformat(),
              "marketplaceId": US}
    found: list[dict] = []
    query = dict(window)
    while True:
        answer = na.get(TRANSACTIONS, params=query)
        assert answer.status_code == 200, answer.text
        validate_response(TRANSACTIONS_MODEL, "listTransactions", 200, answer.json(), strict=True)
        found.extend(answer.json()["payload"]["transactions"])
        if "nextToken" not in answer.json()["payload"]:
            break
        query = {**window, "nextToken": answer.json()["payload"]["nextToken"]}
    assert len(found) > 100 and {t["marketplaceDetails"]["marketplaceId"] for t in found} == {US}
    assert len({t["transactionId"] for t in found}) == len(found)
    for t in found:
        assert sum(leaves(t["breakdowns"]), Decimal(0)) == Decimal(str(t["totalAmount"]["currencyAmount"]))
    events = sandbox.backend("finances").events(US, start, start + timedelta(days=2))
    assert sum((Decimal(str(t["totalAmount"]["currencyAmount"])) for t in found), Decimal(0)) == sum(
        (e.amount for e in events), Decimal(0)), "the same money as the v0 events"
    groups = {r["relatedIdentifierValue"] for t in found for r in t["relatedIdentifiers"]
              if r["relatedIdentifierName"] == "FINANCIAL_EVENT_GROUP_ID"}
    assert groups == {docs.settlement_id(US, index)}
    bad = na.get(TRANSACTIONS, params={**window, "transactionStatus": "LOST"})
    assert bad.status_code == 400
    validate_response(TRANSACTIONS_MODEL, "listTransactions", 400, bad.json(), strict=True)
    late = na.get(TRANSACTIONS, params={"postedAfter": start.isoformat(), "postedBefore": datetime.now(UTC).isoformat()})
    assert late.status_code == 400 and "two minutes" in late.json()["errors"][0]["details"]


def test_burst_30_at_half_a_call_a_second(sandbox_factory) -> None:
    """Amazon's plan for listFinancialEvents: 0.5/s, burst 30 (the answer's rate header says 0.5)."""
    sb = sandbox_factory(speed=1.0)
    na = caller(sb, "Atzr|sandbox-na-finances-burst")
    _, start, _ = closed_period()
    params = {"PostedAfter": start.isoformat(), "PostedBefore": (start + timedelta(minutes=1)).isoformat()}
    answers = [na.get(EVENTS, params=params) for _ in range(30)]
    assert [a.status_code for a in answers] == [200] * 30, "a full bucket serves the burst"
    assert {a.headers["x-amzn-RateLimit-Limit"] for a in answers} == {"0.5"}
    statuses = [na.get(EVENTS, params=params).status_code for _ in range(200)]
    assert 429 in statuses, "then the bucket refills at 0.5 a second, far slower than these calls"
    groups = na.get(GROUPS, params={"FinancialEventGroupStartedAfter": start.isoformat()})
    assert groups.status_code == 200, "each operation has its own bucket"


def test_the_one_pass_postings_are_the_settlements_postings(sandbox: SandboxServer) -> None:
    """The backend reads postings order by order; the settlement report period by period: the same set."""
    _, start, _ = closed_period()
    window = (start - timedelta(days=1), start + timedelta(days=2))
    by_order = list(docs.postings_by_order(sandbox.seller, US, *window))
    settlement = list(docs.settlement_postings(sandbox.seller, US, *window))
    assert sorted(by_order, key=repr) == sorted(settlement, key=repr)
    assert {p.transaction_type for p in by_order} == {"Order", "Refund"}
