-- The unified customer view: one row per person as of the end of D - profile, time zone,
-- consent and reachability, orders, engagement, RFM, lifecycle state and persona.
with

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

timezones as (

    select * from {{ ref('int_customer_timezones') }}

),

consent as (

    select * from {{ ref('int_customer_consent') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

channel_engagement as (

    select * from {{ ref('mart_customer_channel_engagement') }}

),

message_events as (

    select * from {{ ref('fct_message_events') }}

),

web_events as (

    select * from {{ ref('fct_web_events') }}

),

rfm as (

    select * from {{ ref('mart_customer_rfm') }}

),

persona_thresholds as (

    select * from {{ ref('engagement_persona_thresholds') }}

),

order_stats as (

    select
        customer_id,
        count(*) filter (where not is_cancelled) as order_count,
        coalesce(sum(net_total) filter (where not is_cancelled), 0) as net_revenue,
        min(ordered_at) filter (where not is_cancelled) as first_order_at,
        max(ordered_at) filter (where not is_cancelled) as last_order_at,
        min(ordered_at) as first_any_order_at
    from orders
    where customer_id is not null
    group by 1

),

category_ranks as (

    select
        customer_id,
        category,
        row_number() over (
            partition by customer_id
            order by sum(quantity) desc, category
        ) as category_rank
    from order_lines
    where not is_cancelled and category is not null and customer_id is not null
    group by 1, 2

),

engagement_by_channel as (

    select
        customer_id,
        max(last_engaged_at) filter (where channel = 'email') as last_email_engaged_at,
        max(last_engaged_at) filter (where channel = 'sms') as last_sms_engaged_at,
        max(last_engaged_at) filter (where channel = 'push') as last_push_engaged_at,
        max(last_engaged_at) as last_engaged_at,
        sum(engagements_90d) as engagements_90d,
        sum(sends_90d) as sends_90d
    from channel_engagement
    group by 1

),

preferred_channels_ranked as (

    select
        customer_id,
        channel as preferred_channel,
        row_number() over (
            partition by customer_id
            order by engagements_90d desc, engagement_rate_90d desc nulls last, last_engaged_at desc, channel
        ) as row_rank
    from channel_engagement
    where last_engaged_at is not null

),

preferred_channels as (

    select * from preferred_channels_ranked
    where row_rank = 1

),

first_messages as (

    select
        customer_id,
        min(occurred_at) as first_message_at
    from message_events
    group by 1

),

web_stats as (

    select
        customer_id,
        min(occurred_at) as first_web_activity_at,
        max(occurred_at) as last_web_activity_at,
        count(*) filter (where occurred_at > {{ run_end_at() }} - interval '90 days') as web_events_90d
    from web_events
    where customer_id is not null
    group by 1

),

customers as (

    select
        profiles.*,
        timezones.timezone,
        timezones.timezone_source,
        consent.has_email_consent,
        consent.has_sms_consent,
        consent.has_push_consent,
        consent.is_email_deliverable,
        consent.has_spam_complaint,
        consent.is_email_reachable,
        consent.is_sms_reachable,
        consent.is_push_reachable,
        consent.push_device_token,
        consent.push_platform,
        coalesce(order_stats.order_count, 0) as order_count,
        coalesce(order_stats.net_revenue, 0) as net_revenue,
        order_stats.net_revenue / nullif(order_stats.order_count, 0) as avg_order_value,
        order_stats.first_order_at,
        order_stats.last_order_at,
        category_ranks.category as top_category,
        engagement_by_channel.last_email_engaged_at,
        engagement_by_channel.last_sms_engaged_at,
        engagement_by_channel.last_push_engaged_at,
        engagement_by_channel.last_engaged_at,
        {{ safe_divide('engagement_by_channel.engagements_90d', 'engagement_by_channel.sends_90d') }}
            as engagement_rate_90d,
        web_stats.last_web_activity_at,
        coalesce(web_stats.web_events_90d, 0) as web_events_90d,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.rfm_segment,
        preferred_channels.preferred_channel,
        -- Shopify's Created At, else when the person was first seen
        coalesce(
            profiles.created_at,
            least(order_stats.first_any_order_at, first_messages.first_message_at, web_stats.first_web_activity_at)
        ) as first_seen_at
    from profiles
    inner join timezones
        on profiles.customer_id = timezones.customer_id
    inner join consent
        on profiles.customer_id = consent.customer_id
    left join order_stats
        on profiles.customer_id = order_stats.customer_id
    left join category_ranks
        on profiles.customer_id = category_ranks.customer_id
        and category_ranks.category_rank = 1
    left join engagement_by_channel
        on profiles.customer_id = engagement_by_channel.customer_id
    left join preferred_channels
        on profiles.customer_id = preferred_channels.customer_id
    left join first_messages
        on profiles.customer_id = first_messages.customer_id
    left join web_stats
        on profiles.customer_id = web_stats.customer_id
    left join rfm
        on profiles.customer_id = rfm.customer_id

),

lifecycle as (

    select
        *,
        case
            when first_seen_at > {{ run_end_at() }} - interval '{{ var('new_customer_days') }} days'
                then 'new'
            when last_engaged_at is null
                then 'never_engaged'
            when last_engaged_at <= {{ run_end_at() }} - interval '{{ var('silence_threshold_days') }} days'
                then 'silent'
            when last_engaged_at <= {{ run_end_at() }} - interval '{{ var('lapsing_days') }} days'
                then 'lapsing'
            else 'active'
        end as lifecycle_state
    from customers

),

personas_ranked as (

    select
        lifecycle.customer_id,
        persona_thresholds.engagement_persona,
        row_number() over (
            partition by lifecycle.customer_id
            order by persona_thresholds.priority
        ) as row_rank
    from lifecycle
    inner join persona_thresholds
        on coalesce(lifecycle.engagement_rate_90d, 0) >= persona_thresholds.min_engagement_rate_90d
        and lifecycle.web_events_90d >= persona_thresholds.min_web_events_90d
        and lifecycle.order_count >= persona_thresholds.min_order_count

),

personas as (

    select * from personas_ranked
    where row_rank = 1

),

final as (

    select
        cast(lifecycle.customer_id as varchar) as customer_id,
        cast(lifecycle.source_customer_id as varchar) as source_customer_id,
        cast(lifecycle.first_name as varchar) as first_name,
        cast(lifecycle.last_name as varchar) as last_name,
        cast(lifecycle.email as varchar) as email,
        cast(lifecycle.phone as varchar) as phone,
        cast(lifecycle.city as varchar) as city,
        cast(lifecycle.province_code as varchar) as province_code,
        cast(lifecycle.country_code as varchar) as country_code,
        cast(lifecycle.timezone as varchar) as timezone,
        cast(lifecycle.timezone_source as varchar) as timezone_source,
        cast(lifecycle.has_email_consent as boolean) as has_email_consent,
        cast(lifecycle.has_sms_consent as boolean) as has_sms_consent,
        cast(lifecycle.has_push_consent as boolean) as has_push_consent,
        cast(lifecycle.is_email_deliverable as boolean) as is_email_deliverable,
        cast(lifecycle.has_spam_complaint as boolean) as has_spam_complaint,
        cast(lifecycle.is_email_reachable as boolean) as is_email_reachable,
        cast(lifecycle.is_sms_reachable as boolean) as is_sms_reachable,
        cast(lifecycle.is_push_reachable as boolean) as is_push_reachable,
        cast(lifecycle.push_device_token as varchar) as push_device_token,
        cast(lifecycle.push_platform as varchar) as push_platform,
        cast(lifecycle.order_count as integer) as order_count,
        cast(lifecycle.net_revenue as decimal(18, 2)) as net_revenue,
        cast(lifecycle.avg_order_value as decimal(18, 2)) as avg_order_value,
        cast(lifecycle.first_order_at as timestamp) as first_order_at,
        cast(lifecycle.last_order_at as timestamp) as last_order_at,
        cast(lifecycle.top_category as varchar) as top_category,
        cast(lifecycle.last_email_engaged_at as timestamp) as last_email_engaged_at,
        cast(lifecycle.last_sms_engaged_at as timestamp) as last_sms_engaged_at,
        cast(lifecycle.last_push_engaged_at as timestamp) as last_push_engaged_at,
        cast(lifecycle.last_engaged_at as timestamp) as last_engaged_at,
        cast(lifecycle.last_web_activity_at as timestamp) as last_web_activity_at,
        cast(lifecycle.recency_days as integer) as recency_days,
        cast(lifecycle.frequency as integer) as frequency,
        cast(lifecycle.monetary as decimal(18, 2)) as monetary,
        cast(lifecycle.r_score as integer) as r_score,
        cast(lifecycle.f_score as integer) as f_score,
        cast(lifecycle.m_score as integer) as m_score,
        cast(lifecycle.rfm_segment as varchar) as rfm_segment,
        cast(lifecycle.lifecycle_state as varchar) as lifecycle_state,
        cast(personas.engagement_persona as varchar) as engagement_persona,
        cast(lifecycle.preferred_channel as varchar) as preferred_channel,
        cast(lifecycle.first_seen_at as timestamp) as created_at,
        cast(lifecycle.engagement_rate_90d as double precision) as engagement_rate_90d,
        cast(lifecycle.web_events_90d as integer) as web_events_90d
    from lifecycle
    left join personas
        on lifecycle.customer_id = personas.customer_id

)

select * from final
