-- One row per push event (first delivery of each event_id), categorised into device
-- lifecycle events and rightsend's channel event types.
-- The logic is the macro stg_push_events_from (macros/staging.sql), shared with the incremental
-- fct_message_events.
with

final as (

    select * from {{ stg_push_events_from(source('push', 'push_events')) }} as staged

)

select * from final
