{#- int_consent_events: whether a staged channel event bears on consent or reachability - a
    consent change (SendGrid unsubscribe / group_unsubscribe / spamreport / group_resubscribe,
    an SMS reply's STOP / START keyword), a hard bounce, a device (un)registration. Never null,
    so the post-hook's "not" deletes exactly the other events. -#}
{% macro is_consent_event() -%}
    coalesce(
        consent_change is not null
        or is_hard_bounce
        or (channel = 'push' and source_event in ('device_registered', 'device_unregistered')),
        false
    )
{%- endmacro %}

{#- Post-hook of int_consent_events: an event an incremental build re-derived that no longer
    bears on consent (a later delivery of it changed what it says) goes. -#}
{% macro delete_non_consent_events() -%}
    delete from {{ this }}
    where not {{ is_consent_event() }}
{%- endmacro %}
