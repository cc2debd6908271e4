-- marts.inventory_cover: one row per account, marketplace, SKU and snapshot day of the FBA inventory report,
-- with the demand of the 7 and 30 days ending that day (order_items by purchase day, cancelled excluded).
with stock as (
    select account, marketplace, partition_date as day, sku,
           sum(afn_fulfillable_quantity) as available,
           sum(coalesce(afn_inbound_working_quantity, 0) + coalesce(afn_inbound_shipped_quantity, 0)
               + coalesce(afn_inbound_receiving_quantity, 0)) as inbound,
           sum(afn_reserved_quantity) as reserved
    from in_fba_inventory
    where sku is not null and partition_date is not null
    group by all
),
sold as (
    select account, marketplace, partition_date as day, seller_sku as sku, sum(quantity_ordered) as units
    from in_order_items
    where order_status is distinct from 'Canceled' and seller_sku is not null
    group by all
),
demand as (
    select s.account, s.marketplace, s.day, s.sku,
           coalesce(sum(d.units) filter (where d.day > s.day - 7), 0) / 7.0 as avg_daily_units_7d,
           coalesce(sum(d.units), 0) / 30.0 as avg_daily_units_30d
    from stock s
    left join sold d on d.account = s.account and d.marketplace = s.marketplace and d.sku = s.sku
                    and d.day <= s.day and d.day > s.day - 30
    group by s.account, s.marketplace, s.day, s.sku
)
select s.account, s.marketplace, s.day, s.sku, s.available, s.inbound, s.reserved,
       d.avg_daily_units_7d, d.avg_daily_units_30d,
       case when d.avg_daily_units_7d > 0 then s.available / d.avg_daily_units_7d end as days_of_cover,
       coalesce(s.available, 0) = 0 as stock_out
from stock s join demand d using (account, marketplace, day, sku)
