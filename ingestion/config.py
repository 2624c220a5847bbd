"""ingestion/sources.yml: where each source arrives and how its files are read."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import yaml

from .errors import IngestionError

DEFAULT_CONFIG = Path(__file__).with_name("sources.yml")

# Dependency order of the kinds: areas before everything that checks area codes, the crosswalk
# after the editions it maps, the survey after the population its weighting needs.
KIND_ORDER = {
    "areas": 0,
    # spatial sources (grid squares, incidents, facility points) are located in the areas by
    # the dbt models, not checked against them at landing: after the areas, before the rest
    "grid": 1,
    "incidents": 1,
    "points": 1,
    "crosswalk": 2,
    "population": 3,
    "registry_kwb": 4,
    "registry_wbk": 4,
    "registry_odata": 4,
    "police": 5,
    "survey": 6,
    "activity": 7,
}
KINDS = tuple(KIND_ORDER)

# Options a source or file pattern may set; anything else is a typo and fails the config.
OPTIONS = {
    "delimiter", "encoding", "encoding_mismatch", "decimal", "sheet", "extra_columns",
    "missing_codes", "areas_source", "crs", "parent", "columns", "values", "ignore_columns",
    "level", "role", "id_columns", "nonnegative", "value_map", "tables", "query", "null_reason",
    "scales", "missing_meanings", "allowed",
    # GIS files, grid, incidents and points (ingestion/gis.py, connectors/grid.py, incidents.py,
    # points.py)
    "layer", "variables", "classes", "category",
}
SOURCE_KEYS = {"kind", "location", "files"} | OPTIONS
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "cp1252": "cp1252", "windows-1252": "cp1252",
             "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1"}
DELIMITERS = {";", ",", "\t", "|", "auto"}
SUFFIXES = {".csv", ".txt", ".xlsx", ".parquet", ".sav", ".json", ".zip", ".shp", ".gpkg"}


@dataclass(frozen=True)
class FileSpec:
    """One file pattern of a source with its effective options (defaults < source < pattern)."""

    source: str
    pattern: str
    index: int
    options: Mapping[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        value = self.options.get(key, default)
        return default if value is None else value

    @property
    def slot(self) -> str:
        """What the file is within its period: one landed file per slot (a corrected file with
        the same name replaces it)."""
        return str(self.options.get("role") or self.options.get("level") or self.pattern)


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    location: str
    options: Mapping[str, Any]
    files: tuple[FileSpec, ...]

    @property
    def url_env(self) -> str | None:
        return self.location[4:] if self.location.startswith("env:") else None

    def folder(self, inbox: Path) -> Path:
        """The inbox folder holding one sub-folder per period."""
        if self.url_env:
            return inbox / self.name
        parts = [p for p in PurePath(self.location).parts if p not in ("<period>",)]
        if parts and parts[0] == "inbox":
            parts = parts[1:]
        return inbox.joinpath(*[p.replace("<source>", self.name) for p in parts])

    def match(self, filename: str) -> FileSpec | None:
        """The file pattern a file name belongs to; None when it is no file of this source."""
        for spec in self.files:
            if fnmatch.fnmatch(filename.lower(), spec.pattern.lower()):
                return spec
        return None

    def spec_for(self, path: Path) -> FileSpec:
        """As match(), but for a file named explicitly: fall back to the first pattern with the
        same extension (preferring data over a codebook), else fail."""
        spec = self.match(path.name)
        if spec is not None:
            return spec
        suffix = path.suffix.lower()
        same = [s for s in self.files if PurePath(s.pattern).suffix.lower() == suffix]
        same.sort(key=lambda s: s.get("role") == "codebook")
        if "codeb" in path.name.lower():
            same.sort(key=lambda s: s.get("role") != "codebook")
        if same:
            return same[0]
        raise IngestionError(
            f"the file type {suffix or '(none)'} is not read for source {self.name}",
            file=path,
            hint="patterns of this source: " + ", ".join(s.pattern for s in self.files),
        )


@dataclass(frozen=True)
class SourcesConfig:
    path: Path
    sources: Mapping[str, SourceConfig] = field(default_factory=dict)

    def __getitem__(self, name: str) -> SourceConfig:
        return self.source(name)

    def __contains__(self, name: object) -> bool:
        return name in self.sources

    def source(self, name: str) -> SourceConfig:
        try:
            return self.sources[name]
        except KeyError:
            raise IngestionError(
                f"unknown source {name!r}",
                file=self.path,
                hint="known sources: " + ", ".join(self.sources),
            ) from None

    def ordered(self, names: Sequence[str] | None = None) -> list[SourceConfig]:
        """Sources in dependency order (kind, then the order in sources.yml)."""
        if names is not None:
            chosen = [self.source(n) for n in dict.fromkeys(names)]
        else:
            chosen = list(self.sources.values())
        position = {name: i for i, name in enumerate(self.sources)}
        return sorted(chosen, key=lambda s: (KIND_ORDER[s.kind], position[s.name]))


def _merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key in ("missing_codes",) and isinstance(value, Mapping):
                merged[key] = {**merged.get(key, {}), **{str(k): v for k, v in value.items()}}
            else:
                merged[key] = value
    return merged


def _check_options(where: str, options: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise IngestionError(f"{where}: unknown option(s) {', '.join(unknown)}")
    if "encoding" in options and str(options["encoding"]).lower() not in ENCODINGS:
        raise IngestionError(f"{where}: encoding {options['encoding']!r} is not one of "
                             + ", ".join(sorted(set(ENCODINGS.values()))))
    if "delimiter" in options and options["delimiter"] not in DELIMITERS:
        raise IngestionError(f"{where}: delimiter {options['delimiter']!r} is not one of "
                             + " ".join(repr(d) for d in sorted(DELIMITERS)))
    if "decimal" in options and options["decimal"] not in (".", ","):
        raise IngestionError(f"{where}: decimal must be '.' or ','")
    for key, allowed_values in (("encoding_mismatch", ("fail", "fallback")),
                                ("extra_columns", ("fail", "ignore"))):
        if key in options and options[key] not in allowed_values:
            raise IngestionError(f"{where}: {key} must be one of {', '.join(allowed_values)}")


def load_config(path: Path | None = None) -> SourcesConfig:
    """Read sources.yml (default: the one next to this module)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise IngestionError(f"cannot read the sources configuration: {exc}", file=path) from exc
    except yaml.YAMLError as exc:
        raise IngestionError(f"the sources configuration is not valid YAML: {exc}",
                             file=path) from exc
    defaults = data.get("defaults") or {}
    try:
        _check_options("defaults", defaults, OPTIONS)
    except IngestionError as exc:
        raise IngestionError(exc.message, file=path) from None
    sources: dict[str, SourceConfig] = {}
    for name, raw in (data.get("sources") or {}).items():
        where = f"source {name}"
        if not isinstance(raw, Mapping):
            raise IngestionError(f"{where} must be a mapping", file=path)
        try:
            _check_options(where, raw, SOURCE_KEYS)
            kind = raw.get("kind")
            if kind not in KIND_ORDER:
                raise IngestionError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
            location = str(raw.get("location") or "inbox/<source>/<period>/")
            if "://" in location:
                raise IngestionError(f"{where}: put URLs in an environment variable "
                                     "(location: env:VARIABLE), not in sources.yml")
            level = {k: v for k, v in raw.items() if k in OPTIONS}
            source_options = _merge(defaults, level)
            specs = []
            for i, entry in enumerate(raw.get("files") or []):
                entry = {"pattern": entry} if isinstance(entry, str) else dict(entry)
                pattern = entry.pop("pattern", None)
                if not pattern:
                    raise IngestionError(f"{where}: files[{i}] has no pattern")
                if PurePath(pattern).suffix.lower() not in SUFFIXES:
                    raise IngestionError(f"{where}: pattern {pattern!r} has no supported extension "
                                         f"({', '.join(sorted(SUFFIXES))})")
                _check_options(f"{where} pattern {pattern}", entry, OPTIONS)
                specs.append(FileSpec(name, pattern, i, _merge(source_options, entry)))
            if not specs:
                raise IngestionError(f"{where}: no files patterns")
        except IngestionError as exc:
            raise IngestionError(exc.message, file=path) from None
        sources[name] = SourceConfig(name, kind, location, source_options, tuple(specs))
    return SourcesConfig(path=path, sources=sources)


def env_url(source: SourceConfig) -> str | None:
    var = source.url_env
    return os.environ.get(var) if var else None
