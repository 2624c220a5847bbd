-- Registry covariates of the small-area model, per year x buurt (CBS Kerncijfers of the buurt):
-- the candidates an indicator may list in the indicator_small_area seed. A covariate is null
-- where the source hides, withholds or lacks a figure (small buurten); a buurt needs every
-- covariate of an indicator to get a model-based figure for it.

with

values_ as (

    select * from {{ ref('stg_registry__values') }}
    where lower(area_level) = 'buurt'

),

wide as (

    select
        period,
        area_code as buurt_code,
        max(case when variable = 'a_inw' then value end) as a_inw,
        max(case when variable = 'a_15_24' then value end) as a_15_24,
        max(case when variable = 'a_25_44' then value end) as a_25_44,
        max(case when variable = 'a_45_64' then value end) as a_45_64,
        max(case when variable = 'a_65_oo' then value end) as a_65_oo,
        max(case when variable = 'p_koopw' then value end) as p_koopw,
        max(case when variable = 'a_soz_wb' then value end) as a_soz_wb,
        max(case when variable = 'bev_dich' then value end) as bev_dich,
        max(case when variable = 'g_woz' then value end) as g_woz
    from values_
    group by period, area_code

),

final as (

    select
        period,
        buurt_code,
        a_inw as inhabitants,
        case when a_inw > 0 then a_65_oo / a_inw end as share_65plus,
        case when a_inw > 0 then a_15_24 / a_inw end as share_15_24,
        p_koopw / 100.0 as owner_share,
        case
            when a_15_24 + a_25_44 + a_45_64 > 0
                then a_soz_wb / (a_15_24 + a_25_44 + a_45_64)
        end as benefit_rate,
        case when bev_dich >= 0 then ln(1 + bev_dich) end as log_density,
        case when g_woz > 0 then ln(g_woz) end as log_woz
    from wide

)

select * from final
