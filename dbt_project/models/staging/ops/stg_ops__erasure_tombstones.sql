-- One row per tombstoned identifier hash of an erased person.
with

source as (

    select * from {{ source('ops', 'erasure_tombstones') }}

),

renamed as (

    select
        lower(identifier_hash) as identifier_hash,
        lower(identifier_type) as identifier_type,
        request_id,
        erased_at
    from source

),

final as (

    select * from renamed

)

select * from final
