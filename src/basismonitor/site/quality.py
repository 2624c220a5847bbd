"""The site's Dutch quality page (site/kwaliteit.html): what the gate checked before this edition
was published, what warned, with the failing rows' examples, and why a warning is acceptable.

Built from the edition's own files: the gate's verdict and counts from manifest.json (`gate`, the
summary the manifest publishes), the examples from validation/gate_result.json (the gate's full
result, next to the Great Expectations report) where present. So the page and the manifest cannot
disagree: a test checks it. The page is self-contained (the site's own CSS, nothing from a
network); the Great Expectations Data Docs stay available as the technical report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# what a check is, in Dutch: by the check's name (check__/bad__<name> of the expectation suites, expectations/*.json)
CHECK_NL = {
    "ci_in_unit_range": "Het 95%-interval valt binnen het bereik van de eenheid (0-100%).",
    "shown_has_lineage": "Elk getoond cijfer noemt de leveringen waar het uit komt.",
    "shown_harmonised_has_lineage": "Elk getoond omgerekend cijfer noemt zijn leveringen.",
    "weighting_converged": "De weging van de enquête sluit aan op de bevolking binnen de "
    "gewichtsgrenzen.",
    "class_matches_index": "De klasse past bij de index.",
    "ci_holds_value": "Het 95%-interval bevat het cijfer.",
    "value_in_unit_range": "Het cijfer valt binnen het bereik van de eenheid.",
    "landed_rows_match_landing_tables": "De rijen van een levering staan volledig in het "
    "magazijn.",
}
# why a warning does not stop the publication (the gate's severity 'warning'), per check
WHY_NL = {
    "ci_in_unit_range": "Het cijfer zelf ligt binnen het bereik. Bij een klein aandeel in een "
    "kleine steekproef kan een symmetrisch interval onder 0% komen; de onzekerheid is dan groot "
    "en dat staat ook zo bij het cijfer. Het verschil met de stad en de klasse hangen hier niet "
    "van af.",
    "shown_has_lineage": "Het cijfer zelf is gecontroleerd (bereik, interval, minimum aantal); "
    "alleen de verwijzing naar de leveringen ontbreekt. De geladen leveringen per bron staan in "
    "manifest.json.",
    "shown_harmonised_has_lineage": "Het omgerekende cijfer zelf is gecontroleerd (bereik, "
    "interval, minimum aantal); alleen de verwijzing naar de leveringen ontbreekt. De geladen "
    "leveringen per bron staan in manifest.json.",
    "weighting_converged": "De weging is zo dicht mogelijk bij de bevolking gebracht binnen de "
    "grenzen die extreme gewichten voorkomen; de cijfers van die wijk en dat jaar hebben dan iets "
    "meer onzekerheid dan het interval zegt.",
    "status": "Een mislukte levering is niet gebruikt: de cijfers komen uit de leveringen die "
    "wel zijn geladen.",
    "index_value": "Veel gelijke indexwaarden komen voor bij weinig wijken of weinig "
    "indicatoren; de indexen zelf zijn gecontroleerd.",
}
GENERIC_WHY = (
    "Een waarschuwing houdt de publicatie niet tegen: het is een punt om te weten bij het lezen "
    "van de cijfers, geen fout in de cijfers. Fouten die cijfers onjuist of herleidbaar maken "
    "zijn kritiek en houden de publicatie tegen."
)
EXPECTATION_NL = {
    "expect_column_values_to_be_in_set": "waarde uit de toegestane lijst",
    "expect_column_sum_to_be_between": "aantal afwijkende rijen",
    "expect_column_values_to_be_between": "waarde binnen het bereik",
    "expect_column_values_to_not_be_null": "waarde ingevuld",
    "expect_column_proportion_of_unique_values_to_be_between": "verscheidenheid van de waarden",
    "expect_compound_columns_to_be_unique": "sleutel uniek",
}
FAMILIES = (
    ("Privacy", "Geen kolom of rij op het niveau van een respondent in de gepubliceerde "
     "bestanden; een getoond enquêtecijfer heeft genoeg respondenten, een getoond aantal is "
     "minstens 5; een niet getoond cijfer toont ook geen interval of aantal."),
    ("Volledigheid", "Elke wijk heeft een rij voor elke indicator en elk jaar; het laatste jaar "
     "is deze editie."),
    ("Juistheid", "Cijfers binnen het bereik van hun eenheid, intervallen die het cijfer "
     "bevatten, klassen die bij de index passen, sleutels uniek."),
    ("Herkomst", "Elke levering is volledig geladen (rijen geteld tegen de bronbestanden); elk "
     "cijfer noemt de leveringen waar het uit komt."),
)


def check_name(column: str | None, expectation: str) -> str:
    """'check__ci_in_unit_range' -> 'ci_in_unit_range'; a plain column stays itself."""
    if not column:
        return expectation
    return re.sub(r"^(check|bad|null)__", "", column)


def examples(detail: str | None) -> list[str]:
    """The failing rows' keys the gate names ('...; e.g. a=1, b=2 | a=3, b=4')."""
    if not detail or "e.g. " not in detail:
        return []
    return [e.strip() for e in detail.split("e.g. ", 1)[1].split(" | ") if e.strip()][:3]


def observed(detail: str | None) -> str:
    """The values the gate saw (the JSON before the examples), shortened."""
    if not detail:
        return ""
    head = detail.split("; e.g. ", 1)[0]
    try:
        data = json.loads(head)
    except ValueError:
        return head[:160]
    if not isinstance(data, dict):
        return ""
    parts = []
    for key, label in (("partial_unexpected_list", "waarden"), ("observed_value", "gezien"),
                       ("missing", "ontbreekt"), ("unexpected", "onverwacht")):
        if key in data and data[key] not in (None, [], ""):
            values = data[key] if isinstance(data[key], list) else [data[key]]
            if all(isinstance(v, bool) for v in values):
                continue  # a derived check's False says nothing the examples do not
            parts.append(f"{label}: {data[key]}")
    return "; ".join(parts)[:200]


def load_gate(edition_dir: Path) -> tuple[dict | None, dict[tuple, dict]]:
    """(the manifest's gate summary, full failures from gate_result.json by their key)."""
    manifest = edition_dir / "manifest.json"
    summary = None
    if manifest.exists():
        summary = json.loads(manifest.read_text(encoding="utf-8")).get("gate")
    full: dict[tuple, dict] = {}
    result = edition_dir / "validation" / "gate_result.json"
    if result.exists():
        found = json.loads(result.read_text(encoding="utf-8"))
        for f in found.get("failures", []):
            full[(f.get("table"), f.get("expectation"), f.get("column"))] = f
        if summary is None:
            summary = found
    return summary, full


def quality_context(edition_dir: Path) -> dict | None:
    """What templates/quality.html shows; None when the edition has no gate result."""
    summary, full = load_gate(edition_dir)
    if summary is None:
        return None
    failures = summary.get("failures", [])
    rows = []
    for f in failures:
        key = (f.get("table"), f.get("expectation"), f.get("column"))
        detail = full.get(key, {}).get("detail")
        name = check_name(f.get("column"), f.get("expectation", ""))
        rows.append(
            {
                "severity": "kritiek" if f.get("severity") == "critical" else "waarschuwing",
                "table": f.get("table"),
                "check": CHECK_NL.get(name)
                or f"{EXPECTATION_NL.get(f.get('expectation'), f.get('expectation'))}: {name}",
                "technical": f"{f.get('expectation')} op {f.get('column') or 'de tabel'}",
                "count": f.get("unexpected_count"),
                "examples": examples(detail),
                "observed": observed(detail),
                "why": WHY_NL.get(name, GENERIC_WHY),
            }
        )
    tables = summary.get("tables", {})
    return {
        "passed": bool(summary.get("passed")),
        "expectations_run": summary.get("expectations_run", 0),
        "tables": [
            {"name": t, "rows": n} for t, n in sorted(tables.items())
        ],
        "warnings": [r for r in rows if r["severity"] == "waarschuwing"],
        "critical": [r for r in rows if r["severity"] == "kritiek"],
        "families": FAMILIES,
        "has_examples": bool(full),
        "has_report": (edition_dir / "validation" / "index.html").exists(),
    }
