-- The range a value may take, by its indicator's kind and unit (docs/QUALITY.md "Value ranges"):
-- dim_indicator with value_min and value_max. Shares (kind *_share or unit aandeel) 0..1, procent
-- 0..100, rapportcijfer 1..10, schaal 1-5 1..5; counts, rates and amounts >= 0; anything else (a
-- registry value in km2, ha, euro, ...) is not range-checked.
--
-- A shared relation of the gate: every expectations/<name>.sql is a relation the suites name as
-- $<name> (here in the `ind` joins of the fact table, the compass marts and the harmonised figures).
select *,
    case when kind like '%\_share' escape '\' or unit = 'aandeel' then 0
         when unit = 'procent' then 0
         when unit in ('rapportcijfer', 'schaal 1-5') then 1
         when kind in ('registry_count', 'registry_rate', 'activity_rate', 'activity_amount') then 0
         else '-infinity'::double end as value_min,
    case when kind like '%\_share' escape '\' or unit = 'aandeel' then 1
         when unit = 'procent' then 100
         when unit = 'rapportcijfer' then 10
         when unit = 'schaal 1-5' then 5
         else 'infinity'::double end as value_max
from $dim_indicator
