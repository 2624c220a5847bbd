"""Dutch names and Excel number formats of the published columns, for the workbooks and the Dutch
CSVs a policy officer opens (issue 19, point 6). The CSV, Parquet and DuckDB files keep the marts'
own column names (for BI tools and scripts); a workbook's `toelichting` sheet lists both.

A column without a Dutch name here keeps its own name (a new mart column shows up as it is
rather than disappearing); tests/publish/test_readers_workbooks.py checks that every column of
the marts has one.
"""

from __future__ import annotations

import re

COLUMN_NL = {
    "tabel": "Tabel",
    "area_edition": "Gebiedsindeling (jaar)",
    "gemeente_code": "Gemeentecode",
    "area_code": "Gebiedscode",
    "area_name": "Gebied",
    "area_level": "Gebiedsniveau",
    "parent_code": "Code bovenliggend gebied",
    "parent_name": "Bovenliggend gebied",
    "is_city": "Hele stad",
    "period": "Jaar",
    "edition": "Editie",
    "base_period": "Basisjaar",
    "current_period": "Eindjaar",
    "indicator_code": "Indicatorcode",
    "node_level": "Niveau",
    "node_code": "Code",
    "label_nl": "Naam",
    "parent_node_code": "Code bovenliggend onderdeel",
    "quadrant_code": "Kwadrantcode",
    "quadrant_label_nl": "Kwadrant",
    "theme_code": "Themacode",
    "theme_label_nl": "Thema",
    "is_judged": "Beoordeeld",
    "value": "Waarde",
    "city_value": "Waarde stad",
    "base_value": "Waarde basisjaar",
    "current_value": "Waarde editie",
    "change": "Verandering",
    "city_change": "Verandering stad",
    "index_value": "Index (stad = 100)",
    "class": "Klasse",
    "significant": "Significant verschil met de stad",
    "suppressed": "Niet getoond",
    "suppression_reason": "Reden niet getoond",
    "numerator": "Teller",
    "denominator": "Noemer",
    "n_unweighted": "Aantal respondenten",
    "n_weighted": "Gewogen aantal",
    "standard_error": "Standaardfout",
    "ci_low": "95%-interval ondergrens",
    "ci_high": "95%-interval bovengrens",
    "contrast_with_city": "Verschil met de stad",
    "contrast_se": "Standaardfout verschil",
    "city_value_source": "Herkomst waarde stad",
    "is_harmonised": "Omgerekend naar huidige indeling",
    "harmonisation_method": "Methode omrekening",
    "load_ids": "Leveringen (herkomst)",
    "n_children": "Aantal onderdelen",
    "n_children_shown": "Aantal onderdelen getoond",
    "population": "Inwoners (bevolkingsregister)",
    "status_centre_index": "Status centrum: index",
    "status_centre_class": "Status centrum: klasse",
    "status_samenstelling_index": "Status samenstelling: index",
    "status_fysiek_index": "Status fysieke omgeving: index",
    "status_leefbaarheid_index": "Status leefbaarheid en veiligheid: index",
    "status_sociaal_index": "Status sociale omgeving: index",
    "development_centre_index": "Ontwikkeling centrum: index",
    "development_centre_class": "Ontwikkeling centrum: klasse",
    "development_samenstelling_index": "Ontwikkeling samenstelling: index",
    "development_fysiek_index": "Ontwikkeling fysieke omgeving: index",
    "development_leefbaarheid_index": "Ontwikkeling leefbaarheid en veiligheid: index",
    "development_sociaal_index": "Ontwikkeling sociale omgeving: index",
    "valid_from": "Geldig vanaf",
    "valid_to": "Geldig tot en met",
    "is_current_edition": "Huidige indeling",
    "is_compass_area": "Kompasgebied",
    "geometry_wkt": "Geometrie (WKT)",
    "crs": "Coördinatenstelsel",
    "definition": "Definitie",
    "source": "Bron",
    "source_kind": "Soort bron",
    "kind": "Soort cijfer",
    "unit": "Eenheid",
    "polarity": "Richting (1 = hoger is beter)",
    "min_n": "Minimum respondenten",
    "min_count": "Minimum aantal",
    "min_population": "Minimum inwoners",
    "first_year": "Eerste jaar",
    "last_year": "Laatste jaar",
    "theme_weight": "Gewicht in thema",
    "has_survey_wave": "Enquêtejaar",
    "has_registry": "Registratiecijfers",
    "has_activities": "Activiteitencijfers",
    "is_current_period": "Huidig jaar",
    "is_base_period": "Basisjaar",
    "estimation_method": "Schattingsmethode",
    "mse": "Gemiddelde kwadratische fout (MSE)",
    "cv": "Variatiecoëfficiënt",
}

# Excel number formats (basismonitor.publish.xlsx styles) by column: years plain, counts with a thousands
# separator, indices with one decimal; other decimals with up to four (no float noise on show:
# the cell keeps the exact value)
YEAR_COLUMNS = {
    "area_edition", "period", "edition", "base_period", "current_period", "valid_from", "valid_to",
    "first_year", "last_year",
}  # fmt: skip
INDEX_COLUMNS = {"index_value", "city_index"} | {
    c for c in COLUMN_NL if c.endswith("_index")
}
VALUE_COLUMNS = {"value", "city_value", "base_value", "current_value", "ci_low", "ci_high"}
CHANGE_COLUMNS = {"change", "city_change", "contrast_with_city"}


# The Dutch files (.nl.csv, workbooks) name how a survey figure was estimated in words (issue 21):
# a Fay-Herriot figure is a "modelschatting", shown with its interval (ci_low, ci_high: the
# estimate +- 1.96 sqrt(mse), a share's clipped to [0, 1]); the other files keep the codes.
ESTIMATION_METHOD_NL = {"direct": "directe schatting", "fay_herriot": "modelschatting"}


def estimation_method_nl_sql(column: str) -> str:
    """SQL giving `column` (an estimation_method code) in Dutch words (ESTIMATION_METHOD_NL)."""
    cases = " ".join(f"when '{k}' then '{v}'" for k, v in ESTIMATION_METHOD_NL.items())
    return f"case {column} {cases} else {column} end"


def column_nl(name: str) -> str:
    return COLUMN_NL.get(name, name)


def style_of(name: str, dtype: str) -> str:
    """The number format of a column: 'year', 'count', 'index', 'decimal' or '' (none)."""
    integer = dtype in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                        "USMALLINT", "UINTEGER", "UBIGINT")  # fmt: skip
    if name in YEAR_COLUMNS:
        return "year"
    if name in INDEX_COLUMNS:
        return "index"
    if integer or name in ("n_unweighted", "n_children", "n_children_shown", "population"):
        return "count"
    if dtype in ("DOUBLE", "FLOAT", "REAL") or re.match(r"DECIMAL", dtype):
        return "decimal"
    return ""
