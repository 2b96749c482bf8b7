-- Campaign measurement per campaign x variant x queue date, from the outbox (queue.outbox,
-- written by rightsend.decide) and what happened after: sent (a matching send in fct_sends),
-- engaged (human engagement with it), converted (a counted order within
-- var conversion_window_days of the planned send time). Holdout rows are never sent: their
-- conversions are the baseline the treated rows are compared with.
with

outbox as (

    select * from {{ ref('stg_queue__outbox') }}

),

identifiers as (

    select * from {{ ref('int_identifiers_stitched_to_customers') }}

),

sends as (

    select * from {{ ref('fct_sends') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

persons as (

    select distinct customer_id from identifiers

),

queued as (

    select outbox.*
    from outbox
    inner join persons
        on outbox.customer_id = persons.customer_id
    where outbox.queue_date <= {{ run_date() }}

),

matched_sends as (

    select
        queued.message_id,
        min(sends.sent_at) as sent_at,
        min(sends.first_engaged_at) as first_engaged_at
    from queued
    inner join sends
        on queued.customer_id = sends.customer_id
        and queued.channel = sends.channel
        and (
            queued.message_id = sends.message_id
            or (
                sends.message_id is null
                and queued.campaign_id = sends.campaign_id
                and sends.sent_at between queued.send_at_utc - interval '1 day'
                and queued.send_at_utc + interval '1 day'
            )
        )
    where not queued.is_holdout
    group by 1

),

conversions as (

    select
        queued.message_id,
        count(orders.order_id) > 0 as is_converted
    from queued
    left join orders
        on queued.customer_id = orders.customer_id
        and not orders.is_cancelled
        and orders.ordered_at >= queued.send_at_utc
        and orders.ordered_at < queued.send_at_utc + interval '{{ var('conversion_window_days') }} days'
    group by 1

),

outcomes as (

    select
        queued.campaign_id,
        queued.variant,
        queued.queue_date,
        queued.is_holdout,
        matched_sends.sent_at is not null as is_sent,
        matched_sends.first_engaged_at is not null as is_engaged,
        conversions.is_converted
    from queued
    left join matched_sends
        on queued.message_id = matched_sends.message_id
    left join conversions
        on queued.message_id = conversions.message_id

),

aggregated as (

    select
        campaign_id,
        variant,
        queue_date,
        count(*) as queued,
        count(*) filter (where is_holdout) as holdout,
        count(*) filter (where not is_holdout) as treated,
        count(*) filter (where is_sent) as sent,
        count(*) filter (where is_engaged) as engaged,
        count(*) filter (where is_converted) as converted,
        count(*) filter (where is_converted and not is_holdout) as treated_converted,
        count(*) filter (where is_converted and is_holdout) as holdout_converted
    from outcomes
    group by 1, 2, 3

),

final as (

    select
        campaign_id || '|' || variant || '|' || queue_date as campaign_result_id,
        campaign_id,
        variant,
        queue_date,
        queued,
        holdout,
        treated,
        sent,
        engaged,
        converted,
        treated_converted,
        holdout_converted,
        {{ safe_divide('sent', 'treated') }} as send_rate,
        {{ safe_divide('engaged', 'sent') }} as engagement_rate,
        {{ safe_divide('treated_converted', 'treated') }} as treated_conversion_rate,
        {{ safe_divide('holdout_converted', 'holdout') }} as holdout_conversion_rate,
        {{ safe_divide('treated_converted', 'treated') }}
        - {{ safe_divide('holdout_converted', 'holdout') }} as conversion_uplift
    from aggregated

)

select * from final
