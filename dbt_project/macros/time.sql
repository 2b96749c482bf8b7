{#- A UTC timestamp (naive) as local wall time in an IANA zone (naive). -#}
{% macro to_local(utc_column, timezone_column) -%}
    timezone({{ timezone_column }}, timezone('UTC', {{ utc_column }}))
{%- endmacro %}

{#- Hour of week of a local timestamp: 0 = Monday 00:00 ... 167 = Sunday 23:00. -#}
{% macro hour_of_week(local_column) -%}
    ((extract(isodow from {{ local_column }}) - 1) * 24 + extract(hour from {{ local_column }}))
{%- endmacro %}

{% macro safe_divide(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double precision) / {{ denominator }} end
{%- endmacro %}
