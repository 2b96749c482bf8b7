-- One row per storefront event (first delivery of each event_id). The logic is the macro
-- stg_web_events_from (macros/staging.sql), shared with the incremental fct_web_events.
with

final as (

    select * from {{ stg_web_events_from(source('web', 'web_events')) }} as web_events

)

select * from final
