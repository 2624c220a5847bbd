"""Build the static site of one published edition: edition_dir/site/.

    site/index.html                  map + list of the compass areas, search
    site/area/<code>.html            status and development compass, tables, trend, similar areas
    site/area/<code>.csv|.xlsx       the area's data (aggregates, suppression respected)
    site/area/<code>-status.svg|png, -development.svg|png   the compasses for reports
    site/static/site.css, site.js    the only assets (no CDN, no fonts, no fetch)
    site/manifest.json               files, sizes, sha256, how the PNGs were made
    site/.build-state.json           what the pages were built from (not a page; see below)

The site is written to a temporary folder inside edition_dir and renamed into place, so a
half-built site never replaces a complete one. Output is deterministic (no timestamps).

Incremental: each area's pages and downloads depend on the area's own rows (dim_area, both
compass marts, its facts), the areas it is shown as similar to, and what every page shares (the
catalogue, the compass layout, the city's figures, the site's code and templates). A content hash
of each is kept in site/.build-state.json; the next build links the files of every area whose hash
is unchanged from the previous site and builds only the others (the overview, the quality page
and the manifest are always rebuilt). When none of the edition's inputs changed at all (its
Parquet files, manifest.json, the gate's result, the files the overview lists, the site's code),
the build stops at once. `full=True` rebuilds everything.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import shutil
import unicodedata
import uuid
from collections.abc import Callable
from html import escape
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from basismonitor.files import file_sha256
from basismonitor.site import fmt
from basismonitor.site.data import (
    SIMILAR_METHOD,
    Edition,
    clean,
    composition_quadrants,
    label_of,
    load_edition,
    node_labels,
    plain_values,
    quadrant_rank,
    records,
    similar_areas,
    tree_nodes,
)
from basismonitor.site.downloads import AreaDownloads
from basismonitor.site.geometry import Shape, compass_layout, hatch_stripes, map_shapes
from basismonitor.site.palette import Fill, css_rules, legend_entries, node_fill
from basismonitor.site.quality import quality_context
from basismonitor.site.raster import RENDERER, svg_to_png
from basismonitor.site.svg import (
    MapArea,
    NodeView,
    compass_svg,
    map_svg,
    node_summary,
    sparkline_svg,
)

HERE = Path(__file__).resolve().parent
MAP_WIDTH = 640.0
SIMILAR_K = 5
SOURCE_KIND_NL = {"survey": "enquête", "registry": "registratie", "activity": "activiteiten"}
PNG_NOTE = (
    "Each PNG is the standalone SVG next to it rendered by resvg (basismonitor.site.raster) "
    "with the font DejaVu Sans: one drawing in two formats; deterministic bytes. Drawn from the "
    "same chart with its hatching as shapes (the stripes cut out by DuckDB spatial) instead of "
    "the SVG's hatch pattern: the same picture, which resvg draws faster (0.73x CPU on a "
    "half-hatched compass)."
)
DOWNLOADS = (
    (".xlsx", "Gegevens van de wijk (Excel)"),
    (".nl.csv", "Gegevens van de wijk (CSV voor Nederlandse Excel: puntkomma, decimale komma)"),
    (".csv", "Gegevens van de wijk (CSV met de technische kolomnamen, voor analyse)"),
    ("-status.svg", "Statuskompas (SVG)"),
    ("-status.png", "Statuskompas (PNG)"),
    ("-development.svg", "Ontwikkelingskompas (SVG)"),
    ("-development.png", "Ontwikkelingskompas (PNG)"),
)
DOWNLOADS_NOTE = (
    "Excel en de CSV's bevatten de rijen van deze wijk uit het statuskompas, het "
    "ontwikkelingskompas en de cijfers per jaar (fct_indicator_value): Excel en de CSV voor "
    "Nederlandse Excel met Nederlandse kolomkoppen, de andere CSV met de kolomnamen van de "
    "gepubliceerde tabellen. Niet getoonde cijfers zijn leeg; de reden staat erbij."
)
CENTRE = "centre-centrum"
POPULATION_INDICATOR = "inwoners"  # the one population number the pages show (point 7, issue 19)

Progress = Callable[[str], None]


STATE_FILE = ".build-state.json"


def build_site(
    edition_dir: Path, *, progress: Progress = print, workers: int | None = None,
    full: bool = False,
) -> Path:
    """Build the compass pages of the published edition in `edition_dir` into edition_dir/site.

    Reads only the edition's exported Parquet files; writes nothing outside edition_dir/site
    (a temporary folder edition_dir/.site-* is renamed into place). Returns edition_dir/site;
    the overview is edition_dir/site/index.html. The area pages are built by `workers`
    processes (default: site_workers()); the files do not depend on how many. Only the areas
    whose inputs changed since the previous site's build are rebuilt (module docstring), unless
    `full`; the files are the same either way.
    """
    edition_dir = Path(edition_dir)
    target = edition_dir / "site"
    state = {} if full else read_state(target)
    quick = edition_key(edition_dir)
    if state.get("edition_key") == quick and (target / "index.html").is_file():
        progress(f"site of edition {edition_dir.name}: up to date (nothing it is built from "
                 f"changed since its last build): {target / 'index.html'}")
        return target
    ed = load_edition(edition_dir)
    staging = edition_dir / f".site-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        SiteBuilder(ed, edition_dir, staging).build(
            workers=workers, progress=progress, previous=target if state else None,
            state=state, edition_key=quick)
        aside = None
        if target.exists():
            aside = edition_dir / f".site-old-{uuid.uuid4().hex[:8]}"
            os.replace(target, aside)
        try:
            os.replace(staging, target)
        except BaseException:
            if aside is not None:
                os.replace(aside, target)
            raise
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    progress(f"site of edition {ed.edition}: {target / 'index.html'} ({len(ed.areas)} areas)")
    return target


# --- small HTML pieces ---------------------------------------------------------------------------


def swatch(fill: Fill) -> str:
    return f'<span class="sw {fill.css}"></span>'


def badge(fill: Fill, text: str) -> str:
    return f'<span class="badge">{swatch(fill)}{escape(text)}</span>'


def row_fill(row: dict | None) -> Fill:
    if not row:
        return node_fill(judged=True, klass=None, suppressed=False)
    judged = True if row.get("is_judged") is None else bool(row.get("is_judged"))
    return node_fill(judged=judged, klass=row.get("class"), suppressed=bool(row.get("suppressed")))


def class_text(row: dict | None) -> str:
    if not row:
        return "geen gegevens"
    if row.get("suppressed"):
        return "niet getoond"
    return row.get("class") or "geen gegevens"


def centre_badge(row: dict | None) -> str:
    """'91,6 slechter' with its swatch (the centre of a compass) for lists."""
    text = class_text(row)
    if row and not row.get("suppressed") and row.get("class"):
        text = f"{fmt.index(row.get('index_value'))} {text}"
    return badge(row_fill(row), text)


def key_figure(row: dict | None) -> str:
    big = "–" if not row or row.get("suppressed") else fmt.index(row.get("index_value"))
    return (
        f'{swatch(row_fill(row))}<span class="big">{escape(big)}</span>'
        f"<span>{escape(class_text(row))}</span>"
    )


def legend_html(*, judged_only: bool = False) -> str:
    """The legend as HTML; judged_only for the map (a centre index is never composition)."""
    groups: dict[str, list[Fill]] = {}
    for group, fill in legend_entries():
        if judged_only and fill.kind == "composition":
            continue
        groups.setdefault(group, []).append(fill)
    parts = ['<div class="legend card" aria-label="Legenda">']
    for group, fills in groups.items():
        items = "".join(
            f"<span>{swatch(f)}{escape(f.label.replace('samenstelling: ', ''))}</span>"
            for f in fills
        )
        parts.append(f'<div class="group"><strong>{escape(group)}:</strong>{items}</div>')
    parts.append("</div>")
    return "".join(parts)


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{fmt.number(n / 1024, 0)} kB"
    return f"{fmt.number(n / 1024 / 1024, 1)} MB"


def search_key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def by_area(mart) -> dict[str, dict[str, dict]]:
    """{area: {"<level>-<code>": row}} of a compass mart."""
    out: dict[str, dict[str, dict]] = {}
    for row in records(mart):
        out.setdefault(row["area_code"], {})[f"{row['node_level']}-{row['node_code']}"] = row
    return out


def node_views(rows: dict[str, dict], labels: dict) -> dict[str, NodeView]:
    views = {}
    for key, row in rows.items():
        level, code = row["node_level"], row["node_code"]
        label = label_of(labels, level, code)
        suppressed = bool(row.get("suppressed"))
        judged = True if row.get("is_judged") is None else bool(row.get("is_judged"))
        reason = fmt.reason(row.get("suppression_reason"))
        klass, index = row.get("class"), row.get("index_value")
        views[key] = NodeView(
            key=key,
            label=label,
            judged=judged,
            klass=klass,
            index=index,
            suppressed=suppressed,
            reason=reason,
            summary=node_summary(
                label, judged=judged, klass=klass, index=index, suppressed=suppressed, reason=reason
            ),
        )
    return views


LEVEL_NL = {
    "stadsdeel": "Stadsdeel",
    "wijk": "Wijk",
    "buurt": "Buurt",
    "gemeente": "Gemeente",
    "analysegebied": "Gebied",
}


def parent_text(area: dict) -> str:
    """'Stadsdeel Centrum': the enclosing area with its level (once)."""
    name = clean(area.get("parent_name"))
    if not name:
        return ""
    level = LEVEL_NL.get(str(clean(area.get("parent_level")) or "").lower(), "")
    return name if not level or name.lower().startswith(level.lower()) else f"{level} {name}"


def composite_note(row: dict) -> str:
    """'2 van 3 onderdelen getoond' when a composite misses parts (nothing when all are shown)."""
    total, shown = row.get("n_children"), row.get("n_children_shown")
    if total is None or shown is None or shown >= total or row.get("suppressed"):
        return ""
    return f"{fmt.count(shown)} van {fmt.count(total)} onderdelen getoond"


#: the page's note on a figure whose survey weighting (raking) did not converge (issue 19)
WEIGHTING_NOTE = "weging niet geconvergeerd: lees dit cijfer met voorzichtigheid"


#: the page that explains a model figure (issue 21), linked from every one
MODEL_PAGE = "modelschatting.html"
#: its text: the method in Dutch in five sentences (docs/STATISTICS.md section 9)
MODEL_SENTENCES = (
    "In een buurt met weinig respondenten is het gewone enquêtecijfer onzeker, en vaak tonen we "
    "het daarom niet.",
    "Een modelschatting combineert het enquêtecijfer van de buurt met wat registers over de buurt "
    "weten (zoals leeftijdsopbouw, woningbezit en bevolkingsdichtheid), met het Fay-Herriot-model "
    "dat ook de landelijke Gezondheidsmonitor gebruikt.",
    "Hoe meer respondenten een buurt heeft, hoe zwaarder haar eigen enquêtecijfer telt; bij weinig "
    "respondenten leunt de schatting meer op wat in vergelijkbare buurten is gemeten.",
    "Bij elke modelschatting staat een 95%-interval: de schatting plus en min 1,96 maal de wortel "
    "uit de geschatte gemiddelde kwadratische fout (MSE), voor aandelen begrensd tot 0 en 1; een "
    "schatting met een variatiecoëfficiënt boven de drempel van de indicator (30%) tonen we niet.",
    "Een modelschatting is dus geen meting in de buurt zelf, maar de beste schatting die enquête "
    "en registers samen toelaten.",
)


def model_note(row: dict) -> bool:
    """Whether the row's figure is a model figure (older editions lack the column)."""
    return row.get("estimation_method") == "fay_herriot"


def weighting_note(row: dict) -> str:
    """The note for a row with ``weighting_converged`` false (older editions lack the column)."""
    return WEIGHTING_NOTE if row.get("weighting_converged") is False else ""


def row_note(row: dict, reason: str, indicator: bool) -> str:
    """The note of a table row: `reason` where it is suppressed, how a composite is formed (not
    for an indicator), and the weighting note."""
    note = reason if row.get("suppressed") else ""
    return "; ".join(
        p for p in (note, "" if indicator else composite_note(row), weighting_note(row)) if p
    )


class SiteBuilder:
    """Everything one build needs, computed once: layouts, rasters, lookups, templates."""

    def __init__(self, ed: Edition, edition_dir: Path, out: Path):
        self.ed, self.edition_dir, self.out = ed, edition_dir, out
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=jinja2.select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        self.labels = node_labels(ed)
        self.status_cells = compass_layout(tree_nodes(ed.status, self.labels))
        self.development_cells = compass_layout(tree_nodes(ed.development, self.labels))
        self.has_development = bool(self.development_cells)
        # the hatch as shapes for the PNGs (one cut per layout, shared by every page)
        self.stripes = {
            "status": hatch_stripes(self.status_cells),
            "development": hatch_stripes(self.development_cells),
        }
        codes = {c.code for c in self.status_cells if c.level == "quadrant"}
        self.quadrants = sorted(codes, key=quadrant_rank)
        self.quadrant_labels = {q: label_of(self.labels, "quadrant", q) for q in self.quadrants}
        self.status = by_area(ed.status)
        self.development = by_area(ed.development)
        self.names = dict(zip(ed.areas["area_code"], ed.areas["area_name"], strict=True))
        self.similar, self.similar_used = similar_areas(ed.status, SIMILAR_K)
        self.composition = composition_quadrants(ed.status)  # once, not per area page
        self.downloads = AreaDownloads(ed, self.labels)
        self.trend_series, self.trend_axis = self._trend_data()
        self.common = {
            "edition": ed.edition,
            "area_edition": ed.area_edition,
            "gemeente_name": ed.gemeente_name,
            "gemeente_code": ed.gemeente_code,
            "base_period": ed.base_period,
            "development_period": ed.development_period,
            "has_development": self.has_development,
            "legend": legend_html(),
        }

    # --- the whole site ---

    def build(self, *, workers: int | None = None, progress: Progress | None = None,
              previous: Path | None = None, state: dict | None = None,
              edition_key: str = "") -> None:
        """The whole site into self.out; the pages of areas whose key (area_keys) equals the one
        in `state` are linked from the `previous` site instead of being built again."""
        (self.out / "area").mkdir()
        (self.out / "static").mkdir()
        shutil.copyfile(HERE / "static" / "site.js", self.out / "static" / "site.js")
        css = (HERE / "static" / "site.css").read_text(encoding="utf-8")
        write_text(
            self.out / "static" / "site.css",
            css + "/* the palette: basismonitor.site.palette */\n" + css_rules(),
        )
        areas = records(self.ed.areas)
        shared, keys = self.area_keys(areas)
        known = self._reuse(previous, state or {}, shared, keys)
        todo = [a for a in areas if a["area_code"] not in known["areas"]]
        if progress is not None and previous is not None:
            progress(f"  compass pages: {len(todo):,} of {len(areas):,} areas changed since the "
                     f"last build; {len(known['areas']):,} reused")
        workers = site_workers(len(todo)) if workers is None else max(1, workers)
        if workers > 1 and len(todo) > 1:
            self._areas_in_processes(todo, workers, progress)
        else:
            self.areas(todo)
        self.quality = quality_context(self.edition_dir)
        if self.quality is not None:
            write_text(
                self.out / "kwaliteit.html",
                self.env.get_template("quality.html").render(**self.common, root="", q=self.quality),
            )
        write_text(
            self.out / MODEL_PAGE,
            self.env.get_template("modelschatting.html").render(
                **self.common, root="", sentences=MODEL_SENTENCES
            ),
        )
        write_text(self.out / "index.html", self.index_page())
        self.manifest(known["files"])
        write_text(self.out / STATE_FILE, json.dumps(
            {"edition_key": edition_key, "shared": shared, "areas": keys},
            indent=0, sort_keys=True) + "\n")

    # --- what each area's files are built from ---

    def area_keys(self, areas: list[dict]) -> tuple[str, dict[str, str]]:
        """(the key of what every page shares, {area: the key of what its files are built from}).

        An area's key covers its dim_area row, its rows of both compass marts and of the facts,
        and its similar areas as its page shows them (their names, centre and quadrant indices);
        the shared key covers the site's code and templates, the edition's settings, the catalogue,
        the compass layout, the periods, and every row that belongs to no compass area (the
        city's figures among them)."""
        codes = [a["area_code"] for a in areas]
        shared = hashlib.sha256()
        for part in (
            site_code_key(),
            json.dumps(self.common, sort_keys=True, default=str),
            repr(sorted(self.labels.items())),
            repr(self.status_cells), repr(self.development_cells),
            repr(self.quadrants), repr(self.composition), repr(self.similar_used),
            repr(self.trend_axis), repr(self.ed.periods),
            _frame_key(self.ed.indicators.reset_index()),
        ):
            shared.update(part.encode() + b"\0")
        per_area: dict = {c: hashlib.sha256() for c in codes}
        for frame in (self.ed.areas, self.ed.status, self.ed.development, self.ed.facts):
            inside = frame["area_code"].isin(per_area)
            shared.update(_frame_key(frame[~inside]).encode() + b"\0")
            for code, digest in _row_digests(frame[inside]).items():
                per_area[code].update(digest)
            for digest in per_area.values():
                digest.update(b"\0")  # a table's rows stay apart from the next table's
        shared_key = shared.hexdigest()
        keys = {}
        for code, digest in per_area.items():
            digest.update(json.dumps(self.similar_rows(code), sort_keys=True).encode())
            digest.update(shared_key.encode())
            keys[code] = digest.hexdigest()
        return shared_key, keys

    def _reuse(self, previous: Path | None, state: dict, shared: str,
               keys: dict[str, str]) -> dict:
        """Link the files of every unchanged area from the previous site into self.out; returns
        {"areas": reused area codes, "files": their manifest entries by file name}."""
        found: dict = {"areas": set(), "files": {}}
        if previous is None or state.get("shared") != shared:
            return found
        before = state.get("areas") or {}
        try:
            listed = {f["file"]: f for f in json.loads(
                (previous / "manifest.json").read_text(encoding="utf-8"))["files"]}
        except (OSError, ValueError, KeyError, TypeError):
            return found
        suffixes = [".html"] + [suffix for suffix, _ in DOWNLOADS]
        for code, key in keys.items():
            if before.get(code) != key:
                continue
            names = [f"area/{code}{s}" for s in suffixes if f"area/{code}{s}" in listed]
            if f"area/{code}.html" not in names or not all(
                    (previous / n).is_file() for n in names):
                continue
            for name in names:
                _link(previous / name, self.out / name)
                found["files"][name] = listed[name]
            found["areas"].add(code)
        return found

    def areas(self, areas: list[dict]) -> None:
        """The pages of these areas, their downloads formatted a batch at a time."""
        step = self.downloads.batch
        # the builder's tens of millions of objects (rows, lookups, trend series) live as long as
        # the build: kept out of the collector's full passes, which each walked all of them
        # (a national page took ~0.7 s longer in one process than in a forked worker)
        frozen = gc.get_freeze_count()
        gc.freeze()
        try:
            for i in range(0, len(areas), step):
                batch = areas[i : i + step]
                self.downloads.load([a["area_code"] for a in batch])
                for area in batch:
                    self.area(area)
        finally:
            if not frozen:
                gc.unfreeze()

    def _areas_in_processes(self, areas: list[dict], workers: int, progress) -> None:
        """The area pages in `workers` forked processes: each inherits this builder (the
        edition, layouts and lookups, copy-on-write) and writes every workers-th area's files.
        An error in any page fails the build, as in one process."""
        global _FORKED
        context = multiprocessing.get_context("fork")
        _FORKED = (self, areas, workers)
        # the builder's millions of Python objects (rows, lookups, trend series) out of the
        # collector's reach: a collection in a worker would otherwise touch, and so copy, every
        # page of them in every worker (copy-on-write)
        gc.freeze()
        try:
            with context.Pool(workers) as pool:
                done = 0
                for n in pool.imap_unordered(_build_share, range(workers)):
                    done += n
                    if progress is not None:
                        progress(f"  compass pages: {done:,} of {len(areas):,} areas")
        finally:
            _FORKED = None
            gc.unfreeze()

    # --- one area ---

    def area(self, area: dict) -> None:
        ed, code, name = self.ed, area["area_code"], area["area_name"]
        s_rows = self.status.get(code, {})
        d_rows = self.development.get(code, {})
        s_views = node_views(s_rows, self.labels)
        d_views = node_views(d_rows, self.labels)
        period = f"{ed.base_period}–{ed.development_period}"
        charts = [
            (
                "status",
                "s",
                self.status_cells,
                s_views,
                f"Statuskompas {name} {ed.edition}",
                self.compass_desc("Statuskompas", name, s_views),
                f"editie {ed.edition}",
            )
        ]
        if self.has_development:
            charts.append(
                (
                    "development",
                    "d",
                    self.development_cells,
                    d_views,
                    f"Ontwikkelingskompas {name} {period}",
                    self.compass_desc("Ontwikkelingskompas", name, d_views),
                    f"ontwikkeling {period}",
                )
            )
        inline = {}
        for kind, prefix, cells, views, title, desc, when in charts:
            heading = (title.rsplit(" ", 1)[0], f"{code} · {when} · index: stad = 100")
            standalone = {"prefix": kind, "title": title, "desc": desc, "standalone": True,
                          "heading": heading}
            svg = compass_svg(cells, views, self.quadrant_labels, **standalone)
            write_text(
                self.out / "area" / f"{code}-{kind}.svg",
                '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n",
            )
            # the same chart with its hatch as shapes (resvg draws a pattern slowly)
            png_svg = compass_svg(
                cells, views, self.quadrant_labels, **standalone, stripes=self.stripes[kind]
            )
            (self.out / "area" / f"{code}-{kind}.png").write_bytes(svg_to_png(png_svg))
            inline[kind] = compass_svg(
                cells, views, self.quadrant_labels, prefix=prefix, title=title, desc=desc
            )

        self.downloads.write(self.out / "area", code, name)
        downloads = []
        for suffix, label in DOWNLOADS:
            path = self.out / "area" / f"{code}{suffix}"
            if path.exists():
                downloads.append(
                    {"href": path.name, "label": label, "size": human_size(path.stat().st_size)}
                )

        html = self.env.get_template("area.html").render(
            **self.common,
            root="../",
            area={
                "code": code,
                "name": name,
                "parent": parent_text(area),
                "population": self.population(code, area)[1],
            },
            status_key=key_figure(s_rows.get(CENTRE)),
            development_key=key_figure(d_rows.get(CENTRE)),
            status_svg=inline["status"],
            development_svg=inline.get("development", ""),
            status_rows=self.status_rows(code, s_rows, s_views),
            development_rows=self.development_rows(d_rows, d_views),
            trend_from=self.trend_axis[0] if self.trend_axis else ed.edition,
            similar=self.similar_rows(code),
            similar_method=self.similar_method(name),
            quadrant_heads=[self.quadrant_labels[q] for q in self.quadrants],
            self_row={
                "status": centre_badge(s_rows.get(CENTRE)),
                "development": centre_badge(d_rows.get(CENTRE)),
                "quadrants": self.quadrant_indices(s_rows),
            },
            downloads=downloads,
            downloads_note=DOWNLOADS_NOTE,
        )
        write_text(self.out / "area" / f"{code}.html", html)

    def population(self, code: str, area: dict) -> tuple[str, str | None]:
        """One population number per area, everywhere on the site: ("20.690", "20.690 inwoners
        (2024)"). The compass's Inwoners indicator (the figure in the Indicatoren table, with its
        period) where the edition has it; else the profile's register count, said as such."""
        # counts are not in the status compass (issue 18): the figure of the edition's year, or the
        # latest before it, from the published facts (the Indicatoren table's trend)
        series = self.trend_series.get((code, POPULATION_INDICATOR), {})
        shown = sorted((p, v) for p, v in series.items()
                       if p <= self.ed.edition and v is not None and not fmt.is_missing(v))
        if shown:
            when, value = shown[-1]
            number = fmt.count(value)
            return number, f"{number} inwoners ({when})"
        population = area.get("population")
        if population is None or fmt.is_missing(population):
            return "", None
        number = fmt.count(population)
        return number, f"{number} inwoners (bevolkingsregister)"

    def compass_desc(self, kind: str, area_name: str, views: dict[str, NodeView]) -> str:
        parts = [
            f"{kind} van {area_name} als ringdiagram: van buiten naar binnen indicatoren, "
            "thema's, kwadranten en het centrum; kleur naar de klasse van de index (stad = 100)."
        ]
        centre = views.get(CENTRE)
        if centre is not None:
            parts.append(centre.summary.replace(centre.label, "Centrum", 1) + ".")
        for code in self.quadrants:
            view = views.get(f"quadrant-{code}")
            if view is not None:
                parts.append(view.summary + ".")
        parts.append("Alle cijfers staan in de tabel onder de figuur.")
        return " ".join(parts)

    def status_rows(self, code: str, rows: dict[str, dict], views: dict[str, NodeView]) -> list:
        out = []
        for cell in self.status_cells:
            row, view = rows.get(cell.key), views.get(cell.key)
            if row is None or view is None:
                continue
            indicator = self.ed.indicator(cell.code) if cell.level == "indicator" else {}
            unit = indicator.get("unit")
            ind = cell.level == "indicator"
            note = row_note(row, view.reason, ind)
            out.append(
                {
                    "key": cell.key,
                    "level": cell.level,
                    "label": view.label,
                    "source": SOURCE_KIND_NL.get(indicator.get("source_kind"), ""),
                    "value": fmt.value(row.get("value"), unit) if ind else "",
                    "city": fmt.value(row.get("city_value"), unit) if ind else "",
                    "ci": fmt.interval(row.get("ci_low"), row.get("ci_high"), unit) if ind else "",
                    "n": fmt.count(row.get("n_unweighted")) if ind else "",
                    "index": fmt.index(row.get("index_value")),
                    "klass": badge(view.fill, class_text(row)),
                    "significant": fmt.yes_no(row.get("significant")) if ind else "",
                    "note": note,
                    "spark": self.sparkline(code, cell.code, unit) if ind else "",
                    "model": ind and model_note(row) and not row.get("suppressed"),
                }
            )
        return out

    def development_rows(self, rows: dict[str, dict], views: dict[str, NodeView]) -> list:
        out = []
        for cell in self.development_cells:
            row, view = rows.get(cell.key), views.get(cell.key)
            if row is None or view is None:
                continue
            ind = cell.level == "indicator"
            unit = self.ed.indicator(cell.code).get("unit") if ind else None
            relative = ind and fmt.is_additive_total(self.ed.indicator(cell.code))
            note = row_note(row, view.reason, ind)
            out.append(
                {
                    "key": cell.key,
                    "level": cell.level,
                    "label": view.label,
                    "base": fmt.value(row.get("base_value"), unit) if ind else "",
                    "current": fmt.value(row.get("current_value"), unit) if ind else "",
                    "change": (fmt.relative_change(row.get("change")) if relative
                               else fmt.change(row.get("change"), unit)) if ind else "",
                    "city_change": (fmt.relative_change(row.get("city_change")) if relative
                                    else fmt.change(row.get("city_change"), unit)) if ind else "",
                    "index": fmt.index(row.get("index_value")),
                    "klass": badge(view.fill, class_text(row)),
                    "significant": fmt.yes_no(row.get("significant")) if ind else "",
                    "note": note,
                }
            )
        return out

    def quadrant_indices(self, rows: dict[str, dict]) -> list[str]:
        out = []
        for q in self.quadrants:
            row = rows.get(f"quadrant-{q}")
            shown = row and not row.get("suppressed")
            out.append(fmt.index(row.get("index_value")) if shown else fmt.DASH)
        return out

    def similar_rows(self, code: str) -> list[dict]:
        return [
            {
                "code": other,
                "name": self.names.get(other, other),
                "distance": fmt.number(distance, 1),
                "status": centre_badge(self.status.get(other, {}).get(CENTRE)),
                "development": centre_badge(self.development.get(other, {}).get(CENTRE)),
                "quadrants": self.quadrant_indices(self.status.get(other, {})),
            }
            for other, distance in self.similar.get(code, [])
        ]

    def similar_method(self, name: str) -> str:
        labels = [label_of(self.labels, "indicator", c) for c in self.similar_used]
        shown = ", ".join(labels[:8]) + (", …" if len(labels) > 8 else "")
        group = (
            " en ".join(self.quadrant_labels.get(q, q).lower() for q in self.composition)
            or "samenstelling"
        )
        return SIMILAR_METHOD.format(
            k=SIMILAR_K, name=name, n=len(labels), group=group, indicators=shown
        )

    # --- trend ---

    def _trend_data(self):
        facts = self.ed.facts
        series: dict[tuple[str, str], dict[int, float | None]] = {}
        # column lists, not itertuples (a national edition has ~3 M facts)
        for area, is_city, indicator, period, value, suppressed in zip(
            facts["area_code"].tolist(), facts["is_city"].tolist(),
            facts["indicator_code"].tolist(), facts["period"].tolist(),
            plain_values(facts["value"]), facts["suppressed"].tolist(), strict=True,
        ):
            key = ("" if bool(is_city) else area, indicator)
            series.setdefault(key, {})[int(period)] = None if bool(suppressed) else value
        return series, sorted({int(p) for p in facts["period"]})

    def sparkline(self, area: str, indicator: str, unit: str | None) -> str:
        area_series = self.trend_series.get((area, indicator), {})
        city_series = self.trend_series.get(("", indicator), {})
        if not area_series and not city_series:
            return ""

        def ends(series: dict[int, float | None]) -> str:
            shown = [(p, v) for p, v in sorted(series.items()) if v is not None]
            if not shown:
                return "geen getoonde cijfers"
            (p0, v0), (p1, v1) = shown[0], shown[-1]
            return f"van {fmt.value(v0, unit)} ({p0}) naar {fmt.value(v1, unit)} ({p1})"

        label = f"Trend: wijk {ends(area_series)}; stad {ends(city_series)}"
        return sparkline_svg(self.trend_axis, area_series, city_series, label=label)

    # --- the overview ---

    def index_page(self) -> str:
        ed = self.ed
        areas = records(ed.areas)
        drawn = map_shapes({a["area_code"]: a.get("geometry_wkt") for a in areas}, MAP_WIDTH,
                           crs=ed.crs)
        projection = drawn.projection if drawn else None
        shapes = drawn.shapes if drawn else {}
        rows, map_areas, map_key = [], [], []
        for area in areas:
            code, name = area["area_code"], area["area_name"]
            parent = clean(area.get("parent_name")) or ""
            centre = self.status.get(code, {}).get(CENTRE)
            rows.append(
                {
                    "code": code,
                    "name": name,
                    "parent_name": parent,
                    "population": self.population(code, area)[0] or fmt.DASH,
                    "status": centre_badge(centre),
                    "development": centre_badge(self.development.get(code, {}).get(CENTRE)),
                    "search": search_key(f"{code} {name} {parent}"),
                }
            )
            shape = shapes.get(code)
            if shape is None:
                continue
            if centre and not centre.get("suppressed") and centre.get("class"):
                summary = (
                    f"{name} ({code}): statuskompas "
                    f"{fmt.index(centre.get('index_value'))}, {centre['class']}"
                )
            else:
                summary = f"{name} ({code}): statuskompas niet getoond"
            label_at = self.label_at(shape, name)
            number = marker_at = None
            if label_at is None:  # the name does not fit: a numbered marker, its key under the map
                number = len(map_key) + 1
                marker_at = shape.label
                map_key.append({"number": number, "code": code, "name": name})
            map_areas.append(
                MapArea(
                    code,
                    name,
                    shape.path,
                    row_fill(centre),
                    summary,
                    f"area/{code}.html",
                    label_at,
                    number,
                    marker_at,
                )
            )
        map_markup = ""
        if projection is not None and map_areas:
            map_markup = map_svg(
                map_areas,
                projection,
                title=f"Kaart van de wijken van {ed.gemeente_name}",
                desc=(
                    "Elke wijk gekleurd naar de klasse van de centrumindex van het statuskompas "
                    f"{ed.edition}; klik op een wijk voor haar kompas. De lijst naast de kaart "
                    "bevat dezelfde gegevens."
                ),
            )
        files = [
            {"name": name, "size": human_size((self.edition_dir / name).stat().st_size)}
            for name in ed.edition_files
            if name.endswith((".csv", ".parquet", ".xlsx", ".duckdb"))
        ]
        return self.env.get_template("index.html").render(
            **self.common,
            root="",
            areas=rows,
            map_svg=map_markup,
            map_key=map_key if map_markup else [],
            edition_files=files,
            map_legend=legend_html(judged_only=True),
            has_xlsx=any(f["name"].endswith(".xlsx") for f in files),
            has_duckdb=any(f["name"].endswith(".duckdb") for f in files),
            validation=(self.edition_dir / "validation" / "index.html").exists(),
            quality=self.quality,
        )

    @staticmethod
    def label_at(shape: Shape, name: str) -> tuple[float, float] | None:
        """Where the area's name goes on the map (a point inside the area), if the name fits
        inside the area's box."""
        if shape.width >= 6.2 * len(name) + 4 and shape.height >= 14:
            return shape.label
        return None

    # --- manifest ---

    def manifest(self, known: dict[str, dict] | None = None) -> None:
        """site/manifest.json; `known`: entries of files linked unchanged from the previous site."""
        known = known or {}
        files = []
        for path in sorted(p for p in self.out.rglob("*") if p.is_file()):
            name = path.relative_to(self.out).as_posix()
            if name == STATE_FILE:
                continue
            files.append(known[name] if name in known else
                {
                    "file": name,
                    "bytes": path.stat().st_size,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                }
            )
        manifest = {
            "edition": self.ed.edition,
            "area_edition": self.ed.area_edition,
            "gemeente_code": self.ed.gemeente_code,
            "areas": len(self.ed.areas),
            "built_from": "the edition's exported Parquet files (not the warehouse)",
            "png": {"rendered": True, "renderer": RENDERER, "note": PNG_NOTE},
            "total_bytes": sum(f["bytes"] for f in files),
            "files": files,
        }
        write_text(
            self.out / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
        )


# what a forked page builder inherits (set only while the pool runs)
_FORKED: tuple[SiteBuilder, list[dict], int] | None = None


def _build_share(share: int) -> int:
    builder, areas, workers = _FORKED
    mine = areas[share::workers]
    builder.areas(mine)
    return len(mine)


def site_workers(areas: int) -> int:
    """Processes for the area pages: $BASISMONITOR_SITE_WORKERS, else one per usable core; one
    for small sites (starting processes costs more than ~50 pages)."""
    configured = os.environ.get("BASISMONITOR_SITE_WORKERS")
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise ValueError(
                f"BASISMONITOR_SITE_WORKERS must be a number of processes, not {configured!r}"
            ) from None
    if areas < 50 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, areas // 25))


def read_state(site: Path) -> dict:
    """The previous build's state (site/.build-state.json), {} when there is none."""
    try:
        state = json.loads((site / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


_CODE_KEY: str | None = None


def site_code_key() -> str:
    """A hash of the site's code, templates, styles and fonts (this package's files)."""
    global _CODE_KEY
    if _CODE_KEY is None:
        digest = hashlib.sha256()
        for path in sorted(HERE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(HERE).as_posix().encode() + b"\0")
                digest.update(file_sha256(path).encode())
        _CODE_KEY = digest.hexdigest()
    return _CODE_KEY


def edition_key(edition_dir: Path) -> str:
    """A hash of everything the site of `edition_dir` is built from: the Parquet files it reads,
    the edition's manifest.json and gate result, the names and shown sizes of the files the
    overview lists, whether the validation report is there, and the site's code."""
    from basismonitor.site.data import TABLES

    digest = hashlib.sha256(site_code_key().encode())
    for name in [f"{t}.parquet" for t in TABLES] + ["manifest.json",
                                                    "validation/gate_result.json"]:
        path = edition_dir / name
        digest.update(name.encode() + b"\0"
                      + (file_sha256(path).encode() if path.is_file() else b"-"))
    for path in sorted(edition_dir.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            digest.update(f"{path.name}\0{human_size(path.stat().st_size)}\0".encode())
    digest.update(str((edition_dir / "validation" / "index.html").exists()).encode())
    return digest.hexdigest()


def _hashable(frame):
    """The frame with list/array cells as text (pandas hashes scalars only)."""
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        sample = frame[column].dropna()
        if sample.empty or isinstance(sample.iloc[0], str | int | float | bool):
            continue
        frame = frame.assign(**{column: frame[column].map(
            lambda v: repr(v.tolist() if hasattr(v, "tolist") else v))})
    return frame


def _frame_key(frame) -> str:
    """A hash of a table's rows (order-independent)."""
    if frame.empty:
        return f"empty:{','.join(map(str, frame.columns))}"
    rows = np.sort(pd.util.hash_pandas_object(_hashable(frame), index=False)
                   .to_numpy())
    return hashlib.sha256(",".join(map(str, frame.columns)).encode() + rows.tobytes()).hexdigest()


def _row_digests(frame) -> dict[str, bytes]:
    """{area_code: a hash of that area's rows} (order-independent within an area)."""
    if frame.empty:
        return {}
    rows = pd.util.hash_pandas_object(_hashable(frame), index=False).to_numpy()
    # the codes as sorted integers: a lexsort over the text itself took ~30 s on national facts
    numbers, names = pd.factorize(frame["area_code"].astype(str).to_numpy(), sort=True)
    order = np.lexsort((rows, numbers))
    numbers, rows = numbers[order], rows[order]
    starts = np.flatnonzero(np.r_[True, numbers[1:] != numbers[:-1]])
    ends = np.r_[starts[1:], len(numbers)]
    head = ",".join(map(str, frame.columns)).encode()
    return {names[numbers[a]]: hashlib.sha256(head + rows[a:b].tobytes()).digest()
            for a, b in zip(starts, ends, strict=True)}


def _link(source: Path, target: Path) -> None:
    """A hard link of an unchanged file (a copy where the file system has none)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")
