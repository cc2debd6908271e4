"""Benchmark: building every mart over 90 days of 2,000 orders a day vs writing those days' raw tables.

Target (issue 15): building the marts takes under 10 % of the time the raw loads took. The raw side
here is only the raw tables' **warehouse writes** (``Warehouse.replace_partition``, one per table and
day, as the assets write them): the API time of a real load (quota waits, pages, report polling) is
left out, so the figure is an upper bound of the marts' real share. The data is synthetic (seeded),
shaped like the demo seller's: ``--orders-per-day`` orders of 1-3 items over 60 SKUs, each shipped item
six financial event components (principal, tax, commission, FBA fee, sometimes a promotion, tax
withheld), 3 % refunded, a daily FBA inventory snapshot, customer returns, one settlement per 14 days
with its financial event group, and a month of storage fees.

The marts side is what the assets run: ``load_fx_rates`` then ``build`` of each model, the daily ones
over the whole range in one window (their backfill policy is one run).

Usage: .venv/bin/python benchmarks/bench_marts.py [--days 90] [--orders-per-day 2000] [--quick]
Progress goes to stderr; one JSON document goes to stdout.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
from benchlib import emit, figure, log, machine_info

from sp_assets.lib.marts import MODELS, Source, build, load_fx_rates
from sp_assets.lib.tablespec import BIGINT, DATE, MONEY, TIMESTAMPTZ, VARCHAR, Column, TableSpec
from sp_assets.lib.warehouse import Warehouse

FIRST_DAY = date(2026, 7, 1)
SKUS = 60


def _spec(name: str, partition: str, key: tuple[str, ...], **columns: str) -> TableSpec:
    return TableSpec(name, tuple(Column(n, t) for n, t in columns.items()), primary_key=key,
                     partition_column=partition)


# The raw tables as the marts read them (the finances schema is the finances domain's).
SPECS = {
    "order_items": _spec("order_items", "partition_date", ("amazon_order_id", "order_item_id"),
                         amazon_order_id=VARCHAR, order_item_id=VARCHAR, partition_date=DATE, order_status=VARCHAR,
                         seller_sku=VARCHAR, quantity_ordered=BIGINT, item_price_amount=MONEY),
    "financial_events": _spec("financial_events", "posted_date", ("event_key",), posted_date=DATE,
                              posted_at=TIMESTAMPTZ, event_type=VARCHAR, amazon_order_id=VARCHAR, sku=VARCHAR,
                              quantity=BIGINT, component_kind=VARCHAR, component_type=VARCHAR, amount=MONEY,
                              currency=VARCHAR, event_key=VARCHAR),
    "fba_inventory": _spec("fba_inventory", "partition_date", ("partition_date", "sku"), partition_date=DATE,
                           sku=VARCHAR, fnsku=VARCHAR, afn_fulfillable_quantity=BIGINT, afn_reserved_quantity=BIGINT,
                           afn_inbound_working_quantity=BIGINT, afn_inbound_shipped_quantity=BIGINT,
                           afn_inbound_receiving_quantity=BIGINT),
    "customer_returns": _spec("customer_returns", "partition_date", ("order_id", "sku"), partition_date=DATE,
                              order_id=VARCHAR, sku=VARCHAR, quantity=BIGINT, reason=VARCHAR),
}

ITEMS_SQL = """
select 'O-' || day_index || '-' || o as amazon_order_id, i::varchar as order_item_id, day as partition_date,
       case when hash(day_index, o) % 50 = 0 then 'Canceled' else 'Shipped' end as order_status,
       'SKU-' || (hash(day_index, o, i) % {skus}) as seller_sku, 1 + hash(o, i) % 3 as quantity_ordered,
       ((10 + hash(o, i, day_index) % 4000) / 100)::decimal(18,2) as item_price_amount
from (select ?::date as day, ?::bigint as day_index) d, range({orders}) r(o), range(1, 4) x(i)
where i <= 1 + hash(day_index, o) % 3
"""
EVENTS_SQL = """
with items as (select * from staged_items where order_status = 'Shipped'),
parts as (
    select *, unnest([
        {{'kind': 'charge', 'type': 'Principal', 'amount': item_price_amount}},
        {{'kind': 'charge', 'type': 'Tax', 'amount': round(item_price_amount * 0.08, 2)}},
        {{'kind': 'fee', 'type': 'Commission', 'amount': -round(item_price_amount * 0.15, 2)}},
        {{'kind': 'fee', 'type': 'FBAPerUnitFulfillmentFee', 'amount': -round(3.22 * quantity_ordered, 2)}},
        {{'kind': 'promotion', 'type': 'Principal', 'amount': case when hash(amazon_order_id) % 10 = 0
                                                              then -round(item_price_amount * 0.1, 2) else 0 end}},
        {{'kind': 'tax_withheld', 'type': 'MarketplaceFacilitatorTax-Principal',
          'amount': -round(item_price_amount * 0.08, 2)}}
    ]) as c from items
)
select partition_date as posted_date, partition_date::timestamptz + interval 12 hour as posted_at,
       'Shipment' as event_type, amazon_order_id, seller_sku as sku, quantity_ordered as quantity,
       c.kind as component_kind, c.type as component_type, c.amount::decimal(18,2) as amount, 'USD' as currency,
       amazon_order_id || '-' || order_item_id || '-' || c.type || '-' || c.kind as event_key
from parts where c.amount <> 0
union all
select partition_date, partition_date::timestamptz + interval 13 hour, 'Refund', amazon_order_id, seller_sku,
       quantity_ordered, 'charge', 'Principal', -item_price_amount, 'USD',
       amazon_order_id || '-' || order_item_id || '-refund'
from items where hash(amazon_order_id, 'refund') % 33 = 0
"""


def raw_frames(db: duckdb.DuckDBPyConnection, day: date, index: int, orders: int) -> dict[str, pl.DataFrame]:
    items = db.sql(ITEMS_SQL.format(orders=orders, skus=SKUS), params=[day, index]).pl()
    db.register("staged_items", items)
    events = db.sql(EVENTS_SQL.format()).pl()
    inventory = db.sql(
        f"select ?::date as partition_date, 'SKU-' || s as sku, 'FN-' || s as fnsku, "
        f"(hash(s, ?) % 500)::bigint as afn_fulfillable_quantity, (hash(s) % 20)::bigint as afn_reserved_quantity, "
        f"0::bigint as afn_inbound_working_quantity, (hash(s, 1) % 50)::bigint as afn_inbound_shipped_quantity, "
        f"0::bigint as afn_inbound_receiving_quantity from range({SKUS}) r(s)", params=[day, index]).pl()
    returns = db.sql(
        "select partition_date, amazon_order_id as order_id, seller_sku as sku, 1::bigint as quantity, "
        "(['DEFECTIVE', 'UNWANTED_ITEM', 'NOT_AS_DESCRIBED', 'DAMAGED_BY_CARRIER'])[(1 + hash(amazon_order_id) % 4)::bigint] "
        "as reason from staged_items where hash(amazon_order_id, 'ret') % 40 = 0 and order_item_id = '1'").pl()
    db.unregister("staged_items")
    return {"order_items": items, "financial_events": events, "fba_inventory": inventory,
            "customer_returns": returns}


def write_small_tables(warehouse: Warehouse, days: int) -> None:
    """Settlements, their groups and storage fees: a few rows, created directly (not timed)."""
    end = FIRST_DAY + timedelta(days=days)
    with warehouse.connect() as db:
        db.execute("create schema if not exists us")
        db.execute("""create or replace table us.financial_event_groups as
            select 'G' || n as financial_event_group_id, 'Closed' as processing_status,
                   'Succeeded' as fund_transfer_status, null::decimal(18,2) as original_total_amount,
                   'USD' as original_total_currency,
                   (?::date + (n * 14)::integer)::timestamptz as group_start,
                   (?::date + (n * 14 + 14)::integer)::timestamptz as group_end
            from range(?) r(n)""", [FIRST_DAY, FIRST_DAY, days // 14])
        db.execute("""create or replace table us.settlements as
            select g.financial_event_group_id as settlement_id, g.group_start as settlement_start_date,
                   g.group_end as settlement_end_date, null::timestamptz as deposit_date,
                   sum(e.amount) as total_amount, 'USD' as currency
            from us.financial_event_groups g join us.financial_events e
              on e.posted_at >= g.group_start and e.posted_at < g.group_end group by all""")
        db.execute(f"""create or replace table us.storage_fees as
            select 'FN-' || s as fnsku, date_trunc('month', ?::date)::date as month_of_charge,
                   ((hash(s) % 3000) / 100)::decimal(18,2) as estimated_monthly_storage_fee, 'USD' as currency
            from range({SKUS}) r(s)""", [end - timedelta(days=31)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--orders-per-day", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="14 days of 500 orders (a smoke run)")
    args = parser.parse_args()
    days, orders = (14, 500) if args.quick else (args.days, args.orders_per_day)
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="bench_marts_") as folder:
        warehouse = Warehouse(Path(folder) / "bench.duckdb", source="sandbox")
        generator = duckdb.connect()
        raw_s, raw_rows = 0.0, 0
        for index in range(days):
            day = FIRST_DAY + timedelta(days=index)
            frames = raw_frames(generator, day, index, orders)
            started = time.perf_counter()
            for name, frame in frames.items():
                warehouse.replace_partition("us", SPECS[name], frame, day, day + timedelta(days=1))
                raw_rows += frame.height
            raw_s += time.perf_counter() - started
            if index % 15 == 0:
                log(f"raw day {index + 1}/{days}: {raw_rows:,} rows, {raw_s:.1f} s of writes")
        write_small_tables(warehouse, days)
        sources = {name: [Source("us", name)] for name in
                   ("order_items", "financial_events", "financial_event_groups", "fba_inventory",
                    "customer_returns", "settlements", "storage_fees")}
        fx = Path(folder) / "fx.csv"
        fx.write_text("date,currency,rate\n2016-01-01,EUR,1.1\n", encoding="utf-8")
        marts: dict[str, dict[str, float | int]] = {}
        started = time.perf_counter()
        load_fx_rates(warehouse, fx)
        for name, model in MODELS.items():
            window = {"start": FIRST_DAY, "end": FIRST_DAY + timedelta(days=days)} if model.day_column else {}
            seconds = time.perf_counter()
            result = build(warehouse, name, sources, reporting_currency="USD", **window)
            marts[name] = {"seconds": round(time.perf_counter() - seconds, 3), "rows": result.rows}
            log(f"mart {name}: {result.rows:,} rows in {marts[name]['seconds']} s")
        marts_s = time.perf_counter() - started
        reconciled = warehouse.query("select count(*) filter (where difference <> 0) as bad, count(*) as groups "
                                     "from marts.settlement_reconciliation").row(0, named=True)
    share = marts_s / raw_s
    emit({
        "benchmark": "marts", "days": days, "orders_per_day": orders, "raw_rows": raw_rows,
        "raw_write_s": round(raw_s, 2), "marts_s": round(marts_s, 2), "marts": marts,
        "settlements_reconciled": reconciled, "machine": machine,
        "figures": [figure(f"marts over {days} days x {orders:,} orders/day ({raw_rows:,} raw rows): build time / "
                           f"raw warehouse writes alone ({marts_s:.1f} s / {raw_s:.1f} s)",
                           round(100 * share, 1), "< 10 %", share < 0.10, "percent")],
    })


if __name__ == "__main__":
    sys.exit(main())
