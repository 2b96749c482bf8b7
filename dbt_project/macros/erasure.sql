{#- Post-hook for incremental models and the snapshot: a table that outlives a build must
    not keep an erased person. Rows are deleted when their customer_id is no longer a
    person (erased persons are dropped from int_identifiers_stitched_to_customers, and
    persons whose raw rows were purged by ingestion vanish from it), and when one of the
    row's own identifier columns is tombstoned. A table keyed on identifiers rather than
    persons passes customer_id_column=none: only its identifier columns are checked. -#}
{% macro delete_erased_rows(customer_id_column='customer_id', identifier_columns={}) -%}
    delete from {{ this }}
    where
    {%- if customer_id_column is none %}
        false
    {%- else %} (
        {{ customer_id_column }} is not null
        and {{ customer_id_column }} not in (
            select customer_id from {{ ref('int_identifiers_stitched_to_customers') }}
        )
    )
    {%- endif %}
    {%- for identifier_type, column in identifier_columns.items() %}
        or {{ is_tombstoned(identifier_type, column) }}
    {%- endfor %}
{%- endmacro %}
