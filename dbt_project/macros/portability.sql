{#- Small adapter-dispatched helpers so the project builds the same on DuckDB and Postgres. -#}

{#- sha256 of a string as lower-case hex (DuckDB: varchar in, hex out; Postgres: bytea). -#}
{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro postgres__sha256_hex(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{#- Postgres reports array columns as data_type 'ARRAY', which is not a type a unit test
    fixture can cast to (cast(null as ARRAY)); report the element type instead (text[]).
    Otherwise identical to dbt-postgres' postgres__get_columns_in_relation. -#}
{% macro postgres__get_columns_in_relation(relation) -%}
    {% call statement('get_columns_in_relation', fetch_result=True) %}
        select
            column_name,
            case
                when data_type = 'ARRAY' then substr(udt_name, 2) || '[]'
                else data_type
            end as data_type,
            character_maximum_length,
            numeric_precision,
            numeric_scale
        from {{ relation.information_schema('columns') }}
        where table_name = '{{ relation.identifier }}'
            {% if relation.schema %}
            and table_schema = '{{ relation.schema }}'
            {% endif %}
        order by ordinal_position
    {% endcall %}
    {% set table = load_result('get_columns_in_relation').table %}
    {{ return(sql_convert_columns_in_relation(table)) }}
{%- endmacro %}

{#- The latest row of each group: the one with the largest ``keys``, compared in order (a tie
    on all of them is one row). Selects the group columns and the keys. DuckDB keeps one
    struct per group in a hash aggregate, where a row_number() window sorts every row - and
    spills past the memory limit at scale; Postgres uses its own distinct on. -#}
{% macro latest_per_group(relation, group_by, keys) -%}
    {{ return(adapter.dispatch('latest_per_group')(relation, group_by, keys)) }}
{%- endmacro %}

{% macro default__latest_per_group(relation, group_by, keys) -%}
    select {{ group_by | join(', ') }}, latest.*
    from (
        select
            {{ group_by | join(', ') }},
            max(struct_pack({% for key in keys %}{{ key }} := {{ key }}{{ ', ' if not loop.last }}{% endfor %})) as latest
        from {{ relation }}
        group by {{ group_by | join(', ') }}
    ) as grouped
{%- endmacro %}

{% macro postgres__latest_per_group(relation, group_by, keys) -%}
    select distinct on ({{ group_by | join(', ') }}) {{ group_by | join(', ') }}, {{ keys | join(', ') }}
    from {{ relation }}
    order by {{ group_by | join(', ') }}{% for key in keys %}, {{ key }} desc nulls last{% endfor %}
{%- endmacro %}
