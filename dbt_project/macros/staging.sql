{#- The staging logic of an event source as a macro over any relation of raw rows, so the
    staging view (all rows) and an incremental fact (only the rows of the events a build
    touches) apply the very same de-duplication and renaming. -#}

{#- The raw rows of relation, keeping only the first delivery (earliest _dt, _file, _line) of
    each key. Ranking every row in a window would hold all their columns in memory (63M web
    events at 1M customers), so only the keys delivered more than once - a redelivered file, a
    retried webhook - are ranked, from a key-only count; the rest pass straight through. -#}
{% macro first_deliveries(relation, key) -%}
    (
        with

        -- not materialized: read three times below, each read scanning only what it needs
        delivered as not materialized (

            select * from {{ relation }}

        ),

        redelivered as (

            select {{ key }} as redelivered_key
            from delivered
            group by 1
            having count(*) > 1

        ),

        -- the first delivery of each of those keys, by its row (delivery day, file and line)
        first_redeliveries as (

            select
                redelivered_key,
                _dt,
                _file,
                _line
            from (
                select
                    redelivered.redelivered_key,
                    delivered._dt,
                    delivered._file,
                    delivered._line,
                    row_number() over (
                        partition by delivered.{{ key }}
                        order by delivered._dt, delivered._file, delivered._line
                    ) as delivery_rank
                from delivered
                inner join redelivered
                    on delivered.{{ key }} = redelivered.redelivered_key
            ) as ranked
            where delivery_rank = 1

        )

        select delivered.*
        from delivered
        where not exists (
            select 1 from redelivered where redelivered.redelivered_key = delivered.{{ key }}
        )

        union all

        select delivered.*
        from delivered
        inner join first_redeliveries
            on delivered.{{ key }} = first_redeliveries.redelivered_key
            and delivered._dt = first_redeliveries._dt
            and delivered._file = first_redeliveries._file
            and delivered._line = first_redeliveries._line
    )
{%- endmacro %}

{#- stg_web__events: one row per storefront event (first delivery of each event_id). -#}
{% macro stg_web_events_from(relation) -%}
    (
        select
            event_id,
            lower(event_type) as event_type,
            occurred_at,
            nullif(trim(anonymous_id), '') as anonymous_id,
            nullif(trim(session_id), '') as session_id,
            nullif(trim(customer_id), '') as source_customer_id,
            nullif(lower(trim(email)), '') as email,
            nullif(trim(sku), '') as sku,
            nullif(trim(category), '') as category,
            price,
            nullif(trim(timezone), '') as timezone,
            _dt as delivery_date,
            _file as source_file,
            _line as source_line,
            _loaded_at as loaded_at
        from {{ first_deliveries(relation, 'event_id') }} as first_delivered
    )
{%- endmacro %}

{#- stg_sendgrid__email_events: One row per SendGrid event. Redelivered webhook events repeat their sg_event_id: the first delivery is kept. Events are categorised into rightsend's channel event types here. -#}
{% macro stg_sendgrid_email_events_from(relation) -%}
    (
        with

        deduplicated as (

            select * from {{ first_deliveries(relation, 'sg_event_id') }} as first_delivered

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
                _line as source_line,
                _loaded_at as loaded_at
            from deduplicated

        ),

        final as (

            select * from renamed

        )

        select * from final
    )
{%- endmacro %}

{#- stg_twilio__messages: One row per Twilio message (Sid): a message appears on several rows as its status moves, and the latest row (later delivery day, then file, then line) is its status. -#}
{% macro stg_twilio_messages_from(relation) -%}
    (
        with

        source as (

            select * from {{ relation }}

        ),

        ranked as (

            select
                *,
                row_number() over (
                    partition by sid
                    order by _dt desc, _file desc, _line desc
                ) as row_recency_rank
            from source

        ),

        renamed as (

            select
                sid as message_sid,
                lower(direction) as direction,
                lower(direction) like 'outbound%' as is_outbound,
                from_number,
                to_number,
                -- The person's number: the recipient of an outbound message, the sender of a reply.
                case when lower(direction) like 'outbound%' then to_number else from_number end
                    as customer_phone,
                body,
                lower(status) as status,
                case
                    when lower(status) = 'delivered' then 'delivered'
                    when lower(status) in ('undelivered', 'failed') then 'failed'
                end as status_event_type,
                sent_at,
                num_segments,
                error_code,
                price,
                price_unit,
                case lower(keyword)
                    when 'opt_out' then 'opt_out'
                    when 'opt_in' then 'opt_in'
                end as consent_change,
                nullif(_extra ->> 'campaign_id', '') as campaign_id,
                nullif(_extra ->> 'message_id', '') as message_id,
                _dt as delivery_date,
                _file as source_file,
                _line as source_line,
                _loaded_at as loaded_at
            from ranked
            where row_recency_rank = 1

        ),

        final as (

            select * from renamed

        )

        select * from final
    )
{%- endmacro %}

{#- stg_twilio__link_clicks: One row per click on a shortened SMS link. Clicks carry no id of their own: one is derived from the message, recipient, link and time, and redelivered rows are dropped. -#}
{% macro stg_twilio_link_clicks_from(relation) -%}
    (
        with

        source as (

            select * from {{ relation }}

        ),

        keyed as (

            select
                *,
                md5(
                    coalesce(sms_sid, '') || '|' || coalesce(to_number, '') || '|'
                    || coalesce(link, '') || '|' || cast(clicked_at as varchar)
                ) as click_key
            from source

        ),

        deduplicated as (

            select * from {{ first_deliveries('keyed', 'click_key') }} as first_delivered

        ),

        renamed as (

            select
                'sms_click:' || click_key as click_id,
                sms_sid as message_sid,
                to_number as customer_phone,
                from_number,
                link,
                clicked_at,
                user_agent,
                messaging_service_sid,
                _dt as delivery_date,
                _file as source_file,
                _line as source_line,
                _loaded_at as loaded_at
            from deduplicated
            where lower(event_type) = 'click'

        ),

        final as (

            select * from renamed

        )

        select * from final
    )
{%- endmacro %}

{#- stg_push__events: One row per push event (first delivery of each event_id), categorised into device lifecycle events and rightsend's channel event types. -#}
{% macro stg_push_events_from(relation) -%}
    (
        with

        deduplicated as (

            select * from {{ first_deliveries(relation, 'event_id') }} as first_delivered

        ),

        renamed as (

            select
                event_id,
                lower(event_type) as push_event,
                case lower(event_type)
                    when 'send' then 'send'
                    when 'delivered' then 'delivered'
                    when 'open' then 'open'
                end as event_type,
                occurred_at,
                nullif(trim(customer_id), '') as source_customer_id,
                nullif(lower(trim(email)), '') as email,
                nullif(trim(device_token), '') as device_token,
                lower(platform) as platform,
                nullif(trim(timezone), '') as timezone,
                nullif(campaign_id, '') as campaign_id,
                nullif(message_id, '') as message_id,
                -- A push send and its opens share the message_id rightsend put on it; without one,
                -- the send is the campaign's message to that device.
                'push:' || coalesce(
                    nullif(message_id, ''),
                    nullif(campaign_id, '') || ':' || nullif(device_token, ''),
                    event_id
                ) as send_id,
                lower(event_type) = 'open' as is_human_engagement,
                _dt as delivery_date,
                _file as source_file,
                _line as source_line,
                _loaded_at as loaded_at
            from deduplicated

        ),

        final as (

            select * from renamed

        )

        select * from final
    )
{%- endmacro %}

{#- stg_shopify__order_lines: One row per order line item of an order's latest export (later delivery day, then later file); order-level fields are filled from the order's first line, as Shopify leaves them blank after it. Every export row of an order is needed: the incremental order facts pass all raw rows of the orders they touch. -#}
{% macro stg_shopify_order_lines_from(relation) -%}
    (
        with

        -- not materialized: read three times below, a materialised CTE would hold every column
        -- of every raw row in memory; inlined, each read scans only the columns it needs
        source as not materialized (

            select * from {{ relation }}

        ),

        latest_export as (

            select
                order_id,
                max(_dt || '|' || _file) as export_key
            from source
            group by 1

        ),

        -- The lines of each latest export are numbered on their keys alone and the wide rows
        -- joined once; the order-level fields come from each order's first line, picked in a
        -- hash aggregate. A window, or a CTE read twice, holds every column of its rows in
        -- memory, and 16M wide line items do not fit DuckDB's 4 GB.
        numbered_lines as (

            select
                source._dt,
                source._file,
                source._line,
                row_number() over (partition by source.order_id order by source._line) as line_number
            from source
            inner join latest_export
                on source.order_id = latest_export.order_id
                and (source._dt || '|' || source._file) = latest_export.export_key

        ),

        order_headers as (

            {{ shopify_order_first_lines('source') }}

        ),

        renamed as (

            select
                lines.order_id || '-' || numbered_lines.line_number as order_line_id,
                cast(lines.order_id as varchar) as order_id,
                numbered_lines.line_number,
                {{ shopify_order_fields('lines', 'order_headers') }},
                coalesce(lines.lineitem_quantity, 0) as quantity,
                lines.lineitem_name as product_name,
                coalesce(lines.lineitem_price, 0) as unit_price,
                nullif(trim(lines.lineitem_sku), '') as sku,
                lines.vendor,
                lines._dt as export_date,
                lines._file as source_file,
                lines._line as source_line
            from source as lines
            inner join numbered_lines
                on lines._dt = numbered_lines._dt
                and lines._file = numbered_lines._file
                and lines._line = numbered_lines._line
            inner join order_headers
                on lines.order_id = order_headers.order_id

        ),

        final as (

            select * from renamed

        )

        select * from final
    )
{%- endmacro %}


{#- Each order's first line in its latest export (later delivery day, then later file, then
    the lowest line), its order-level columns as landed (order_source for Source). One struct
    per order in a hash aggregate (latest_per_group), where numbering every line and joining
    the wide rows back needs more than DuckDB's 4 GB at 1M customers (15.9M line items). -#}
{% macro shopify_order_first_lines(relation) -%}
    with

    keyed as (

        select
            cast(order_id as varchar) as order_id,
            -- the largest (_dt, _file, -_line): the latest export, then its first line
            _dt,
            _file,
            -_line as first_line_rank,
            order_name,
            email,
            phone,
            created_at,
            financial_status,
            cancelled_at,
            currency,
            subtotal,
            discount_amount,
            total,
            refunded_amount,
            source as order_source
        from {{ relation }}

    )

    {{ latest_per_group('keyed', ['order_id'], [
        '_dt', '_file', 'first_line_rank', 'order_name', 'email', 'phone', 'created_at',
        'financial_status', 'cancelled_at', 'currency', 'subtotal', 'discount_amount',
        'total', 'refunded_amount', 'order_source'
    ]) }}
{%- endmacro %}

{#- The order-level fields of a line item: its own name, email, phone and time where it has
    them, else its order's first line (``header``), and the rest from that first line. One
    definition for the line items and the orders, so an order's fields are its line 1's. -#}
{% macro shopify_order_fields(line, header) -%}
    coalesce(nullif(trim({{ line }}.order_name), ''), {{ header }}.order_name) as order_name,
    coalesce(
        nullif(lower(trim({{ line }}.email)), ''), nullif(lower(trim({{ header }}.email)), '')
    ) as email,
    coalesce(nullif(trim({{ line }}.phone), ''), nullif(trim({{ header }}.phone), '')) as phone,
    coalesce({{ line }}.created_at, {{ header }}.created_at) as ordered_at,
    lower({{ header }}.financial_status) as financial_status,
    {{ header }}.cancelled_at,
    upper({{ header }}.currency) as currency,
    coalesce({{ header }}.subtotal, 0) as subtotal,
    coalesce({{ header }}.discount_amount, 0) as discount_amount,
    coalesce({{ header }}.total, 0) as total,
    coalesce({{ header }}.refunded_amount, 0) as refunded_amount,
    {{ header }}.order_source
{%- endmacro %}

{#- One row per order: the order-level fields of its first line, as stg_shopify_order_lines_from
    gives them on line 1. -#}
{% macro stg_shopify_orders_from(relation) -%}
    (
        with

        first_lines as (

            {{ shopify_order_first_lines(relation) }}

        ),

        final as (

            select
                order_id,
                -- the first line is its own header
                {{ shopify_order_fields('first_lines', 'first_lines') }},
                _dt as export_date,
                _file as source_file,
                -first_line_rank as source_line
            from first_lines

        )

        select * from final
    )
{%- endmacro %}
