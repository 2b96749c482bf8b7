{% snapshot snp_customer_segments %}

{{
    config(
        unique_key='customer_id',
        strategy='timestamp',
        updated_at='segment_changed_at',
        post_hook=["{{ delete_erased_rows() }}"],
    )
}}

-- Segment and lifecycle history per person (SCD type 2). updated_at is the first run date of
-- the current (rfm_segment, lifecycle_state) streak - derived from var run_date, never the
-- wall clock - so a new version appears only when the segment or lifecycle state changes.
select
    customer_id,
    rfm_segment,
    lifecycle_state,
    cast(segment_since as timestamp) as segment_changed_at
from {{ ref('mart_customer_segments_daily') }}
where snapshot_date = {{ run_date() }}

{% endsnapshot %}
