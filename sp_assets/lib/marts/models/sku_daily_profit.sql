-- marts.sku_daily_profit: one row per account, marketplace, SKU and posted day.
-- Every financial event component lands in exactly one money column, so net_proceeds (their sum) is
-- what Amazon pays out; storage_fees is the storage report's estimate spread over the month, shown
-- beside it and not added (Amazon charges storage as a service fee, already in other_fees).
with events as (
    select
        account,
        marketplace,
        posted_date as day,
        coalesce(nullif(sku, ''), '(no sku)') as sku,
        currency,
        amount,
        case
            when event_type in ('Refund', 'GuaranteeClaim', 'Chargeback') then 'refunds'
            when component_kind = 'fee' and component_type = 'Commission' then 'referral_fees'
            when component_kind = 'fee' and component_type like 'FBA%' then 'fba_fees'
            when component_kind = 'tax_withheld' then 'taxes_withheld'
            when component_kind = 'promotion' then 'promotions'
            when event_type = 'Shipment' and component_kind = 'charge' then 'gross_sales'
            when event_type = 'Adjustment' then 'reimbursements'
            else 'other_fees'
        end as part,
        case when event_type = 'Shipment' and component_type = 'Principal' then quantity else 0 end as units
    from in_financial_events
),
sku_map as (  -- the storage report names FNSKUs; the ledger and the inventory report know their SKUs
    select account, marketplace, fnsku, min(sku) as sku
    from (select account, marketplace, fnsku, msku as sku from in_ledger_summary
          union all select account, marketplace, fnsku, sku from in_fba_inventory)
    where fnsku is not null and sku is not null
    group by all
),
storage_months as (
    select s.account, s.marketplace, s.month_of_charge as month, coalesce(m.sku, s.fnsku) as sku,
           any_value(s.currency) as currency,
           cast(round(sum(s.estimated_monthly_storage_fee) * 100) as bigint) as fee_cents
    from in_storage_fees s
    left join sku_map m using (account, marketplace, fnsku)
    where s.month_of_charge is not null and s.estimated_monthly_storage_fee is not null
    group by all
),
storage as (  -- whole cents per day; the days of a month add up to the month's fee exactly
    select account, marketplace, day, sku, currency,
           -cast((fee_cents * dayofmonth(day)) // days - (fee_cents * (dayofmonth(day) - 1)) // days
                 as decimal(18, 2)) / 100 as storage_fees
    from (select *, cast(unnest(generate_series(month, month + interval 1 month - interval 1 day,
                                                interval 1 day)) as date) as day,
                 dayofmonth(last_day(month)) as days
          from storage_months)
),
sums as (
    select account, marketplace, day, sku, any_value(currency) as currency,
           sum(units) as units,
           sum(amount) filter (where part = 'gross_sales') as gross_sales,
           sum(amount) filter (where part = 'promotions') as promotions,
           sum(amount) filter (where part = 'referral_fees') as referral_fees,
           sum(amount) filter (where part = 'fba_fees') as fba_fees,
           sum(amount) filter (where part = 'other_fees') as other_fees,
           sum(amount) filter (where part = 'taxes_withheld') as taxes_withheld,
           sum(amount) filter (where part = 'refunds') as refunds,
           sum(amount) filter (where part = 'reimbursements') as reimbursements,
           sum(amount) as net_proceeds,
           sum(storage_fees) as storage_fees
    from (select account, marketplace, day, sku, currency, units, amount, part, null::decimal(18, 2) as storage_fees
          from events
          union all by name
          select account, marketplace, day, sku, currency, 0 as units, null as amount, null as part, storage_fees
          from storage)
    group by account, marketplace, day, sku
),
filled as (
    select account, marketplace, day, sku, currency, coalesce(units, 0) as units,
           coalesce(gross_sales, 0) as gross_sales, coalesce(promotions, 0) as promotions,
           coalesce(referral_fees, 0) as referral_fees, coalesce(fba_fees, 0) as fba_fees,
           coalesce(other_fees, 0) as other_fees, coalesce(taxes_withheld, 0) as taxes_withheld,
           coalesce(refunds, 0) as refunds, coalesce(reimbursements, 0) as reimbursements,
           coalesce(net_proceeds, 0) as net_proceeds, coalesce(storage_fees, 0) as storage_fees
    from sums
),
rated as (
    select f.*, s.reporting_currency,
           case when f.currency = s.reporting_currency then 1.0 else r.rate end as fx_rate
    from filled f
    cross join mart_settings s
    asof left join marts.fx_rates r on r.currency = f.currency and r.date <= f.day
)
select *,
       cast(gross_sales * fx_rate as decimal(18, 2)) as gross_sales_rc,
       cast(promotions * fx_rate as decimal(18, 2)) as promotions_rc,
       cast(referral_fees * fx_rate as decimal(18, 2)) as referral_fees_rc,
       cast(fba_fees * fx_rate as decimal(18, 2)) as fba_fees_rc,
       cast(other_fees * fx_rate as decimal(18, 2)) as other_fees_rc,
       cast(taxes_withheld * fx_rate as decimal(18, 2)) as taxes_withheld_rc,
       cast(refunds * fx_rate as decimal(18, 2)) as refunds_rc,
       cast(reimbursements * fx_rate as decimal(18, 2)) as reimbursements_rc,
       cast(net_proceeds * fx_rate as decimal(18, 2)) as net_proceeds_rc,
       cast(storage_fees * fx_rate as decimal(18, 2)) as storage_fees_rc
from rated
