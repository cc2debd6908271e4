-- marts.marketplace_daily: marts.sku_daily_profit rolled up per account, marketplace and day. The reporting
-- currency amounts are the sums of the SKU rows' converted amounts (each rounded to the cent), so the
-- two marts agree to the cent in both currencies.
select account, marketplace, day, any_value(currency) as currency,
       count(*) filter (where units <> 0 or net_proceeds <> 0 or storage_fees <> 0) as skus,
       sum(units) as units,
       sum(gross_sales) as gross_sales, sum(promotions) as promotions, sum(referral_fees) as referral_fees,
       sum(fba_fees) as fba_fees, sum(other_fees) as other_fees, sum(taxes_withheld) as taxes_withheld,
       sum(refunds) as refunds, sum(reimbursements) as reimbursements, sum(net_proceeds) as net_proceeds,
       sum(storage_fees) as storage_fees,
       any_value(reporting_currency) as reporting_currency,
       -- one rate per account, marketplace and day; NULL (a failed check) if any SKU row had none
       case when count(fx_rate) = count(*) then max(fx_rate) end as fx_rate,
       sum(gross_sales_rc) as gross_sales_rc, sum(promotions_rc) as promotions_rc,
       sum(referral_fees_rc) as referral_fees_rc, sum(fba_fees_rc) as fba_fees_rc,
       sum(other_fees_rc) as other_fees_rc, sum(taxes_withheld_rc) as taxes_withheld_rc,
       sum(refunds_rc) as refunds_rc, sum(reimbursements_rc) as reimbursements_rc,
       sum(net_proceeds_rc) as net_proceeds_rc, sum(storage_fees_rc) as storage_fees_rc
from marts.sku_daily_profit
group by account, marketplace, day
