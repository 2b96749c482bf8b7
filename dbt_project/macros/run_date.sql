{#- "Now" for every model: the end of the logical date D (var run_date), never the wall clock. -#}

{% macro run_date() -%}
    cast('{{ var("run_date") }}' as date)
{%- endmacro %}

{% macro run_end_at() -%}
    (cast('{{ var("run_date") }}' as timestamp) + interval '1 day' - interval '1 second')
{%- endmacro %}

{#- The end of a delivery day: when a snapshot's flags (e.g. Shopify consent) apply. -#}
{% macro end_of_day(date_column) -%}
    (cast({{ date_column }} as timestamp) + interval '1 day' - interval '1 second')
{%- endmacro %}
