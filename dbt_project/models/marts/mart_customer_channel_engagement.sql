-- One row per person x channel (email, sms, push): sends and human engagement in the last 30
-- and 90 days up to the end of D. An engagement is a send the person engaged with (human
-- open or click; machine opens never count); the rate is engagements / sends (null with no
-- sends).
with

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

consent as (

    select * from {{ ref('int_customer_consent') }}

),

sends as (

    select * from {{ ref('fct_sends') }}

),

message_events as (

    select * from {{ ref('fct_message_events') }}

),

channels as (

    select 'email' as channel
    union all
    select 'sms' as channel
    union all
    select 'push' as channel

),

send_stats as (

    select
        customer_id,
        channel,
        count(*) filter (where sent_at > {{ run_end_at() }} - interval '30 days') as sends_30d,
        count(*) filter (
            where sent_at > {{ run_end_at() }} - interval '30 days' and first_engaged_at is not null
        ) as engagements_30d,
        count(*) filter (where sent_at > {{ run_end_at() }} - interval '90 days') as sends_90d,
        count(*) filter (
            where sent_at > {{ run_end_at() }} - interval '90 days' and first_engaged_at is not null
        ) as engagements_90d,
        max(sent_at) as last_sent_at
    from sends
    group by 1, 2

),

event_stats as (

    select
        customer_id,
        channel,
        count(*) filter (
            where event_type = 'open' and is_human_engagement
            and occurred_at > {{ run_end_at() }} - interval '30 days'
        ) as human_opens_30d,
        count(*) filter (
            where event_type = 'click' and occurred_at > {{ run_end_at() }} - interval '30 days'
        ) as clicks_30d,
        count(*) filter (
            where event_type = 'open' and is_human_engagement
            and occurred_at > {{ run_end_at() }} - interval '90 days'
        ) as human_opens_90d,
        count(*) filter (
            where event_type = 'click' and occurred_at > {{ run_end_at() }} - interval '90 days'
        ) as clicks_90d,
        max(case when is_human_engagement then occurred_at end) as last_engaged_at
    from message_events
    group by 1, 2

),

final as (

    select
        cast(profiles.customer_id as varchar) as customer_id,
        cast(channels.channel as varchar) as channel,
        cast(coalesce(send_stats.sends_30d, 0) as integer) as sends_30d,
        cast(coalesce(event_stats.human_opens_30d, 0) as integer) as human_opens_30d,
        cast(coalesce(event_stats.clicks_30d, 0) as integer) as clicks_30d,
        cast(coalesce(send_stats.engagements_30d, 0) as integer) as engagements_30d,
        {{ safe_divide('send_stats.engagements_30d', 'send_stats.sends_30d') }} as engagement_rate_30d,
        cast(coalesce(send_stats.sends_90d, 0) as integer) as sends_90d,
        cast(coalesce(event_stats.human_opens_90d, 0) as integer) as human_opens_90d,
        cast(coalesce(event_stats.clicks_90d, 0) as integer) as clicks_90d,
        cast(coalesce(send_stats.engagements_90d, 0) as integer) as engagements_90d,
        {{ safe_divide('send_stats.engagements_90d', 'send_stats.sends_90d') }} as engagement_rate_90d,
        cast(send_stats.last_sent_at as timestamp) as last_sent_at,
        cast(event_stats.last_engaged_at as timestamp) as last_engaged_at,
        cast(
            case channels.channel
                when 'email' then consent.is_email_reachable
                when 'sms' then consent.is_sms_reachable
                when 'push' then consent.is_push_reachable
            end as boolean
        ) as is_reachable
    from profiles
    cross join channels
    inner join consent
        on profiles.customer_id = consent.customer_id
    left join send_stats
        on profiles.customer_id = send_stats.customer_id
        and channels.channel = send_stats.channel
    left join event_stats
        on profiles.customer_id = event_stats.customer_id
        and channels.channel = event_stats.channel

)

select * from final
