-- One row per SendGrid event. Redelivered webhook events repeat their sg_event_id: the first
-- delivery is kept. Events are categorised into rightsend's channel event types here.
with

source as (

    select * from {{ source('sendgrid', 'email_events') }}

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by sg_event_id
            order by _dt, _file, _line
        ) as delivery_rank
    from source

),

renamed as (

    select
        sg_event_id as event_id,
        nullif(lower(trim(email)), '') as email,
        lower(event) as sendgrid_event,
        case lower(event)
            when 'processed' then 'send'
            when 'delivered' then 'delivered'
            when 'open' then 'open'
            when 'click' then 'click'
            when 'bounce' then 'bounce'
            when 'dropped' then 'dropped'
            when 'spamreport' then 'complaint'
            when 'unsubscribe' then 'unsubscribe'
            when 'group_unsubscribe' then 'unsubscribe'
        end as event_type,
        case
            when lower(event) in ('unsubscribe', 'group_unsubscribe', 'spamreport') then 'opt_out'
            when lower(event) = 'group_resubscribe' then 'opt_in'
        end as consent_change,
        occurred_at,
        -- A send is identified by the message part of sg_message_id (before the first dot,
        -- the X-Message-Id SendGrid puts on every event of that message).
        'email:' || coalesce(
            nullif(split_part(sg_message_id, '.', 1), ''), nullif(message_id, ''), sg_event_id
        ) as send_id,
        sg_message_id,
        nullif(campaign_id, '') as campaign_id,
        nullif(message_id, '') as message_id,
        categories,
        url,
        useragent as user_agent,
        reason,
        lower(bounce_type) as bounce_type,
        bounce_classification,
        lower(event) = 'open' and coalesce(sg_machine_open, false) as is_machine_open,
        (lower(event) = 'open' and not coalesce(sg_machine_open, false))
        or lower(event) = 'click' as is_human_engagement,
        lower(event) = 'bounce' and lower(coalesce(bounce_type, 'bounce')) = 'bounce' as is_hard_bounce,
        _dt as delivery_date,
        _file as source_file,
        _line as source_line
    from deduplicated
    where delivery_rank = 1

),

final as (

    select * from renamed

)

select * from final
