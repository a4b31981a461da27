{#
  Which ad platform a site event came from: click ids first (they are set by the platform's
  auto-tagging), then a paid utm_medium with the utm_source naming the platform.
  Null means organic or direct.
#}
{% macro ad_platform(click_id_type, utm_source, utm_medium) -%}
    case
        when {{ click_id_type }} in ('gclid', 'gbraid', 'wbraid', 'dclid') then 'google_ads'
        when {{ click_id_type }} = 'fbclid' then 'meta_ads'
        when {{ click_id_type }} = 'ttclid' then 'tiktok_ads'
        when {{ click_id_type }} = 'li_fat_id' then 'linkedin_ads'
        when {{ click_id_type }} = 'msclkid' then 'microsoft_ads'
        when {{ utm_medium }} in ('{{ var("microfunnel__paid_mediums") | join("', '") }}') then
            case
                when lower({{ utm_source }}) in ('google', 'adwords', 'google_ads') then 'google_ads'
                when lower({{ utm_source }}) in ('facebook', 'fb', 'meta', 'instagram', 'ig') then 'meta_ads'
                when lower({{ utm_source }}) = 'tiktok' then 'tiktok_ads'
                when lower({{ utm_source }}) = 'linkedin' then 'linkedin_ads'
                when lower({{ utm_source }}) in ('bing', 'microsoft') then 'microsoft_ads'
                else 'other_paid'
            end
    end
{%- endmacro %}
