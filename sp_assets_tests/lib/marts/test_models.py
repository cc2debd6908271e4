"""Each mart on fixture tables (``fixtures.py``), against numbers computed by hand in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sp_assets.lib.marts import MODELS, MartError, build, load_fx_rates, read_fx_csv
from sp_assets.lib.warehouse import Warehouse
from sp_assets_tests.lib.marts.fixtures import (
    ACCOUNT_SCHEMAS,
    US_EVENTS_TOTAL,
    create_account_tables,
    create_raw_tables,
    sources,
    write_fx_csv,
)

D = Decimal
OCT = (date(2026, 10, 1), date(2026, 11, 1))


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "w.duckdb", source="sandbox")
    create_raw_tables(warehouse)
    load_fx_rates(warehouse, write_fx_csv(tmp_path / "fx.csv"))
    return warehouse


def _rows(warehouse: Warehouse, sql: str) -> dict:
    return {tuple(r[:-1]): r[-1] for r in warehouse.query(sql).iter_rows()}


def test_sku_daily_profit_splits_every_event_into_one_column(warehouse: Warehouse) -> None:
    result = build(warehouse, "sku_daily_profit", sources(), reporting_currency="USD", start=OCT[0], end=OCT[1])
    assert result.sources["financial_events"] == ["us.financial_events", "de.financial_events",
                                                  "jp.financial_events"]
    row = warehouse.query("select * from marts.sku_daily_profit where marketplace = 'us' and sku = 'SKU-A' "
                          "and day = '2026-10-05'").row(0, named=True)
    # 20.00 + 1.60 charges; -2 promotion; -3 commission; -6 FBA; -1.60 tax withheld; refund -10 + 1.50
    assert (row["units"], row["gross_sales"], row["promotions"], row["referral_fees"], row["fba_fees"],
            row["taxes_withheld"], row["refunds"], row["other_fees"], row["reimbursements"]) == (
        2, D("21.60"), D("-2.00"), D("-3.00"), D("-6.00"), D("-1.60"), D("-8.50"), D("0.00"), D("0.00"))
    assert row["net_proceeds"] == D("0.50")
    # 10.00 of storage over 31 days in whole cents: floor(5000/31) - floor(4000/31) = 161 - 129 = 32
    assert row["storage_fees"] == D("-0.32")
    assert (row["reporting_currency"], row["fx_rate"], row["net_proceeds_rc"]) == ("USD", 1.0, D("0.50"))
    other = _rows(warehouse, "select sku, other_fees from marts.sku_daily_profit where day = '2026-10-05' "
                             "and marketplace = 'us'")
    assert other[("(no sku)",)] == D("-39.99")
    reimbursed = _rows(warehouse, "select sku, reimbursements from marts.sku_daily_profit "
                                  "where day = '2026-10-05' and marketplace = 'us'")
    assert reimbursed[("SKU-B",)] == D("12.00")
    # the month's storage rows add up to the report's fee exactly, one row per day of October
    storage = warehouse.query("select count(*) as days, sum(storage_fees) as fee from marts.sku_daily_profit "
                              "where sku = 'SKU-A' and storage_fees <> 0").row(0, named=True)
    assert storage == {"days": 31, "fee": D("-10.00")}
    # de converts at the rate of 2026-10-01 (1.10) on 10-05: 30.00 -> 33.00, -4.50 -> -4.95, 25.50 -> 28.05
    de = warehouse.query("select fx_rate, gross_sales_rc, referral_fees_rc, net_proceeds_rc from marts.sku_daily_profit "
                         "where marketplace = 'de'").row(0, named=True)
    assert de == {"fx_rate": 1.10, "gross_sales_rc": D("33.00"), "referral_fees_rc": D("-4.95"),
                  "net_proceeds_rc": D("28.05")}
    us_total = warehouse.query("select sum(net_proceeds) from marts.sku_daily_profit where marketplace = 'us'").item()
    assert us_total == D(US_EVENTS_TOTAL)


def test_a_daily_build_replaces_only_its_window(warehouse: Warehouse) -> None:
    build(warehouse, "sku_daily_profit", sources(), reporting_currency="USD", start=OCT[0], end=OCT[1])
    with warehouse.connect() as db:
        db.execute("update us.financial_events set amount = amount * 2 where posted_date = '2026-10-06'")
    result = build(warehouse, "sku_daily_profit", sources(), reporting_currency="USD",
                   start=date(2026, 10, 6), end=date(2026, 10, 7))
    assert result.rows == result.deleted == 1  # SKU-A on 10-06 (its storage share included)
    net = _rows(warehouse, "select day::varchar, net_proceeds from marts.sku_daily_profit "
                           "where marketplace = 'us' and sku = 'SKU-A' and day in ('2026-10-05', '2026-10-06')")
    assert net == {("2026-10-05",): D("0.50"), ("2026-10-06",): D("20.00")}
    assert warehouse.query("select count(*) from marts.sku_daily_profit").item() == 31 + 2 + 1  # SKU-A every day of October (storage), (no sku), SKU-B, de


def test_marketplace_daily_rolls_up_both_currencies(warehouse: Warehouse) -> None:
    build(warehouse, "sku_daily_profit", sources(), reporting_currency="USD", start=OCT[0], end=OCT[1])
    build(warehouse, "marketplace_daily", {}, reporting_currency="USD", start=OCT[0], end=OCT[1])
    rows = warehouse.query("select marketplace, skus, units, net_proceeds, net_proceeds_rc, fx_rate, currency "
                           "from marts.marketplace_daily where day = '2026-10-05' order by marketplace").rows()
    # us: 0.50 (SKU-A) - 39.99 (no SKU) + 12.00 (SKU-B) = -27.49; de: 25.50 at 1.10 = 28.05
    assert rows == [("de", 1, 3, D("25.50"), D("28.05"), 1.10, "EUR"),
                    ("us", 3, 2, D("-27.49"), D("-27.49"), 1.0, "USD")]


def test_a_day_without_a_rate_has_no_converted_amount(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb", source="sandbox")
    create_raw_tables(warehouse, jp_events=True)
    load_fx_rates(warehouse, write_fx_csv(tmp_path / "fx.csv", "date,currency,rate\n2026-10-06,EUR,1.2\n"))
    build(warehouse, "sku_daily_profit", sources(), reporting_currency="USD", start=OCT[0], end=OCT[1])
    missing = warehouse.query("select marketplace, fx_rate, net_proceeds_rc from marts.sku_daily_profit "
                              "where marketplace in ('de', 'jp') order by 1").rows()
    assert missing == [("de", None, None), ("jp", None, None)]  # EUR only from 10-06, JPY never


def test_inventory_cover(warehouse: Warehouse) -> None:
    build(warehouse, "inventory_cover", sources(), reporting_currency="USD", start=OCT[0], end=OCT[1])
    rows = {r["sku"]: r for r in warehouse.query("select * from marts.inventory_cover").iter_rows(named=True)}
    a = rows["SKU-A"]
    # 7 (10-10) + 7 (10-04) in the last 7 days, + 16 (09-15) in the last 30; the cancelled 100 never counts
    assert (a["available"], a["inbound"], a["reserved"]) == (14, 6, 4)
    assert (a["avg_daily_units_7d"], a["avg_daily_units_30d"], a["days_of_cover"], a["stock_out"]) == (
        2.0, 1.0, 7.0, False)
    z = rows["SKU-Z"]
    assert (z["available"], z["inbound"], z["avg_daily_units_7d"], z["days_of_cover"], z["stock_out"]) == (
        0, 0, 0.0, None, True)


def test_returns(warehouse: Warehouse) -> None:
    build(warehouse, "returns", sources(), reporting_currency="USD")
    rows = {str(r["month"]): r for r in warehouse.query("select * from marts.returns where sku = 'SKU-A'")
            .iter_rows(named=True)}
    october = rows["2026-10-01"]
    assert (october["units_sold"], october["units_returned"]) == (14, 6)
    assert october["return_rate"] == pytest.approx(6 / 14)
    assert october["top_return_reasons"] == "DEFECTIVE (3), DAMAGED_BY_CARRIER (1), NOT_AS_DESCRIBED (1)"
    assert (rows["2026-09-01"]["units_sold"], rows["2026-09-01"]["units_returned"]) == (16, 0)


def test_settlement_reconciliation(warehouse: Warehouse) -> None:
    build(warehouse, "settlement_reconciliation", sources(), reporting_currency="USD")
    rows = {r["settlement_id"]: r for r in warehouse.query("select * from marts.settlement_reconciliation")
            .iter_rows(named=True)}
    assert (rows["G1"]["settlement_total"], rows["G1"]["events_total"], rows["G1"]["difference"],
            rows["G1"]["events"]) == (D(US_EVENTS_TOTAL), D(US_EVENTS_TOTAL), D("0.00"), 11)
    assert (rows["G2"]["processing_status"], rows["G2"]["settlement_total"], rows["G2"]["difference"]) == (
        "Open", None, None)


def test_models_run_without_any_raw_table(tmp_path: Path) -> None:
    """A branch or configuration without the finances tables still builds (empty) marts."""
    warehouse = Warehouse(tmp_path / "w.duckdb", source="sandbox")
    load_fx_rates(warehouse, None)
    for name, model in MODELS.items():
        window = OCT if model.day_column else (None, None)
        result = build(warehouse, name, sources(), reporting_currency="EUR", start=window[0], end=window[1])
        assert result.rows == 0 and all(found == [] for found in result.sources.values())


@pytest.mark.parametrize(("text", "message"), [
    ("day,currency,rate\n", "the header must be date,currency,rate"),
    ("date,currency,rate\n2026-13-01,EUR,1\n", "line 2: date '2026-13-01' is not YYYY-MM-DD"),
    ("date,currency,rate\n2026-10-01,eur,1\n", "line 2: currency: 'eur' is not an ISO 4217"),
    ("date,currency,rate\n2026-10-01,EUR,0\n", "line 2: rate '0' must be a positive number"),
    ("date,currency,rate\n2026-10-01,EUR,1\n2026-10-01,EUR,2\n", "line 3: a second rate for EUR on 2026-10-01"),
])
def test_a_bad_fx_file_is_refused_naming_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MartError, match="nothing was written") as error:
        read_fx_csv(write_fx_csv(tmp_path / "fx.csv", text))
    assert message in str(error.value)


def test_a_daily_model_needs_a_window(warehouse: Warehouse) -> None:
    with pytest.raises(MartError, match="needs a \\[start, end\\) window"):
        build(warehouse, "sku_daily_profit", sources(), reporting_currency="USD")


def test_the_readme_questions_run_on_the_marts(warehouse: Warehouse) -> None:
    """The five example questions of README "Querying DuckDB" are valid SQL over the marts' columns."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Querying DuckDB"):]
    block = section[section.index("```sql") + len("```sql"):section.index("```", section.index("```sql") + 6)]
    statements = [s.strip() for s in block.split(";") if s.strip().replace("\n", "").strip()]
    for name, model in MODELS.items():
        build(warehouse, name, sources(), reporting_currency="USD",
              **({"start": OCT[0], "end": OCT[1]} if model.day_column else {}))
    assert len(statements) == 6
    for statement in statements:
        warehouse.query(statement)  # raises on an unknown column or table


def test_a_column_the_spec_gained_is_added_to_an_existing_mart(warehouse: Warehouse) -> None:
    with warehouse.connect() as db:
        db.execute("create schema if not exists marts; create table marts.returns (marketplace varchar, month date, "
                   "sku varchar, units_sold bigint)")
    result = build(warehouse, "returns", sources(), reporting_currency="USD")
    assert result.rows == 2
    assert list(warehouse.columns("marts", "returns"))[-3:] == ["units_returned", "return_rate",
                                                                "top_return_reasons"]


def test_two_accounts_in_one_marketplace_keep_their_own_rows(tmp_path: Path) -> None:
    """Both accounts sell SKU-A in the US on the same days: each mart row is one account's, by ``account``
    (the views' value), and a build of one account replaces that account's rows only."""
    warehouse = Warehouse(tmp_path / "w.duckdb", source="sandbox")
    create_account_tables(warehouse)
    load_fx_rates(warehouse, None)
    both = sources(ACCOUNT_SCHEMAS)
    for name, model in MODELS.items():
        build(warehouse, name, both, reporting_currency="USD",
              **({"start": OCT[0], "end": OCT[1]} if model.day_column else {}))
    assert warehouse.query("select account, marketplace, day::varchar, net_proceeds::varchar "
                           "from marts.marketplace_daily where net_proceeds <> 0 order by all").rows() == [
        ("acme", "us", "2026-10-05", "-27.49"), ("acme", "us", "2026-10-06", "10.00"),
        ("brand", "us", "2026-10-05", "-54.98"), ("brand", "us", "2026-10-06", "20.00")]
    # the same SKU and day under both accounts: 7 units sold in 7 days each (not 14), own stock each
    assert warehouse.query("select account, available, avg_daily_units_7d, days_of_cover from marts.inventory_cover "
                           "where sku = 'SKU-A' order by 1").rows() == [("acme", 14, 2.0, 7.0),
                                                                         ("brand", 21, 2.0, 10.5)]
    assert warehouse.query("select account, events_total::varchar, difference::varchar "
                           "from marts.settlement_reconciliation where settlement_id = 'G1' order by 1").rows() == [
        ("acme", US_EVENTS_TOTAL, "0.00"), ("brand", str(2 * D(US_EVENTS_TOTAL)), "0.00")]
    assert warehouse.query("select account, units_sold, units_returned from marts.returns "
                           "where sku = 'SKU-A' and month = '2026-10-01' order by 1").rows() == [
        ("acme", 14, 6), ("brand", 14, 6)]

    # one account's build (a group's location) leaves the other account's rows as they were
    with warehouse.connect() as db:
        db.execute("update acme_us.financial_events set amount = amount * 10")
        db.execute("update brand_us.financial_events set amount = 0")
    only_acme = sources(ACCOUNT_SCHEMAS[:1])
    result = build(warehouse, "sku_daily_profit", only_acme, reporting_currency="USD", start=OCT[0], end=OCT[1],
                   accounts=["acme"])
    assert result.deleted == result.rows == warehouse.query(
        "select count(*) from marts.sku_daily_profit where account = 'acme'").item()
    build(warehouse, "returns", only_acme, reporting_currency="USD", accounts=["acme"])
    net = dict(warehouse.query("select account, sum(net_proceeds) from marts.sku_daily_profit group by 1").rows())
    assert net == {"acme": 10 * D(US_EVENTS_TOTAL), "brand": 2 * D(US_EVENTS_TOTAL)}
    assert warehouse.query("select count(distinct account) from marts.returns").item() == 2


def test_a_mart_from_before_accounts_gets_its_account_in_place(warehouse: Warehouse) -> None:
    """Existing marts gain ``account`` without a rebuild: each row the account the views give its
    marketplace label (``us``: default; ``acme_us``, several accounts: acme, marketplace us), so the days
    a build does not replace keep a full key."""
    with warehouse.connect() as db:
        db.execute("create schema if not exists marts; create table marts.sku_daily_profit (marketplace varchar, day date, "
                   "sku varchar, net_proceeds decimal(18, 2))")
        db.execute("insert into marts.sku_daily_profit values ('us', '2026-09-30', 'SKU-A', 1.00), "
                   "('acme_us', '2026-09-30', 'SKU-A', 2.00)")
    build(warehouse, "sku_daily_profit", sources(), reporting_currency="USD", start=OCT[0], end=OCT[1])
    assert warehouse.query("select account, marketplace, net_proceeds::varchar from marts.sku_daily_profit "
                           "where day = '2026-09-30' order by 1").rows() == [("acme", "us", "2.00"),
                                                                             ("default", "us", "1.00")]
    assert warehouse.query("select count(*) from marts.sku_daily_profit where account is null").item() == 0
    assert warehouse.query("select distinct account from marts.sku_daily_profit where day >= '2026-10-01' "
                           "and marketplace = 'us'").item() == "default"
