-- One row per SendGrid event. Redelivered webhook events repeat their sg_event_id: the first
-- delivery is kept. Events are categorised into rightsend's channel event types here.
-- The logic is the macro stg_sendgrid_email_events_from (macros/staging.sql), shared with the incremental
-- fct_message_events.
with

final as (

    select * from {{ stg_sendgrid_email_events_from(source('sendgrid', 'email_events')) }} as staged

)

select * from final
