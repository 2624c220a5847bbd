-- The published compass marts in one hand-written DuckDB script, written for speed: the practical
-- limit the dbt build is measured against (benchmarks/bench_marts.py, issues 5 and 9).
--
-- Reads the landed sources (raw.*), the catalogue (catalogue.*, dbt's seeds) and ONE intermediate
-- of the dbt build: intermediate.int_survey_estimates, the survey estimator (raking and
-- design-based estimates, a dbt Python model on basismonitor.stats). Everything else is computed
-- from the raw tables here. Writes hand.fct_indicator_value, hand.mart_compass_status and
-- hand.mart_compass_development with the columns and numbers of the dbt marts.
--
-- $${name} are the dbt project's vars (dbt_project.yml), filled in by run_marts.py.
-- Differences in how, not what: small lookups are temp tables, each source is scanned once, the
-- registry figures are pivoted once per (period, area) instead of self-joined per indicator, and
-- the ancestors closure is replaced by the two lookups used (buurt -> compass area, area -> gemeente).

create schema if not exists hand;

-- ---- areas: editions, each area's gemeente, buurt -> compass area ---------------------------------

create or replace temp table editions as
select
    edition,
    edition as valid_from,
    coalesce(lead(edition) over (order by edition) - 1, 9999) as valid_to,
    edition = max(edition) over () as is_current
from (select distinct edition from raw.areas where area_level = 'buurt');

create or replace temp table current_edition as select edition from editions where is_current;

-- every area with its own level and its ancestors up the parent chain (depth <= 10, as dbt)
create or replace temp table area_ancestors as
with recursive
areas as (
    select edition, trim(area_code) as area_code, area_level, nullif(trim(parent_code), '') as parent_code
    from raw.areas
),
closure(edition, area_code, area_level, ancestor_code, depth) as (
    select edition, area_code, area_level, area_code, 0 from areas
    union all
    select c.edition, c.area_code, c.area_level, a.parent_code, c.depth + 1
    from closure as c
    inner join areas as a on a.edition = c.edition and a.area_code = c.ancestor_code
    where a.parent_code is not null and c.depth < 10
)
select closure.*, ancestor.area_level as ancestor_level
from closure
inner join areas as ancestor
    on ancestor.edition = closure.edition and ancestor.area_code = closure.ancestor_code;

create or replace temp table area_gemeente as
select edition, area_code, area_level, ancestor_code as gemeente_code
from area_ancestors where ancestor_level = 'gemeente';

create or replace temp table area_level as
select edition, area_code, area_level from area_ancestors where depth = 0;

create or replace temp table buurten as
select b.edition, b.area_code as buurt_code, c.ancestor_code as area_code, b.gemeente_code
from area_gemeente as b
inner join area_ancestors as c
    on c.edition = b.edition and c.area_code = b.area_code and c.ancestor_level = '${compass_level}'
where b.area_level = 'buurt';

-- ---- population per period x compass area (on the edition in force) -------------------------------

create or replace temp table population_cells as
select p.period, e.edition, b.gemeente_code, b.area_code, p.age_group, p.sex, sum(p.population) as population
from raw.population as p
inner join editions as e on p.period between e.valid_from and e.valid_to
inner join buurten as b on b.edition = e.edition and b.buurt_code = trim(p.area_code)
group by all;

create or replace temp table area_population as
select period, edition, gemeente_code, area_code, sum(population) as population
from population_cells group by all;

-- ---- crosswalk at the compass level onto the current edition -------------------------------------

create or replace temp table crosswalk as
with
buurt_population as (
    select e.edition, trim(p.area_code) as buurt_code, sum(p.population) as population
    from raw.population as p
    inner join editions as e
        on p.period = least(e.valid_to, (select max(period) from raw.population))
    group by all
),
old_to_new as (
    select
        cw.from_edition,
        o.area_code as from_area_code,
        n.area_code as to_area_code,
        sum(cw.share * coalesce(bp.population, 0)) as population_moved,
        sum(cw.share) as share_moved,
        cw.method
    from raw.crosswalk as cw
    inner join buurten as o on o.edition = cw.from_edition and o.buurt_code = trim(cw.from_code)
    inner join buurten as n on n.edition = cw.to_edition and n.buurt_code = trim(cw.to_code)
    left join buurt_population as bp on bp.edition = cw.from_edition and bp.buurt_code = trim(cw.from_code)
    where cw.to_edition = (select edition from current_edition)
    group by all
),
shares as (
    select
        from_edition, from_area_code, to_area_code,
        -- an old area without inhabitants: by the crosswalk's own shares (as dbt)
        case when sum(population_moved) over w > 0 then population_moved / sum(population_moved) over w
            else share_moved / nullif(sum(share_moved) over w, 0) end as share,
        case when sum(population_moved) over w > 0 then 'crosswalk buurten, weighted by ' || method
            else 'crosswalk buurten, by share (no inhabitants)' end as method
    from old_to_new
    window w as (partition by from_edition, from_area_code)
)
select * from shares where share > 0
union all
select distinct edition, area_code, area_code, 1.0, 'identity'
from buurten where edition = (select edition from current_edition);

-- ---- registry: CBS Kerncijfers (kwb) --------------------------------------------------------------

create or replace temp table kwb as
select
    v.period,
    e.edition,
    g.gemeente_code,
    trim(v.area_code) as area_code,
    v.area_level = 'gemeente' as is_city,
    lower(v.variable) as variable,
    v.value,
    v.missing_reason,
    v._load_id as load_id
from raw.registry_values as v
inner join editions as e on v.period between e.valid_from and e.valid_to
inner join area_gemeente as g on g.edition = e.edition and g.area_code = trim(v.area_code)
where v.area_level in ('gemeente', '${compass_level}');

create or replace temp table kwb_indicators as
with
ind as (select * from catalogue.indicators where source_kind = 'registry' and source = 'kwb'),
-- the variables used as a denominator or population, looked up once per (period, area)
lookups as (
    select period, area_code, variable, value, missing_reason, load_id
    from kwb
    where variable in (select denominator from ind union select 'a_inw')
)
select
    ind.indicator_code,
    ind.kind,
    num.period,
    num.edition,
    num.gemeente_code,
    num.area_code,
    num.is_city,
    case when ind.kind in ('registry_value', 'registry_count') then null else num.value end as numerator,
    den.value as denominator,
    case
        when ind.kind = 'registry_share' then num.value / nullif(den.value, 0)
        when ind.kind = 'registry_rate' then 1000 * num.value / nullif(den.value, 0)
        else num.value
    end as value,
    coalesce(num.missing_reason, den.missing_reason) as missing_reason,
    pop.value as population,
    ind.min_count,
    ind.min_population,
    list_distinct(list_value(num.load_id, den.load_id)) as load_ids,
    'published' as city_value_source
from ind
inner join kwb as num on num.variable = ind.item
left join lookups as den
    on den.variable = ind.denominator and den.period = num.period and den.area_code = num.area_code
left join lookups as pop
    on pop.variable = 'a_inw' and pop.period = num.period and pop.area_code = num.area_code;

-- ---- registry: police crimes ---------------------------------------------------------------------

create or replace temp table crimes_located as
select c.period, e.edition, l.area_level, trim(c.area_code) as area_code, c.crime_type, c.crimes,
    c.missing_reason, c._load_id as load_id
from raw.police_crimes as c
inner join editions as e on c.period between e.valid_from and e.valid_to
inner join area_level as l on l.edition = e.edition and l.area_code = trim(c.area_code)
where c.crime_type in (select item from catalogue.indicators where source = 'police' and source_kind = 'registry');

create or replace temp table police_indicators as
with
published as (
    select c.period, c.edition, g.gemeente_code, c.area_code, c.area_level = 'gemeente' as is_city,
        c.crime_type, c.crimes, c.missing_reason, [c.load_id] as load_ids, 'published' as city_value_source
    from crimes_located as c
    inner join area_gemeente as g on g.edition = c.edition and g.area_code = c.area_code
    where c.area_level in ('gemeente', '${compass_level}')
),
rolled as (
    select
        c.period, c.edition, b.gemeente_code,
        coalesce(b.area_code, b.gemeente_code) as area_code,
        b.area_code is null as is_city,
        c.crime_type,
        case when count(c.missing_reason) filter (where c.missing_reason in ('hidden', 'unknown', 'invalid')) = 0
            then sum(c.crimes) end as crimes,
        min(c.missing_reason) filter (where c.missing_reason in ('hidden', 'unknown', 'invalid')) as missing_reason,
        list_distinct(list(c.load_id)) as load_ids,
        'computed from buurten' as city_value_source
    from crimes_located as c
    inner join buurten as b on b.edition = c.edition and b.buurt_code = c.area_code
    where c.area_level = 'buurt'
    group by grouping sets (
        (c.period, c.edition, b.gemeente_code, b.area_code, c.crime_type),
        (c.period, c.edition, b.gemeente_code, c.crime_type)
    )
),
crimes as (
    select * from published
    union all by name
    select r.* from rolled as r
    anti join published as p on p.period = r.period and p.area_code = r.area_code and p.crime_type = r.crime_type
),
city_population as (
    select period, gemeente_code, sum(population) as population from area_population group by all
)
select
    ind.indicator_code,
    ind.kind,
    c.period,
    c.edition,
    c.gemeente_code,
    c.area_code,
    c.is_city,
    cast(c.crimes as double) as numerator,
    cast(coalesce(ap.population, cp.population) as double) as denominator,
    1000 * c.crimes / nullif(coalesce(ap.population, cp.population), 0) as value,
    c.missing_reason,
    coalesce(ap.population, cp.population) as population,
    ind.min_count,
    ind.min_population,
    c.load_ids,
    c.city_value_source
from catalogue.indicators as ind
inner join crimes as c on c.crime_type = ind.item
-- null keys instead of `not c.is_city and ...`: an equi-join DuckDB hashes, not a nested loop
left join area_population as ap
    on ap.period = c.period and ap.area_code = case when not c.is_city then c.area_code end
left join city_population as cp
    on cp.period = c.period and cp.gemeente_code = case when c.is_city then c.gemeente_code end
where ind.source_kind = 'registry' and ind.source = 'police';

create or replace temp table registry_values as
select
    indicator_code, period, edition, gemeente_code, area_code, is_city, numerator, denominator,
    case
        when missing_reason is not null then 'source: ' || missing_reason
        when population < coalesce(min_population, 0) then 'population below ' || min_population
        when kind in ('registry_share', 'registry_rate') and numerator < coalesce(min_count, 0)
            then 'count below ' || min_count
        when kind = 'registry_count' and value < coalesce(min_count, 0) then 'count below ' || min_count
        when value is null then 'no value'
    end as suppression_reason,
    value, city_value_source, load_ids
from (select * from kwb_indicators union all by name select * from police_indicators);

-- ---- activities ----------------------------------------------------------------------------------

create or replace temp table activity_values as
with
ind as (select * from catalogue.indicators where source_kind = 'activity'),
-- registrations counted once per programme x period x buurt x category x outcome (millions of rows
-- to a few hundred thousand) before they meet the indicators
cells as (
    select programme, period, trim(area_code) as buurt_code, category, outcome, count(*) as n,
        sum(cast(amount_granted as double)) as amount_granted, list_distinct(list(_load_id)) as load_ids
    from raw.activity_registrations
    group by all
),
programme_years as (
    select programme, period, list_distinct(flatten(list(load_ids))) as load_ids from cells group by all
),
located as (
    select c.*, b.gemeente_code, b.area_code
    from cells as c
    inner join editions as e on c.period between e.valid_from and e.valid_to
    inner join buurten as b on b.edition = e.edition and b.buurt_code = c.buurt_code
),
counted as (
    select
        ind.indicator_code, l.period, l.gemeente_code, l.area_code,
        coalesce(sum(l.n) filter (where ind.numerator is null or l.category = ind.numerator), 0) as n_registrations,
        coalesce(sum(l.n) filter (where list_contains(string_split(ind.answer_codes, '|'), l.outcome)), 0) as n_outcome,
        coalesce(sum(l.n) filter (where list_contains(string_split(ind.denominator, '|'), l.outcome)), 0) as n_outcome_base,
        sum(l.amount_granted) as amount_granted,
        list_distinct(flatten(list(l.load_ids))) as load_ids
    from ind
    inner join located as l on l.programme = ind.item
    group by grouping sets (
        (ind.indicator_code, l.period, l.gemeente_code, l.area_code),
        (ind.indicator_code, l.period, l.gemeente_code)
    )
),
population as (
    select period, edition, gemeente_code, area_code, false as is_city, population from area_population
    union all
    select period, edition, gemeente_code, gemeente_code, true, sum(population) from area_population group by all
),
measured as (
    select
        ind.indicator_code, ind.kind, ind.min_count, ind.min_population,
        p.period, p.edition, p.gemeente_code, p.area_code, p.is_city, p.population,
        case ind.kind
            when 'activity_rate' then coalesce(c.n_registrations, 0)
            when 'activity_share' then coalesce(c.n_outcome, 0)
            when 'activity_amount' then coalesce(c.amount_granted, 0)
        end as numerator,
        case ind.kind
            when 'activity_rate' then p.population
            when 'activity_share' then coalesce(c.n_outcome_base, 0)
            when 'activity_amount' then p.population
        end as denominator,
        coalesce(c.load_ids, y.load_ids) as load_ids
    from ind
    inner join programme_years as y on y.programme = ind.item
    inner join population as p on p.period = y.period
    left join counted as c
        on c.indicator_code = ind.indicator_code
        and c.period = p.period
        and c.gemeente_code = p.gemeente_code
        and coalesce(c.area_code, c.gemeente_code) = p.area_code
        and (c.area_code is null) = p.is_city
)
select
    indicator_code, period, edition, gemeente_code, area_code, is_city,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator,
    case
        when population < coalesce(min_population, 0) then 'population below ' || min_population
        when kind = 'activity_rate' and numerator < coalesce(min_count, 0) then 'count below ' || min_count
        when kind = 'activity_share' and denominator < coalesce(min_count, 0) then 'count below ' || min_count
        when kind = 'activity_share' and numerator < coalesce(min_count, 0) then 'count below ' || min_count
        when denominator is null or denominator = 0 then 'no denominator'
    end as suppression_reason,
    case kind
        when 'activity_rate' then 1000 * numerator / nullif(denominator, 0)
        else numerator / nullif(denominator, 0)
    end as value,
    'computed from buurten' as city_value_source,
    load_ids
from measured;

-- ---- survey (estimates from the dbt build's estimator) -------------------------------------------

create or replace temp table survey_values as
with
waves as (
    -- the edition each wave's respondents are placed on, and the wave's loads
    select r.wave, any_value(e.edition) as edition, list_distinct(list(r._load_id)) as load_ids,
        bool_or(b.buurt_code is not null) as any_located
    from raw.survey_respondents as r
    left join editions as e on r.wave between e.valid_from and e.valid_to
    left join buurten as b on b.edition = e.edition and b.buurt_code = trim(r.area_code)
    group by r.wave
),
-- whether the raking converged: an area's own, any area's for the city (issue 19)
weighting as (
    select wave, gemeente_code, area_code, bool_and(converged) as converged
    from intermediate.int_respondents_weighted group by all
),
weighting_city as (
    select wave, gemeente_code, bool_and(converged) as converged from weighting group by all
)
select
    s.indicator_code,
    s.wave as period,
    w.edition,
    s.gemeente_code,
    s.area_code,
    s.is_city,
    cast(null as double) as numerator,
    cast(null as double) as denominator,
    s.estimate as value,
    s.n,
    s.weighted_n,
    s.se,
    s.ci_low,
    s.ci_high,
    s.contrast,
    s.contrast_se,
    case when s.is_city then null else s.significant end as significant,
    case when s.n < coalesce(ind.min_n, ${survey_min_n_default})
        then 'n below ' || coalesce(ind.min_n, ${survey_min_n_default}) end as suppression_reason,
    'estimated from respondents' as city_value_source,
    w.load_ids,
    coalesce(case when s.is_city then wc.converged else wa.converged end, false) as weighting_converged,
    'direct' as estimation_method,
    s.se * s.se as mse
from intermediate.int_survey_estimates as s
inner join catalogue.indicators as ind on ind.indicator_code = s.indicator_code
inner join waves as w on w.wave = s.wave and w.any_located and w.edition is not null
left join weighting as wa on wa.wave = s.wave and wa.gemeente_code = s.gemeente_code and wa.area_code = s.area_code
left join weighting_city as wc on wc.wave = s.wave and wc.gemeente_code = s.gemeente_code
where s.n > 0;

-- issue 21: on a buurt compass, an indicator with use_at_buurt takes its buurt figures of a wave
-- from the Fay-Herriot rows (dbt's intermediate.int_survey_small_area_estimates) instead of the
-- direct ones; interval value +- 1.96 sqrt(mse) (a share's clipped to [0, 1]), contrast against
-- the direct city figure with se sqrt(mse + city se^2)
create or replace temp table model_values as
with
fh as (
    select f.* from intermediate.int_survey_small_area_estimates as f
    inner join catalogue.indicator_small_area as c on c.indicator_code = f.indicator_code
    where f.estimation_method = 'fay_herriot' and c.use_at_buurt and '${compass_level}' = 'buurt'
),
city as (select * from survey_values where is_city)
select
    fh.indicator_code, fh.wave as period, w.edition, fh.gemeente_code, fh.buurt_code as area_code,
    false as is_city, cast(null as double) as numerator, cast(null as double) as denominator,
    fh.estimate as value, fh.n, cast(null as double) as weighted_n, sqrt(fh.mse) as se,
    case when ind.kind = 'survey_share' then greatest(0.0, fh.estimate - 1.959963984540054 * sqrt(fh.mse))
        else fh.estimate - 1.959963984540054 * sqrt(fh.mse) end as ci_low,
    case when ind.kind = 'survey_share' then least(1.0, fh.estimate + 1.959963984540054 * sqrt(fh.mse))
        else fh.estimate + 1.959963984540054 * sqrt(fh.mse) end as ci_high,
    fh.estimate - city.value as contrast,
    sqrt(fh.mse + city.se * city.se) as contrast_se,
    case when fh.mse + city.se * city.se > 0
        then abs(fh.estimate - city.value) / sqrt(fh.mse + city.se * city.se) > 1.959963984540054 end as significant,
    fh.suppression_reason, 'estimated from respondents' as city_value_source, w.load_ids,
    coalesce(wa.converged, false) as weighting_converged,
    'fay_herriot' as estimation_method, fh.mse
from fh
inner join catalogue.indicators as ind on ind.indicator_code = fh.indicator_code
inner join (select period, any_value(edition) as edition, any_value(load_ids) as load_ids
            from survey_values group by period) as w
    on w.period = fh.wave
left join city on city.period = fh.wave and city.indicator_code = fh.indicator_code and city.gemeente_code = fh.gemeente_code
left join (select wave, gemeente_code, area_code, bool_and(converged) as converged
           from intermediate.int_respondents_weighted group by all) as wa
    on wa.wave = fh.wave and wa.gemeente_code = fh.gemeente_code and wa.area_code = fh.buurt_code;

delete from survey_values as s
where not s.is_city
    and exists (select 1 from model_values as m where m.period = s.period
                and m.indicator_code = s.indicator_code and m.area_code = s.area_code);

-- a compass buurt of a modelled wave x indicator with neither figure: a suppressed row
insert into model_values by name
select m.indicator_code, m.period, e.edition, b.gemeente_code, b.buurt_code as area_code,
    false as is_city, cast(0 as bigint) as n,
    'no respondents and no covariates' as suppression_reason,
    'estimated from respondents' as city_value_source, w.load_ids, 'fay_herriot' as estimation_method
from (select distinct period, indicator_code from model_values) as m
inner join (select period, any_value(edition) as edition from survey_values group by period) as e on e.period = m.period
inner join buurten as b on b.edition = e.edition and b.buurt_code = b.area_code
inner join (select period, any_value(load_ids) as load_ids from survey_values group by period) as w on w.period = m.period
where not exists (select 1 from model_values as x where x.period = m.period and x.indicator_code = m.indicator_code
                  and x.area_code = b.buurt_code)
    and not exists (select 1 from survey_values as x where x.period = m.period and x.indicator_code = m.indicator_code
                    and x.area_code = b.buurt_code);

create or replace temp table indicator_values as
select * from survey_values
union all by name
select * from model_values
union all by name
select * from registry_values
union all by name
select * from activity_values;

-- ---- harmonised onto the current edition, and the fact table -------------------------------------

create or replace table hand.fct_indicator_value as
with
old_population as (select period, area_code, sum(population) as population from area_population group by all),
contributions as (
    select
        v.*,
        ind.kind,
        cw.to_area_code,
        cw.share,
        cw.method,
        cw.share * coalesce(op.population, 1) as mass
    from indicator_values as v
    inner join catalogue.indicators as ind on ind.indicator_code = v.indicator_code
    inner join crosswalk as cw on cw.from_edition = v.edition and cw.from_area_code = v.area_code
    left join old_population as op on op.period = v.period and op.area_code = v.area_code
    where not v.is_city
),
-- current-edition figures map onto their own area alone (identity, share 1): no window, no group by
native as (
    select
        indicator_code, period, (select edition from current_edition) as edition, gemeente_code,
        to_area_code as area_code, false as is_city,
        share * numerator as numerator,
        share * denominator as denominator,
        case when kind = 'registry_count' then share * value else (mass / mass) * value end as value,
        cast(n as bigint) as n,
        share * weighted_n as weighted_n,
        sqrt((mass / mass) * (mass / mass) * se * se) as se,
        (mass / mass) * contrast as contrast,
        sqrt((mass / mass) * (mass / mass) * contrast_se * contrast_se) as contrast_se,
        suppression_reason, city_value_source, list_distinct(load_ids) as load_ids,
        weighting_converged, kind,
        true as is_native, method as harmonisation_method,
        estimation_method, (mass / mass) * (mass / mass) * mse as mse
    from (select * replace (case when mass > 0 then mass else 1.0 end as mass) from contributions)
    where method = 'identity' and edition = (select edition from current_edition)
),
weighted as (
    -- a target area whose old areas had no inhabitants: weighted by shares, not 0/0 (as dbt)
    select *, case when sum(mass) over w > 0 then mass / sum(mass) over w
        else share / sum(share) over w end as a
    from contributions
    where not (method = 'identity' and edition = (select edition from current_edition))
    window w as (partition by indicator_code, period, to_area_code)
),
areas as (
    select
        indicator_code,
        period,
        (select edition from current_edition) as edition,
        any_value(gemeente_code) as gemeente_code,
        to_area_code as area_code,
        false as is_city,
        sum(share * numerator) as numerator,
        sum(share * denominator) as denominator,
        case when any_value(kind) = 'registry_count' then sum(share * value) else sum(a * value) end as value,
        cast(sum(n) as bigint) as n,
        -- summed exactly as the dbt model does (its macro exact_sum): the 6-decimal rounding in the
        -- fact table must not depend on the order the threads add the terms in
        cast(sum(cast(share * weighted_n as decimal(38, 12))) as double) as weighted_n,
        sqrt(sum(a * a * se * se)) as se,
        sum(a * contrast) as contrast,
        sqrt(sum(a * a * contrast_se * contrast_se)) as contrast_se,
        case
            when count(suppression_reason) > 0 and count(*) = 1 then min(suppression_reason)
            when count(suppression_reason) > 0 then 'derived from suppressed: ' || min(suppression_reason)
        end as suppression_reason,
        any_value(city_value_source) as city_value_source,
        list_distinct(flatten(list(load_ids))) as load_ids,
        bool_and(weighting_converged) as weighting_converged,
        any_value(kind) as kind,
        bool_and(method = 'identity') as is_native,
        string_agg(distinct method, '; ') as harmonisation_method,
        case when bool_or(estimation_method = 'fay_herriot') then 'fay_herriot'
            else min(estimation_method) end as estimation_method,
        sum(a * a * mse) as mse
    from weighted
    group by indicator_code, period, to_area_code
    union all by name
    select * from native
),
combined as (
    select
        * replace (coalesce(suppression_reason, case
            when kind in ('registry_share', 'registry_rate', 'activity_rate', 'activity_share')
                and numerator < 5 then 'count below 5 after harmonisation'
            when kind = 'registry_count' and value < 5 then 'count below 5 after harmonisation'
        end) as suppression_reason),
        -- a survey share's interval is the logit one (R's svyciprop(method = "logit"), issue 19)
        case
            when estimation_method = 'fay_herriot' and kind = 'survey_share' then greatest(0.0, value - 1.959963984540054 * se)
            when estimation_method = 'fay_herriot' then value - 1.959963984540054 * se
            when kind = 'survey_share' and value > 0 and value < 1
                then 1 / (1 + exp(-(ln(value / (1 - value)) - 1.959963984540054 * se / (value * (1 - value)))))
            when kind = 'survey_share' then value + 0 * se
            else value - 1.959963984540054 * se end as ci_low_h,
        case
            when estimation_method = 'fay_herriot' and kind = 'survey_share' then least(1.0, value + 1.959963984540054 * se)
            when estimation_method = 'fay_herriot' then value + 1.959963984540054 * se
            when kind = 'survey_share' and value > 0 and value < 1
                then 1 / (1 + exp(-(ln(value / (1 - value)) + 1.959963984540054 * se / (value * (1 - value)))))
            when kind = 'survey_share' then value + 0 * se
            else value + 1.959963984540054 * se end as ci_high_h,
        case when contrast_se > 0 then abs(contrast) / contrast_se > 1.959963984540054 end as significant
    from areas
),
harmonised as (
    select * exclude (ci_low_h, ci_high_h, kind), ci_low_h as ci_low, ci_high_h as ci_high from combined
    union all by name
    select * replace ((select edition from current_edition) as edition), true as is_native,
        'identity' as harmonisation_method
    from indicator_values where is_city
    union all by name
    select *, true as is_native, 'as published on edition ' || edition as harmonisation_method
    from indicator_values where edition <> (select edition from current_edition)
)
select
    cast(edition as integer) as area_edition,
    cast(gemeente_code as varchar) as gemeente_code,
    cast(area_code as varchar) as area_code,
    cast(is_city as boolean) as is_city,
    cast(period as integer) as period,
    cast(indicator_code as varchar) as indicator_code,
    cast(round(case when suppression_reason is null then value end, 6) as double) as value,
    cast(round(case when suppression_reason is null then numerator end, 6) as double) as numerator,
    cast(round(case when suppression_reason is null then denominator end, 6) as double) as denominator,
    cast(case when suppression_reason is null then n end as bigint) as n_unweighted,
    cast(round(case when suppression_reason is null then weighted_n end, 6) as double) as n_weighted,
    cast(round(case when suppression_reason is null then se end, 6) as double) as standard_error,
    cast(round(case when suppression_reason is null then ci_low end, 6) as double) as ci_low,
    cast(round(case when suppression_reason is null then ci_high end, 6) as double) as ci_high,
    cast(round(case when suppression_reason is null then contrast end, 6) as double) as contrast_with_city,
    cast(round(case when suppression_reason is null then contrast_se end, 6) as double) as contrast_se,
    cast(case when suppression_reason is null then significant end as boolean) as significant,
    suppression_reason is not null as suppressed,
    cast(suppression_reason as varchar) as suppression_reason,
    cast(city_value_source as varchar) as city_value_source,
    not is_native as is_harmonised,
    cast(harmonisation_method as varchar) as harmonisation_method,
    cast(load_ids as varchar[]) as load_ids,
    cast(weighting_converged as boolean) as weighting_converged,
    cast(estimation_method as varchar) as estimation_method,
    cast(round(case when suppression_reason is null then mse end, 12) as double) as mse,
    cast(round(case when suppression_reason is null and value <> 0 then sqrt(mse) / abs(value) end, 6) as double) as cv
from harmonised
where period <= ${edition};

-- ---- the compasses -------------------------------------------------------------------------------

-- a and b for the weighting flag: null only when neither figure is from the survey (issue 19)
create or replace macro converged_and(a, b) as
    case when a is null and b is null then null else coalesce(a, true) and coalesce(b, true) end;

-- num / den (exact decimals) rounded half away from zero to one decimal, decided in decimals
create or replace macro round_ratio(num, den) as
    (case when den <> 0 then sign(num) * sign(den) * (
        floor(abs(num::double / den::double) * 10)
        + case when abs(num) * 20 >= (2 * floor(abs(num::double / den::double) * 10) + 1) * abs(den)
               then 1 else 0 end) / 10 end)::double;

create or replace temp table node_labels as
select 'indicator' as node_level, indicator_code as node_code, label_nl from catalogue.indicators
union all
select 'theme', theme_code, label_nl from catalogue.themes
union all
select 'quadrant', quadrant_code, label_nl from catalogue.quadrants
union all
select 'centre', 'centrum', 'Centrum';

create or replace temp table dim_indicator as
select
    i.indicator_code, i.source_kind, i.kind, i.unit, cast(i.polarity as integer) as polarity, i.theme_code,
    t.quadrant_code, q.is_judged, cast(coalesce(i.weight, 1) as double) as theme_weight
from catalogue.indicators as i
inner join catalogue.themes as t on t.theme_code = i.theme_code
inner join catalogue.quadrants as q on q.quadrant_code = t.quadrant_code;

create or replace temp table facts as
select * from hand.fct_indicator_value
where area_edition = (select edition from current_edition)
    and period in (${edition}, ${base_period});

-- the status compass's indicator ring
create or replace temp table status_ring as
with
cur as (select * from facts where period = ${edition}),
city as (select gemeente_code, indicator_code, value as city_value, weighting_converged as city_wc from cur where is_city),
compared as (
    select
        cur.*, city.city_value, city.city_wc, d.source_kind, d.polarity, d.theme_code, d.quadrant_code,
        d.is_judged and d.polarity <> 0 as is_judged_, d.theme_weight as weight
    from cur
    inner join dim_indicator as d on d.indicator_code = cur.indicator_code
    left join city on city.gemeente_code = cur.gemeente_code and city.indicator_code = cur.indicator_code
    -- counts and surfaces are descriptive: not in the status compass
    where not cur.is_city and not coalesce(d.kind = 'registry_count' or d.unit = 'ha', false)
),
spreads as (
    select gemeente_code, indicator_code,
        (sum(cast(abs(value - city_value) as decimal(38, 12))) / nullif(count(abs(value - city_value)), 0))::double as spread
    from compared
    where value is not null and city_value is not null
    group by all
)
select
    compared.* exclude (is_judged_) replace (converged_and(compared.weighting_converged, compared.city_wc) as weighting_converged),
    compared.is_judged_ as is_judged_node,
    case
        when compared.value is null or compared.city_value is null then null
        when coalesce(s.spread, 0) = 0 then 100.0
        else round(least(greatest(100 + ${index_scale} * (case when compared.polarity = 0 then 1 else compared.polarity end)
            * (compared.value - compared.city_value) / s.spread, ${index_min}), ${index_max}), 1)
    end as idx
from compared
left join spreads as s on s.gemeente_code = compared.gemeente_code and s.indicator_code = compared.indicator_code;

-- the development compass's indicator ring
create or replace temp table development_ring as
with
cur as (select * from facts where period = ${edition}),
base as (select * from facts where period = ${base_period}),
paired as (
    select
        cur.gemeente_code, cur.area_code, cur.is_city, cur.area_edition, cur.indicator_code,
        cur.value as current_value,
        base.value as base_value,
        -- a count changes relatively (%)
        case when coalesce(d.kind = 'registry_count' or d.unit = 'ha', false)
            then 100 * (cur.value / nullif(base.value, 0) - 1) else cur.value - base.value end as change,
        cur.contrast_with_city - base.contrast_with_city as contrast_change,
        sqrt(cur.contrast_se * cur.contrast_se + base.contrast_se * base.contrast_se) as contrast_change_se,
        coalesce(cur.suppression_reason, base.suppression_reason,
            case when base.value is null then 'no value in base period ' || ${base_period} end) as suppression_reason,
        converged_and(cur.weighting_converged, base.weighting_converged) as weighting_converged
    from cur
    inner join dim_indicator as d on d.indicator_code = cur.indicator_code
    left join base on base.area_code = cur.area_code and base.indicator_code = cur.indicator_code
),
compared as (
    select
        p.* replace (converged_and(p.weighting_converged, city.weighting_converged) as weighting_converged),
        city.change as city_change, d.source_kind, d.polarity, d.theme_code, d.quadrant_code,
        d.is_judged and d.polarity <> 0 as is_judged_node, d.theme_weight as weight,
        case when d.source_kind = 'survey' and p.contrast_change_se > 0
            then abs(p.contrast_change) / p.contrast_change_se > 1.959963984540054 end as significant
    from paired as p
    inner join dim_indicator as d on d.indicator_code = p.indicator_code
    left join paired as city
        on city.is_city and city.gemeente_code = p.gemeente_code and city.indicator_code = p.indicator_code
    where not p.is_city
),
spreads as (
    select gemeente_code, indicator_code,
        (sum(cast(abs(change - city_change) as decimal(38, 12))) / nullif(count(abs(change - city_change)), 0))::double as spread
    from compared
    where change is not null and city_change is not null
    group by all
)
select
    compared.*,
    case
        when compared.change is null or compared.city_change is null or compared.suppression_reason is not null then null
        when coalesce(s.spread, 0) = 0 then 100.0
        else round(least(greatest(100 + ${index_scale} * (case when compared.polarity = 0 then 1 else compared.polarity end)
            * (compared.change - compared.city_change) / s.spread, ${index_min}), ${index_max}), 1)
    end as idx
from compared
left join spreads as s on s.gemeente_code = compared.gemeente_code and s.indicator_code = compared.indicator_code;

-- the inner rings of both compasses in one pass: theme -> quadrant -> centre
create or replace temp table rings as
with
ring as (
    select 'status' as compass, gemeente_code, area_code, theme_code, quadrant_code, is_judged_node, weight, idx, weighting_converged
    from status_ring
    union all
    select 'development', gemeente_code, area_code, theme_code, quadrant_code, is_judged_node, weight, idx, weighting_converged
    from development_ring
),
themes_ring as (
    select
        compass, gemeente_code, area_code, theme_code as node_code,
        any_value(quadrant_code) as quadrant_code,
        bool_or(is_judged_node) as is_judged,
        case when bool_or(is_judged_node) then count(*) filter (where is_judged_node) else count(*) end as n_children,
        case when bool_or(is_judged_node) then count(idx) filter (where is_judged_node) else count(idx) end as n_children_shown,
        case
            when bool_or(is_judged_node) then sum(cast(idx * weight as decimal(38, 12))) filter (where idx is not null and is_judged_node)
            else sum(cast(idx * weight as decimal(38, 12))) filter (where idx is not null)
        end as raw_num,
        case
            when bool_or(is_judged_node) then sum(cast(weight as decimal(38, 12))) filter (where idx is not null and is_judged_node)
            else sum(cast(weight as decimal(38, 12))) filter (where idx is not null)
        end as raw_den,
        bool_and(weighting_converged) filter (where idx is not null) as weighting_converged
    from ring
    group by compass, gemeente_code, area_code, theme_code
),
quadrants_ring as (
    select
        r.compass, r.gemeente_code, r.area_code, r.quadrant_code as node_code, r.quadrant_code,
        bool_or(r.is_judged) as is_judged,
        count(*) as n_children,
        count(*) filter (where r.n_children_shown >= ${min_children_share} * r.n_children and r.raw_idx is not null) as n_children_shown,
        sum(cast(r.raw_idx * t.weight as decimal(38, 12))) filter (where r.n_children_shown >= ${min_children_share} * r.n_children) as raw_num,
        sum(cast(t.weight as decimal(38, 12))) filter (where r.n_children_shown >= ${min_children_share} * r.n_children and r.raw_idx is not null) as raw_den,
        bool_and(r.weighting_converged) as weighting_converged
    from (select *, (raw_num / nullif(raw_den, 0))::double as raw_idx from themes_ring) as r
    inner join catalogue.themes as t on t.theme_code = r.node_code
    group by r.compass, r.gemeente_code, r.area_code, r.quadrant_code
),
centre_ring as (
    select
        r.compass, r.gemeente_code, r.area_code, 'centrum' as node_code, cast(null as varchar) as quadrant_code,
        true as is_judged,
        count(*) as n_children,
        count(*) filter (where r.n_children_shown >= ${min_children_share} * r.n_children and r.raw_idx is not null) as n_children_shown,
        sum(cast(r.raw_idx as decimal(38, 12))) filter (where r.n_children_shown >= ${min_children_share} * r.n_children) as raw_num,
        cast(count(r.raw_idx) filter (where r.n_children_shown >= ${min_children_share} * r.n_children) as decimal(38, 12)) as raw_den,
        bool_and(r.weighting_converged) as weighting_converged
    from (select *, (raw_num / nullif(raw_den, 0))::double as raw_idx from quadrants_ring) as r
    inner join catalogue.quadrants as q on q.quadrant_code = r.node_code
    where q.in_centre
    group by r.compass, r.gemeente_code, r.area_code
),
composites as (
    select 'theme' as node_level, *, quadrant_code as parent_node_code from themes_ring
    union all by name
    select 'quadrant' as node_level, *, 'centrum' as parent_node_code from quadrants_ring
    union all by name
    select 'centre' as node_level, *, cast(null as varchar) as parent_node_code from centre_ring
)
select
    * exclude (raw_num, raw_den),
    n_children_shown >= ${min_children_share} * n_children and raw_idx is not null as shown,
    case when n_children_shown >= ${min_children_share} * n_children then round_ratio(raw_num, raw_den) end as idx
from (select *, (raw_num / nullif(raw_den, 0))::double as raw_idx from composites);

create or replace macro index_class(idx, judged) as
    case
        when idx is null then null
        when not judged then
            case when idx < ${worse_below} then 'minder' when idx > ${better_above} then 'meer' else 'gemiddeld' end
        when idx < ${much_worse_below} then 'veel slechter'
        when idx < ${worse_below} then 'slechter'
        when idx <= ${better_above} then 'gemiddeld'
        when idx <= ${much_better_above} then 'beter'
        else 'veel beter'
    end;

create or replace table hand.mart_compass_status as
select nodes.*, cast(nodes.node_level || ':' || nodes.node_code as varchar) as node_key,
    cast(l.label_nl as varchar) as node_label_nl
from (
select
    cast(${edition} as integer) as edition,
    cast(area_edition as integer) as area_edition,
    cast(gemeente_code as varchar) as gemeente_code,
    cast(area_code as varchar) as area_code,
    cast('indicator' as varchar) as node_level,
    cast(indicator_code as varchar) as node_code,
    cast(theme_code as varchar) as parent_node_code,
    cast(quadrant_code as varchar) as quadrant_code,
    cast(is_judged_node as boolean) as is_judged,
    cast(case when idx is not null then value end as double) as value,
    cast(city_value as double) as city_value,
    cast(idx as double) as index_value,
    cast(case
        when idx is null then null
        when source_kind = 'survey' and is_judged_node and not coalesce(significant, false) then 'gemiddeld'
        else index_class(idx, is_judged_node)
    end as varchar) as class,
    cast(significant as boolean) as significant,
    cast(suppressed or idx is null as boolean) as suppressed,
    cast(coalesce(suppression_reason, case when city_value is null then 'no city value' end) as varchar) as suppression_reason,
    cast(n_unweighted as bigint) as n_unweighted,
    cast(standard_error as double) as standard_error,
    cast(case when idx is not null then ci_low end as double) as ci_low,
    cast(case when idx is not null then ci_high end as double) as ci_high,
    cast(null as integer) as n_children,
    cast(null as integer) as n_children_shown,
    cast(weighting_converged as boolean) as weighting_converged,
    cast(estimation_method as varchar) as estimation_method
from status_ring
union all
select
    cast(${edition} as integer), (select edition from current_edition), gemeente_code, area_code,
    node_level, node_code, parent_node_code, quadrant_code, is_judged,
    null, null, idx, index_class(idx, is_judged), null, not shown,
    case when not shown then 'too few parts shown (' || n_children_shown || ' of ' || n_children || ')' end,
    null, null, null, null, cast(n_children as integer), cast(n_children_shown as integer),
    weighting_converged, cast(null as varchar)
from rings where compass = 'status'
) as nodes
left join node_labels as l on l.node_level = nodes.node_level and l.node_code = nodes.node_code;

create or replace table hand.mart_compass_development as
select nodes.*, cast(nodes.node_level || ':' || nodes.node_code as varchar) as node_key,
    cast(l.label_nl as varchar) as node_label_nl
from (
select
    cast(${edition} as integer) as edition,
    cast(${base_period} as integer) as base_period,
    cast(${edition} as integer) as current_period,
    cast(area_edition as integer) as area_edition,
    cast(gemeente_code as varchar) as gemeente_code,
    cast(area_code as varchar) as area_code,
    cast('indicator' as varchar) as node_level,
    cast(indicator_code as varchar) as node_code,
    cast(theme_code as varchar) as parent_node_code,
    cast(quadrant_code as varchar) as quadrant_code,
    cast(is_judged_node as boolean) as is_judged,
    cast(base_value as double) as base_value,
    cast(current_value as double) as current_value,
    cast(change as double) as change,
    cast(city_change as double) as city_change,
    cast(idx as double) as index_value,
    cast(case
        when idx is null then null
        when source_kind = 'survey' and is_judged_node and not coalesce(significant, false) then 'gemiddeld'
        else index_class(idx, is_judged_node)
    end as varchar) as class,
    cast(significant as boolean) as significant,
    cast(idx is null as boolean) as suppressed,
    cast(coalesce(suppression_reason, case when idx is null then 'no city change' end) as varchar) as suppression_reason,
    cast(null as integer) as n_children,
    cast(null as integer) as n_children_shown,
    cast(weighting_converged as boolean) as weighting_converged
from development_ring
union all
select
    cast(${edition} as integer), cast(${base_period} as integer), cast(${edition} as integer),
    (select edition from current_edition),
    gemeente_code, area_code, node_level, node_code, parent_node_code, quadrant_code, is_judged,
    null, null, null, null, idx, index_class(idx, is_judged), null, not shown,
    case when not shown then 'too few parts shown (' || n_children_shown || ' of ' || n_children || ')' end,
    cast(n_children as integer), cast(n_children_shown as integer), weighting_converged
from rings where compass = 'development'
) as nodes
left join node_labels as l on l.node_level = nodes.node_level and l.node_code = nodes.node_code;
