-- marts.returns: one row per account, marketplace, SKU and month: units sold (order_items by purchase day,
-- cancelled excluded) and returned (customer_returns by return day), the rate and the top 3 reasons.
with sold as (
    select account, marketplace, date_trunc('month', partition_date)::date as month, seller_sku as sku,
           sum(quantity_ordered) as units_sold
    from in_order_items
    where order_status is distinct from 'Canceled' and seller_sku is not null and partition_date is not null
    group by all
),
reasons as (
    select account, marketplace, date_trunc('month', partition_date)::date as month, sku,
           coalesce(nullif(reason, ''), 'UNKNOWN') as reason, sum(coalesce(quantity, 1)) as units
    from in_customer_returns
    where sku is not null and partition_date is not null
    group by all
),
returned as (
    select account, marketplace, month, sku, sum(units) as units_returned,
           string_agg(reason || ' (' || units || ')', ', ' order by units desc, reason)
               filter (where rank <= 3) as top_return_reasons
    from (select *, row_number() over (partition by account, marketplace, month, sku order by units desc, reason) as rank
          from reasons)
    group by all
)
select account, marketplace, month, sku,
       coalesce(s.units_sold, 0) as units_sold,
       coalesce(r.units_returned, 0) as units_returned,
       case when s.units_sold > 0 then coalesce(r.units_returned, 0) / s.units_sold end as return_rate,
       r.top_return_reasons
from sold s full join returned r using (account, marketplace, month, sku)
