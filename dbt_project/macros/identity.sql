{#- rightsend's unified person id: deterministic from the person's anchor identifier. -#}
{% macro person_id(anchor_type, anchor_value) -%}
    'rs_' || left(md5({{ anchor_type }} || ':' || {{ anchor_value }}), 16)
{%- endmacro %}

{#- The hash ops.erasure_tombstones stores: sha256(type || ':' || value), lower-case hex. -#}
{% macro identifier_hash(identifier_type, identifier_value) -%}
    {{ sha256_hex(identifier_type ~ " || ':' || " ~ identifier_value) }}
{%- endmacro %}

{#- True when the (literal type, column value) pair is tombstoned. -#}
{% macro is_tombstoned(identifier_type, value_column) -%}
    (
        {{ value_column }} is not null
        and {{ identifier_hash("'" ~ identifier_type ~ "'", value_column) }} in (
            select identifier_hash from {{ ref('stg_ops__erasure_tombstones') }}
        )
    )
{%- endmacro %}
