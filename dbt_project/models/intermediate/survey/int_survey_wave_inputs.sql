-- One row per survey wave with a fingerprint of everything its weights and estimates are computed
-- from. The incremental models int_respondents_weighted and int_survey_estimates store the
-- fingerprint they were built from and recompute a wave only when it is new or its fingerprint
-- changed; a wave that is gone from the inputs is deleted from them (macro delete_stale_waves).
--
-- A wave's fingerprint covers, so that in doubt the wave is recomputed:
--   respondents  every located respondent row (key, edition, gemeente, area, age group, sex, load):
--                a reloaded wave (new load id) or a changed area division changes it;
--   answers      the set of answer loads and their row count (landed rows never change in place:
--                a corrected file is a new load that replaces the old one);
--   margins      every register-population margin row of the wave's year (15+, area x age x sex);
--   catalogue    the survey indicators' scoring columns (any change recomputes every wave);
--   method       the weighting settings (rake_tol, rake_max_iter, weight bounds) and
--                survey_method_version below. Bump survey_method_version when the weighting or
--                estimation code changes, or run the build with --full-refresh.
-- Row hashes are summed (order-free) as hugeint with the row count, then md5'd with the rest.

-- version 3: a survey_share's interval is the logit interval (issue 19), not estimate -/+ 1.96 se
{% set survey_method_version = '3' %}

with

respondents as (

    select
        wave,
        count(*) as respondents,
        sum(hash(respondent_key, area_edition, gemeente_code, area_code, age_group, sex, load_id)::hugeint)
            as respondents_hash
    from {{ ref('int_respondents_located') }}
    group by wave

),

answers as (

    select
        wave,
        count(*) as answers,
        string_agg(distinct load_id, ',' order by load_id) as answer_loads
    from {{ ref('stg_survey__answers') }}
    group by wave

),

margins as (

    select
        wave,
        count(*) as margin_cells,
        sum(hash(gemeente_code, area_code, age_group, sex, population)::hugeint) as margins_hash
    from {{ ref('int_survey_margins') }}
    group by wave

),

catalogue as (

    select
        count(*) as survey_indicators,
        coalesce(
            sum(hash(indicator_code, kind, item, answer_codes, min_items, first_year, last_year)::hugeint),
            0
        ) as catalogue_hash
    from {{ ref('indicators') }}
    where kind in ('survey_mean', 'survey_share', 'survey_scale')

),

final as (

    select
        respondents.wave,
        respondents.respondents,
        coalesce(answers.answers, 0) as answers,
        coalesce(margins.margin_cells, 0) as margin_cells,
        md5(concat_ws(
            '|',
            'respondents', respondents.respondents, respondents.respondents_hash,
            'answers', coalesce(answers.answers, 0), coalesce(answers.answer_loads, ''),
            'margins', coalesce(margins.margin_cells, 0), coalesce(margins.margins_hash, 0),
            'catalogue', catalogue.survey_indicators, catalogue.catalogue_hash,
            'method', '{{ survey_method_version }}',
            '{{ var("rake_tol") }}', '{{ var("rake_max_iter") }}',
            '{{ var("weight_bound_low") }}', '{{ var("weight_bound_high") }}'
        )) as input_fingerprint
    from respondents
    cross join catalogue
    left join answers
        on answers.wave = respondents.wave
    left join margins
        on margins.wave = respondents.wave

)

select * from final
