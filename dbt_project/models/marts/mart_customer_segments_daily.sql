{{
    config(
        materialized='incremental',
        unique_key='snapshot_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_erased_rows() }}"],
    )
}}

-- One row per person per run date D: their RFM segment, lifecycle state and persona that day.
-- A run replaces its own date (delete+insert on snapshot_date), so re-runs are idempotent;
-- segment_since carries the first date of the current (rfm_segment, lifecycle_state) streak
-- and drives the snp_customer_segments snapshot. Erased persons are deleted from all dates.
with

customers as (

    select * from {{ ref('dim_customers') }}

),

{% if is_incremental() %}
previous_days_ranked as (

    select
        *,
        row_number() over (partition by customer_id order by snapshot_date desc) as row_rank
    from {{ this }}
    where snapshot_date < {{ run_date() }}

),

previous_days as (

    select * from previous_days_ranked
    where row_rank = 1

),
{% endif %}

today as (

    select
        {{ run_date() }} as snapshot_date,
        customer_id,
        rfm_segment,
        lifecycle_state,
        engagement_persona
    from customers

),

final as (

    select
        today.snapshot_date,
        today.customer_id,
        today.rfm_segment,
        today.lifecycle_state,
        today.engagement_persona,
        {% if is_incremental() %}
        case
            when previous_days.rfm_segment is not distinct from today.rfm_segment
                and previous_days.lifecycle_state is not distinct from today.lifecycle_state
                then previous_days.segment_since
            else today.snapshot_date
        end as segment_since
        {% else %}
        today.snapshot_date as segment_since
        {% endif %}
    from today
    {% if is_incremental() %}
    left join previous_days
        on today.customer_id = previous_days.customer_id
    {% endif %}

)

select * from final
