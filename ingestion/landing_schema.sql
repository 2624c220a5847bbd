-- The raw landing schema: the contract between ingestion (writes) and dbt (reads, as sources).
-- Every landing table keeps each usable source row as delivered plus lineage:
--   _source, _file, _sha256, _row_number (1-based data row in the file), _load_id, _loaded_at.
-- Rows that cannot be used go to raw.quarantine with file, row, column and reason; for every load
-- rows_read = rows_landed + rows_quarantined (raw.loads).
-- Missing-value codes are never numbers: value is null and missing_reason says why, one of
--   'hidden' (secret / hidden by the source: hides what is derived from it),
--   'unknown' (blocks a total), 'not_applicable', 'empty', 'nil' (CBS "nihil"),
--   'dont_know' / 'no_answer' (survey codes marked ontbrekend in the codebook),
--   'invalid' (added by ingestion: the cell was not a usable value -- non-numeric, negative count,
--   decimal comma where a point is declared, survey code outside the codebook; the delivered value
--   is in raw.quarantine. Treat like 'unknown': it blocks a total).
create schema if not exists raw;

create table if not exists raw.loads (
    load_id varchar primary key,
    source varchar not null,
    period varchar not null,
    file_path varchar not null,
    sha256 varchar not null,
    status varchar not null,          -- landed | superseded | failed
    rows_read bigint,
    rows_landed bigint,
    rows_quarantined bigint,
    message varchar,
    loaded_at timestamp not null,
    superseded_by varchar
);

create table if not exists raw.quarantine (
    load_id varchar not null,
    source varchar not null,
    file_path varchar not null,
    row_number bigint,                -- 1-based data row; null for file-level problems
    column_name varchar,
    value varchar,
    reason varchar not null,
    raw_row varchar,                  -- the row as delivered, so nothing is lost
    quarantined_at timestamp not null
);

create table if not exists raw.areas (
    edition integer not null,
    area_code varchar not null,
    area_name varchar not null,
    area_level varchar not null,      -- gemeente | stadsdeel | wijk | buurt | analysegebied
    parent_code varchar,
    geometry_wkt varchar,
    crs varchar,                      -- EPSG:28992 (demo), EPSG:4326 (CBS 2017 csv files)
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

create table if not exists raw.crosswalk (
    from_edition integer not null,
    from_code varchar not null,
    to_edition integer not null,
    to_code varchar not null,
    share double not null,
    method varchar not null,
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

create table if not exists raw.survey_respondents (
    wave integer not null,
    respondent_key varchar not null,  -- keyed hash (HMAC-SHA256) of the agency id; never the id
    area_code varchar not null,
    age_group varchar,                -- 15-24 | 25-44 | 45-64 | 65+ ; never a birth year
    sex varchar,                      -- M | V
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

-- raw.survey_answers (one row per respondent x question, long) is a VIEW with exactly these
-- columns, defined at the end of this file:
--   wave integer, respondent_key varchar, variable varchar (as named in this wave's file),
--   item varchar (the codebook's item for that variable), answer_code integer (as delivered; null
--   when the cell was empty or not an integer), is_missing boolean, missing_reason varchar
--   (dont_know | no_answer | empty | invalid; null when a real answer), _source, _file, _sha256,
--   _row_number, _load_id, _loaded_at.
-- It is stored compactly (added by ingestion, see ingestion/README.md "Survey storage"): the
-- answers of a respondent as one list raw.survey_respondents.answer_codes, positions named by
-- raw.survey_variables, codes classified by raw.survey_value_codes (both frozen per load). A
-- national wave (150,000 x 40 = 6 million answers) then writes 150,000 rows, not 6 million rows
-- of lineage strings (which alone took ~10x the time DuckDB needs to read the file).

create table if not exists raw.survey_codebook (
    wave integer not null,
    variable varchar not null,
    item varchar not null,
    question varchar,
    scale varchar not null,
    code integer not null,
    meaning varchar,
    is_missing boolean not null,
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

create table if not exists raw.population (
    period integer not null,
    reference_date date not null,
    area_code varchar not null,
    age_group varchar not null,
    sex varchar not null,
    population bigint not null,
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

create table if not exists raw.registry_values (
    period integer not null,
    area_code varchar not null,
    area_level varchar not null,      -- gemeente | wijk | buurt
    area_name varchar,
    variable varchar not null,        -- lower-case source column, e.g. a_inw, p_koopw
    value_raw varchar,                -- the cell as delivered
    value double,                     -- null when the cell is a code
    missing_reason varchar,
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

create table if not exists raw.police_crimes (
    period integer not null,
    area_code varchar not null,
    crime_type varchar not null,      -- CBS SoortMisdrijf code, 0.0.0 = total
    crimes bigint,
    missing_reason varchar,
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

create table if not exists raw.activity_registrations (
    programme varchar not null,       -- buurtbemiddeling | straathoekwerk | buurtconcierges | buurtinitiatieven
    period integer not null,
    registration_id varchar not null,
    event_date date not null,
    area_code varchar not null,
    category varchar,                 -- soort_conflict / aard_contact / categorie / titel
    outcome varchar,                  -- uitkomst (mediation), status (initiatives)
    amount_requested decimal(14, 2),
    amount_granted decimal(14, 2),
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

-- ---------------------------------------------------------------------------------------------
-- Added by ingestion (additions only; nothing above was renamed or removed).
-- ---------------------------------------------------------------------------------------------
alter table raw.loads add column if not exists file_name varchar;          -- base name: the replace key
alter table raw.loads add column if not exists cells_quarantined bigint;   -- cell-level entries
alter table raw.quarantine add column if not exists scope varchar;         -- row | cell | file
alter table raw.survey_respondents add column if not exists answer_codes integer[];
alter table raw.survey_respondents add column if not exists invalid_positions integer[];
alter table raw.activity_registrations add column if not exists age_group varchar;    -- leeftijdsgroep

-- Spatial sources (issue 18): located in the areas by the dbt models, not by area codes.

-- CBS square statistics (kind grid), long: one row per square x column of the file.
create table if not exists raw.grid_values (
    edition integer not null,         -- the file's period folder (the grid's edition)
    square_code varchar not null,     -- e.g. E2269N5800 (C28992R100)
    year integer,                     -- from the column name (sources.yml variables:); null when no rule fits
    variable varchar not null,        -- lower case without the year: inw, won, i_014, i_65pl, man, vrouw, wozwon, p_auto ...
    value double,                     -- -99998 / nihil ('nil': none or not applicable) land as 0
    value_raw varchar,                -- the cell as delivered
    missing_reason varchar,           -- nil (value 0) | hidden (-99997, geheim) | empty | invalid
    x_rd double,                      -- the square's centroid in RD New (EPSG:28992)
    y_rd double,
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

-- Police incident exports (kind incidents, BVH): one row per incident.
create table if not exists raw.incidents (
    period integer not null,          -- the delivery's period folder (one file may span years)
    incident_key varchar not null,    -- HMAC-SHA256 of the police incident id (ingestion/pseudonym.py)
    incident_type varchar,            -- the incident type code as delivered, e.g. A72
    begin_at timestamp not null,
    end_at timestamp,
    reported_at timestamp,
    year integer not null,            -- year of begin_at
    x_rd double,                      -- RD New (EPSG:28992); null when missing or not a number
    y_rd double,
    police_wijk varchar,              -- as the police write it: 'Wijk 03 Korrewegwijk'
    police_buurt varchar,
    street varchar,                   -- personal data: raw only, dropped at staging
    house_number varchar,             -- personal data: raw only
    postcode varchar,                 -- personal data: raw only
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

-- Facility points (kind points): horeca, coffeeshops, bus stops ...
create table if not exists raw.points (
    period integer not null,
    point_key varchar not null,       -- the source's id, or the data row number where it has none
    category varchar,                 -- a category column (horecatype) or the source's category
    name varchar,
    x_rd double,                      -- RD New (EPSG:28992); null when the point is unusable
    y_rd double,
    attributes json,                  -- the other delivered columns, as delivered
    _source varchar, _file varchar, _sha256 varchar, _row_number bigint, _load_id varchar, _loaded_at timestamp
);

-- The variables of one survey load in file order: answer_codes[position] is that variable's cell.
create table if not exists raw.survey_variables (
    load_id varchar not null,
    wave integer not null,
    position integer not null,        -- 1-based index into raw.survey_respondents.answer_codes
    variable varchar not null,
    item varchar not null,
    scale varchar
);

-- The codebook's codes of one survey load, frozen when the data file landed.
create table if not exists raw.survey_value_codes (
    load_id varchar not null,
    variable varchar not null,
    code integer not null,
    is_missing boolean not null,
    missing_reason varchar            -- dont_know | no_answer | not_applicable (null: a real answer)
);

create or replace view raw.survey_answers as
select
    r.wave,
    r.respondent_key,
    v.variable,
    v.item,
    r.answer_codes[v.position] as answer_code,
    (c.code is null or c.is_missing) as is_missing,
    case
        when list_contains(r.invalid_positions, v.position) then 'invalid'
        when r.answer_codes[v.position] is null then 'empty'
        when c.code is null then 'invalid'
        else c.missing_reason
    end as missing_reason,
    r._source,
    r._file,
    r._sha256,
    r._row_number,
    r._load_id,
    r._loaded_at
from raw.survey_respondents as r
join raw.survey_variables as v on v.load_id = r._load_id
left join raw.survey_value_codes as c
    on c.load_id = r._load_id
    and c.variable = v.variable
    and c.code = r.answer_codes[v.position];
