-- marts.settlement_reconciliation: one row per financial event group (the settlement): the settlement
-- report's total against the sum of the financial events posted in the group's period.
with report as (  -- the V2 flat file repeats the settlement on its first row only; take that total
    select account, marketplace, settlement_id, max(total_amount) as settlement_total
    from in_settlements
    where settlement_id is not null
    group by all
),
events as (
    select g.account, g.marketplace, g.financial_event_group_id as settlement_id,
           sum(e.amount) as events_total, count(e.amount) as events
    from in_financial_event_groups g
    join in_financial_events e
      on e.account = g.account and e.marketplace = g.marketplace and e.posted_at >= g.group_start
     and (g.group_end is null or e.posted_at < g.group_end)
    group by all
)
select g.account, g.marketplace, g.financial_event_group_id as settlement_id, g.processing_status,
       g.group_start, g.group_end, g.original_total_currency as currency,
       g.original_total_amount as group_total,
       r.settlement_total,
       coalesce(e.events_total, 0) as events_total,
       coalesce(e.events, 0) as events,
       r.settlement_total - coalesce(e.events_total, 0) as difference
from in_financial_event_groups g
left join report r on r.account = g.account and r.marketplace = g.marketplace and r.settlement_id = g.financial_event_group_id
left join events e on e.account = g.account and e.marketplace = g.marketplace and e.settlement_id = g.financial_event_group_id
where g.financial_event_group_id is not null
