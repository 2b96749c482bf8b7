-- One row per message rightsend queued (including holdout rows, which are never sent).
with

source as (

    select * from {{ source('queue', 'outbox') }}

),

renamed as (

    select
        message_id,
        queue_date,
        customer_id,
        source_customer_id,
        campaign_id,
        use_case,
        lower(channel) as channel,
        destination,
        send_at_utc,
        timezone,
        send_at_local,
        priority,
        coalesce(variant, 'default') as variant,
        is_holdout,
        model_version,
        p_engage,
        reason,
        created_at
    from source

),

final as (

    select * from renamed

)

select * from final
