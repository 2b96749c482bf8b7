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

{#- True when the (type column, value column) pair is tombstoned. -#}
{% macro is_tombstoned_any(type_column, value_column) -%}
    (
        {{ value_column }} is not null
        and {{ identifier_hash(type_column, value_column) }} in (
            select identifier_hash from {{ ref('stg_ops__erasure_tombstones') }}
        )
    )
{%- endmacro %}

{#- The newest value of a column of this incremental model, as a SQL timestamp literal, read
    when the model runs (a literal, unlike a subquery, lets the warehouse skip the blocks of a
    raw table loaded before it). Null (no rows, or not incremental) gives 1900-01-01. -#}
{% macro incremental_watermark(column) -%}
    {%- set value = none -%}
    {%- if execute and is_incremental() -%}
        {%- set result = run_query("select cast(max(" ~ column ~ ") as varchar) from " ~ this) -%}
        {%- set value = result.columns[0].values()[0] -%}
    {%- endif -%}
    cast('{{ value or "1900-01-01 00:00:00" }}' as timestamp)
{%- endmacro %}

{#- int_identifier_sightings: the raw rows an incremental build reads - those loaded after the
    newest load already merged (every ingest run stamps its rows with a later _loaded_at; late
    files for old dt= partitions included) and, with time_column, earlier-loaded events after
    the newest login already kept, which may have become due because D moved on. -#}
{% macro sightings_rows(relation, time_column=none) -%}
    {%- if is_incremental() -%}
    (
        select * from {{ relation }}
        where _loaded_at > {{ incremental_watermark('loaded_at') }}
        {%- if time_column %}
        union all
        select * from {{ relation }}
        where
            _loaded_at <= {{ incremental_watermark('loaded_at') }}
            and {{ time_column }} > {{ incremental_watermark('login_at') }}
        {%- endif %}
    )
    {%- else -%}
    {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of int_identifier_sightings: an identifier (or the person a login names) that
    was erased since it was kept goes. -#}
{% macro delete_tombstoned_sightings() -%}
    delete from {{ this }}
    where
        {{ is_tombstoned_any('identifier_type', 'identifier_value') }}
        or {{ is_tombstoned_any('login_parent_type', 'login_parent_value') }}
{%- endmacro %}

{#- Post-hook of int_identifier_assignments: identifiers no longer stitched to anyone go. -#}
{% macro delete_unassigned_identifiers() -%}
    delete from {{ this }}
    where identifier_key not in (
        select identifier_key from {{ ref('int_identifiers_stitched_to_customers') }}
    )
{%- endmacro %}

{#- The stamp an incremental model puts on the rows a build (re)derives, for the incremental
    models downstream to find them: the end of the run date D in an incremental build, and
    1900-01-01 in a full refresh (the models downstream, full-refreshed in the same build,
    start from scratch anyway - full-refresh them together, as dbt build --full-refresh does). -#}
{% macro build_stamp() -%}
    {%- if is_incremental() -%}
    {{ run_end_at() }}
    {%- else -%}
    cast('1900-01-01 00:00:00' as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- A model's raw-load watermark, kept outside the marts (a wall-clock _loaded_at must not
    make two warehouses loaded from the same files differ): intermediate.incremental_watermarks
    holds, per model, the newest raw _loaded_at that existed when its last successful build
    began. The pre-hook notes the newest load now (before the model reads the raw tables), the
    post-hook commits it once the model is built; the model reads the committed one. -#}
{% macro watermark_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema='intermediate', identifier='incremental_watermarks')) }}
{%- endmacro %}

{% macro committed_watermark() -%}
    {%- set value = none -%}
    {%- if execute and is_incremental() -%}
        {%- set relation = adapter.get_relation(
            database=this.database, schema='intermediate', identifier='incremental_watermarks') -%}
        {%- if relation is not none -%}
            {%- set result = run_query(
                "select cast(max(loaded_through) as varchar) from " ~ relation
                ~ " where model_name = '" ~ this.name ~ "'") -%}
            {%- set value = result.columns[0].values()[0] -%}
        {%- endif -%}
    {%- endif -%}
    cast('{{ value or "1900-01-01 00:00:00" }}' as timestamp)
{%- endmacro %}

{#- The config of an incremental model kept with a raw-load watermark: delete+insert on
    unique_key; the pre-hooks note the newest _loaded_at of `sources` ((source, table) pairs)
    before the model reads them; the post-hooks run the model's own post_hooks, delete erased
    persons' rows (delete_erased_rows, with customer_id_column and identifier_columns), then
    commit the watermark, so a failed build keeps the old one.
    The hooks stay Jinja text (rendered when they run, like any hook), spelt as a model would. -#}
{% macro watermarked_incremental_config(
    unique_key, sources, identifier_columns={}, customer_id_column='customer_id', post_hooks=[]
) -%}
    {%- set relations = [] -%}
    {%- for source_name, table_name in sources -%}
        {%- do relations.append("source('" ~ source_name ~ "', '" ~ table_name ~ "')") -%}
    {%- endfor -%}
    {%- set erased = [] -%}
    {%- if customer_id_column != 'customer_id' -%}
        {%- do erased.append("customer_id_column=" ~ (customer_id_column if customer_id_column is none else "'" ~ customer_id_column ~ "'")) -%}
    {%- endif -%}
    {%- if identifier_columns -%}
        {%- do erased.append("identifier_columns=" ~ identifier_columns) -%}
    {%- endif -%}
    {%- set erased_args = erased | join(", ") -%}
    {%- do config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=[
            "{{ watermark_table_sql() }}",
            "{{ note_watermark_sql([" ~ relations | join(", ") ~ "]) }}",
        ],
        post_hook=post_hooks + [
            "{{ delete_erased_rows(" ~ erased_args ~ ") }}",
            "{{ commit_watermark_sql() }}",
            "{{ prune_watermarks_sql() }}",
        ],
    ) -%}
{%- endmacro %}

{% macro watermark_table_sql() -%}
    create table if not exists {{ watermark_relation() }} (
        model_name varchar, loaded_through timestamp, pending_through timestamp
    )
{%- endmacro %}

{% macro note_watermark_sql(relations) -%}
    insert into {{ watermark_relation() }} (model_name, pending_through)
    select
        '{{ this.name }}',
        (
            select max(loaded_at) from (
                {%- for relation in relations %}
                select max(_loaded_at) as loaded_at from {{ relation }}
                {%- if not loop.last %} union all{% endif %}
                {%- endfor %}
            ) as loads
        )
{%- endmacro %}

{% macro commit_watermark_sql() -%}
    insert into {{ watermark_relation() }} (model_name, loaded_through)
    select '{{ this.name }}', max(pending_through)
    from {{ watermark_relation() }}
    where model_name = '{{ this.name }}' and pending_through is not null
{%- endmacro %}

{% macro prune_watermarks_sql() -%}
    delete from {{ watermark_relation() }}
    where
        model_name = '{{ this.name }}'
        and (
            pending_through is not null
            or loaded_through < (
                select max(loaded_through) from {{ watermark_relation() }}
                where model_name = '{{ this.name }}'
            )
        )
{%- endmacro %}

{#- fct_orders / fct_order_lines: the raw order ids an incremental build re-derives - orders
    with an export row loaded after the model's committed watermark (late files for old dt=
    partitions included: the latest export is decided again from all the order's rows), orders
    created or cancelled on or after the newest order the model keeps (due_since: they may have
    become due, or cancelled, because D moved on), orders naming an email or phone whose person
    changed since (int_identifier_assignments), and the orders the model keeps for a person who
    is no longer one (erased: the order may now belong to its phone's person, else the erasure
    post-hook deletes it). Raw identifiers are compared as ingestion stores them (normalised at
    the edge), so the raw columns need no per-row expression. -#}
{% macro touched_order_ids(loaded_since, due_since) -%}
    (
        select order_id from {{ source('shopify', 'orders') }}
        where
            _loaded_at > {{ loaded_since }}
            or created_at >= {{ due_since }}
            or cancelled_at >= {{ due_since }}
            or email in (
                select identifier_value from {{ ref('int_identifier_assignments') }}
                where identifier_type = 'email' and assigned_at >= {{ due_since }}
            )
            or phone in (
                select identifier_value from {{ ref('int_identifier_assignments') }}
                where identifier_type = 'phone' and assigned_at >= {{ due_since }}
            )

        union

        select order_id from {{ this }}
        where
            customer_id is not null
            and customer_id not in (
                select customer_id from {{ ref('int_identifiers_stitched_to_customers') }}
            )
    )
{%- endmacro %}
