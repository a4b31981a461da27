{{ config(materialized='table') }}

{%- set max_stages = var('microfunnel__max_stages', 8) %}
{%- set min_journeys = var('microfunnel__diagnostics_min_journeys', 30) %}
{%- set pass_through = var('microfunnel__diagnostics_pass_through', 0.9) %}
{%- set delay_seconds = var('microfunnel__diagnostics_delay_seconds', 3600) %}
{%- set alpha = var('microfunnel__diagnostics_p_value', 0.05) %}
{%- set stalled_share = var('microfunnel__diagnostics_stalled_share', 0.5) %}

-- What to fix in a funnel, one row per finding, per funnel, platform and campaign (plus the
-- '(all)' rollup), over every cohort present. Rules and evidence wording: _marts_comparison.yml.
with

funnels as (
    select
        funnel_id,
        funnel_version,
        funnel_kind,
        is_primary,
        stage_count
    from {{ ref('stg_funnels__funnels') }}
),

stages as (
    select
        funnel_id,
        stage_order,
        stage_name,
        lead(stage_name) over (partition by funnel_id order by stage_order) as next_stage_name
    from {{ ref('stg_funnels__stages') }}
),

-- Journeys of the current definitions, excluded ones left out.
journeys as (
    select * from {{ ref('fct_funnel_journeys_counted') }}
    where not is_excluded and is_current_version
),

-- Every journey also counts in the rollup over all campaigns.
grouped_journeys as (
    select
        * exclude (platform, campaign_id),
        platform,
        campaign_id
    from journeys
    union all
    select
        * exclude (platform, campaign_id),
        '(all)' as platform,
        '(all)' as campaign_id
    from journeys
),

groups as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        count(*) as journeys,
        count(*) filter (where is_converted) as conversions,
        count(*) filter (where is_stalled) as stalled,
        bool_and(is_final) as is_final
    from grouped_journeys
    group by funnel_id, funnel_version, platform, campaign_id
),

-- One row per journey and reached stage (a skipped optional stage is not reached).
journey_stages as (
    {%- for k in range(1, max_stages + 1) %}
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        {{ k }} as stage_order,
        furthest_stage > {{ k }} as is_advanced,
        stage_{{ k }}_seconds_to_next as seconds_to_next
    from grouped_journeys
    where stage_{{ k }}_reached_at is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- Steps (every stage but the last) with enough journeys to judge.
steps as (
    select
        journey_stages.funnel_id,
        journey_stages.funnel_version,
        journey_stages.platform,
        journey_stages.campaign_id,
        journey_stages.stage_order,
        stages.stage_name,
        stages.next_stage_name,
        count(*) as journeys_reached,
        count(*) filter (where journey_stages.is_advanced) as journeys_advanced,
        count(*) filter (where not journey_stages.is_advanced) as journeys_lost,
        count(*) filter (where journey_stages.is_advanced) * 1.0 / count(*) as step_conversion_rate,
        count(*) filter (where not journey_stages.is_advanced) * 1.0 / count(*) as dropoff_share,
        {{ quantile_linear('journey_stages.seconds_to_next', 0.5) }} as median_seconds_to_next
    from journey_stages
    inner join stages
        on
            journey_stages.funnel_id = stages.funnel_id
            and journey_stages.stage_order = stages.stage_order
    where stages.next_stage_name is not null
    group by
        journey_stages.funnel_id,
        journey_stages.funnel_version,
        journey_stages.platform,
        journey_stages.campaign_id,
        journey_stages.stage_order,
        stages.stage_name,
        stages.next_stage_name
    having count(*) >= {{ min_journeys }}
),

-- The step that loses the most people (not the lowest rate: a small late step with a poor rate
-- loses fewer people than the entry step losing a third of everyone). Ties: the earliest step.
largest_dropoff as (
    select *
    from steps
    qualify row_number() over (
        partition by funnel_id, funnel_version, platform, campaign_id
        order by journeys_lost desc, stage_order asc
    ) = 1
),

slowest_step as (
    select *
    from steps
    where median_seconds_to_next is not null
    qualify row_number() over (
        partition by funnel_id, funnel_version, platform, campaign_id
        order by median_seconds_to_next desc, stage_order asc
    ) = 1
),

delay_without_filter as (
    select *
    from steps
    where
        step_conversion_rate >= {{ pass_through }}
        and median_seconds_to_next >= {{ delay_seconds }}
    qualify row_number() over (
        partition by funnel_id, funnel_version, platform, campaign_id
        order by median_seconds_to_next desc, stage_order asc
    ) = 1
),

-- The stage where most stalled journeys stopped (ties: the earliest stage).
stalled_stage as (
    select
        grouped_journeys.funnel_id,
        grouped_journeys.funnel_version,
        grouped_journeys.platform,
        grouped_journeys.campaign_id,
        grouped_journeys.furthest_stage as stage_order,
        count(*) as stalled_here
    from grouped_journeys
    where grouped_journeys.is_stalled
    group by
        grouped_journeys.funnel_id,
        grouped_journeys.funnel_version,
        grouped_journeys.platform,
        grouped_journeys.campaign_id,
        grouped_journeys.furthest_stage
    qualify row_number() over (
        partition by
            grouped_journeys.funnel_id,
            grouped_journeys.funnel_version,
            grouped_journeys.platform,
            grouped_journeys.campaign_id
        order by count(*) desc, grouped_journeys.furthest_stage
    ) = 1
),

-- The micro funnel a direct ask is held against: the primary one, else the first by id.
reference_micro as (
    select
        groups.funnel_id,
        groups.journeys,
        groups.conversions
    from groups
    inner join funnels
        on
            groups.funnel_id = funnels.funnel_id
            and groups.funnel_version = funnels.funnel_version
    where funnels.funnel_kind = 'micro' and groups.platform = '(all)'
    qualify row_number() over (order by funnels.is_primary desc, funnels.funnel_id asc) = 1
),

direct_vs_micro as (
    select
        groups.*,
        reference_micro.funnel_id as micro_funnel_id,
        reference_micro.journeys as micro_journeys,
        reference_micro.conversions as micro_conversions,
        cast(groups.conversions as double) / groups.journeys as direct_rate,
        cast(reference_micro.conversions as double) / reference_micro.journeys as micro_rate,
        {{ two_proportion_z(
            'groups.conversions', 'groups.journeys',
            'reference_micro.conversions', 'reference_micro.journeys'
        ) }} as z_score
    from groups
    inner join funnels
        on
            groups.funnel_id = funnels.funnel_id
            and groups.funnel_version = funnels.funnel_version
    left join reference_micro
        on true
    where funnels.funnel_kind = 'direct'
),

direct_tested as (
    select
        *,
        {{ two_sided_p_value('z_score') }} as p_value,
        micro_journeys >= {{ min_journeys }} and journeys >= {{ min_journeys }} as is_measurable
    from direct_vs_micro
),

findings as (
    select
        groups.funnel_id,
        groups.funnel_version,
        groups.platform,
        groups.campaign_id,
        'largest_dropoff' as finding,
        largest_dropoff.stage_order,
        largest_dropoff.stage_name,
        largest_dropoff.next_stage_name,
        'dropoff_count' as metric_name,
        largest_dropoff.journeys_lost as metric_value,
        cast(null as double) as threshold,
        coalesce(largest_dropoff.journeys_reached, groups.journeys) as journeys,
        largest_dropoff.journeys_lost,
        largest_dropoff.stage_order is not null as is_flagged,
        case
            when largest_dropoff.stage_order is not null
                then
                    {{ count_text('largest_dropoff.journeys_lost') }} || ' journeys ('
                    || {{ percent_text('largest_dropoff.dropoff_share') }} || ' of '
                    || {{ count_text('largest_dropoff.journeys_reached') }}
                    || ') that reached ' || largest_dropoff.stage_name
                    || ' stopped there, before ' || largest_dropoff.next_stage_name
            else 'no step reached by at least {{ min_journeys }} journeys yet'
        end as evidence,
        groups.is_final
    from groups
    left join largest_dropoff
        on
            groups.funnel_id = largest_dropoff.funnel_id
            and groups.funnel_version = largest_dropoff.funnel_version
            and groups.platform = largest_dropoff.platform
            and groups.campaign_id = largest_dropoff.campaign_id

    union all

    select
        groups.funnel_id,
        groups.funnel_version,
        groups.platform,
        groups.campaign_id,
        'slowest_step' as finding,
        slowest_step.stage_order,
        slowest_step.stage_name,
        slowest_step.next_stage_name,
        'median_seconds_to_next_stage' as metric_name,
        slowest_step.median_seconds_to_next as metric_value,
        cast(null as double) as threshold,
        coalesce(slowest_step.journeys_reached, groups.journeys) as journeys,
        slowest_step.journeys_lost,
        slowest_step.stage_order is not null as is_flagged,
        case
            when slowest_step.stage_order is not null
                then
                    'from ' || slowest_step.stage_name || ', the next stage took a median of '
                    || {{ duration_text('slowest_step.median_seconds_to_next') }}
                    || ' (' || {{ count_text('slowest_step.journeys_advanced') }} || ' of '
                    || {{ count_text('slowest_step.journeys_reached') }} || ' journeys went on)'
            else
                'no timing yet: no step reached by at least {{ min_journeys }} journeys'
                || ' had one go on'
        end as evidence,
        groups.is_final
    from groups
    left join slowest_step
        on
            groups.funnel_id = slowest_step.funnel_id
            and groups.funnel_version = slowest_step.funnel_version
            and groups.platform = slowest_step.platform
            and groups.campaign_id = slowest_step.campaign_id

    union all

    select
        groups.funnel_id,
        groups.funnel_version,
        groups.platform,
        groups.campaign_id,
        'delay_without_filter' as finding,
        delay_without_filter.stage_order,
        delay_without_filter.stage_name,
        delay_without_filter.next_stage_name,
        'median_seconds_to_next_stage' as metric_name,
        delay_without_filter.median_seconds_to_next as metric_value,
        cast({{ delay_seconds }} as double) as threshold,
        coalesce(delay_without_filter.journeys_reached, groups.journeys) as journeys,
        delay_without_filter.journeys_lost,
        delay_without_filter.stage_order is not null as is_flagged,
        case
            when delay_without_filter.stage_order is not null
                then
                    {{ percent_text('delay_without_filter.step_conversion_rate') }} || ' of '
                    || {{ count_text('delay_without_filter.journeys_reached') }}
                    || ' journeys that reached ' || delay_without_filter.stage_name
                    || ' went on, after a median of '
                    || {{ duration_text('delay_without_filter.median_seconds_to_next') }}
                    || ': the step delays without filtering anyone'
            else
                'no step of at least {{ min_journeys }} journeys lets '
                || {{ percent_text(pass_through) }} || ' or more through yet takes a median of '
                || {{ duration_text(delay_seconds) }} || ' or more'
        end as evidence,
        groups.is_final
    from groups
    left join delay_without_filter
        on
            groups.funnel_id = delay_without_filter.funnel_id
            and groups.funnel_version = delay_without_filter.funnel_version
            and groups.platform = delay_without_filter.platform
            and groups.campaign_id = delay_without_filter.campaign_id

    union all

    select
        direct_tested.funnel_id,
        direct_tested.funnel_version,
        direct_tested.platform,
        direct_tested.campaign_id,
        'asking_too_much_too_soon' as finding,
        cast(null as integer) as stage_order,
        cast(null as varchar) as stage_name,
        cast(null as varchar) as next_stage_name,
        'p_value' as metric_name,
        direct_tested.p_value as metric_value,
        cast({{ alpha }} as double) as threshold,
        direct_tested.journeys,
        direct_tested.journeys - direct_tested.conversions as journeys_lost,
        coalesce(
            direct_tested.is_measurable
            and direct_tested.direct_rate < direct_tested.micro_rate
            and direct_tested.p_value < {{ alpha }},
            false
        ) as is_flagged,
        case
            when direct_tested.micro_funnel_id is null then 'no micro funnel to compare with'
            when not direct_tested.is_measurable
                then
                    'not measurable yet: fewer than {{ min_journeys }} entries on a side ('
                    || direct_tested.funnel_id || ' ' || {{ count_text('direct_tested.journeys') }}
                    || ', ' || direct_tested.micro_funnel_id || ' '
                    || {{ count_text('direct_tested.micro_journeys') }} || ')'
            else
                direct_tested.funnel_id || ' converts '
                || {{ percent_text('direct_tested.direct_rate') }} || ' of '
                || {{ count_text('direct_tested.journeys') }} || ' entries vs '
                || {{ percent_text('direct_tested.micro_rate') }} || ' of '
                || {{ count_text('direct_tested.micro_journeys') }} || ' for '
                || direct_tested.micro_funnel_id || ' (all campaigns): '
                || case
                    when direct_tested.direct_rate >= direct_tested.micro_rate then 'not worse'
                    when direct_tested.p_value < {{ alpha }}
                        then
                            'worse, significant (' || {{ p_value_text('direct_tested.p_value') }}
                            || ')'
                    else
                        'worse, not significant ('
                        || {{ p_value_text('direct_tested.p_value') }} || ')'
                end
        end as evidence,
        direct_tested.is_final
    from direct_tested

    union all

    select
        groups.funnel_id,
        groups.funnel_version,
        groups.platform,
        groups.campaign_id,
        'stalled_journeys' as finding,
        stalled_stage.stage_order,
        stages.stage_name,
        stages.next_stage_name,
        'stalled_share' as metric_name,
        cast(groups.stalled as double) / groups.journeys as metric_value,
        cast({{ stalled_share }} as double) as threshold,
        groups.journeys,
        groups.stalled as journeys_lost,
        groups.journeys >= {{ min_journeys }}
        and cast(groups.stalled as double) / groups.journeys >= {{ stalled_share }} as is_flagged,
        case
            when groups.stalled = 0
                then 'none of ' || {{ count_text('groups.journeys') }} || ' journeys stalled'
            else
                {{ percent_text('cast(groups.stalled as double) / groups.journeys') }} || ' of '
                || {{ count_text('groups.journeys') }}
                || ' journeys stalled (the user did nothing after reaching a stage), most at '
                || stages.stage_name
                || ' ('
                || {{ count_text('stalled_stage.stalled_here') }}
                || ')'
        end as evidence,
        groups.is_final
    from groups
    left join stalled_stage
        on
            groups.funnel_id = stalled_stage.funnel_id
            and groups.funnel_version = stalled_stage.funnel_version
            and groups.platform = stalled_stage.platform
            and groups.campaign_id = stalled_stage.campaign_id
    left join stages
        on
            stalled_stage.funnel_id = stages.funnel_id
            and stalled_stage.stage_order = stages.stage_order
),

final as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        finding,
        cast(stage_order as integer) as stage_order,
        stage_name,
        next_stage_name,
        metric_name,
        cast(metric_value as double) as metric_value,
        threshold,
        cast(journeys as bigint) as journeys,
        cast(journeys_lost as bigint) as journeys_lost,
        is_flagged,
        evidence,
        is_final
    from findings
)

select * from final
