"""Where things live. Every path has an embedded default and an environment override.

The defaults are relative to the project root, so `make run` on a fresh clone works without any
configuration; deployments set the BASISMONITOR_* variables (see docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


# DuckDB takes 80% of the machine's memory by default (a national ingest was seen at 20 GB RSS).
# Every connection the platform opens caps it here, and spills to disk beyond (issue 9: a national
# refresh in at most 8 GiB). BASISMONITOR_DUCKDB_MEMORY_LIMIT overrides it (DuckDB's syntax: '6GB').
DEFAULT_DUCKDB_MEMORY_LIMIT = "5GB"


def duckdb_config() -> dict[str, str]:
    """The config of every DuckDB connection the platform opens (duckdb.connect(config=...))."""
    return {"memory_limit": os.environ.get("BASISMONITOR_DUCKDB_MEMORY_LIMIT")
            or DEFAULT_DUCKDB_MEMORY_LIMIT}


def spatial_extension_path() -> Path:
    """DuckDB's spatial extension as shipped by the package duckdb-extension-spatial (extensions
    cannot be downloaded at run time here: it is loaded from this file)."""
    import importlib.util

    import duckdb

    spec = importlib.util.find_spec("duckdb_extension_spatial")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the package duckdb-extension-spatial is not installed (pyproject.toml)")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.exists():
        found = sorted(root.glob("extensions/*/spatial.duckdb_extension"))
        raise RuntimeError(f"no spatial extension for DuckDB {duckdb.__version__} in {root} "
                           f"(found: {', '.join(str(f) for f in found) or 'none'}): pin "
                           f"duckdb-extension-spatial to the DuckDB version")
    return path


def load_spatial(con) -> None:
    """LOAD the spatial extension into a DuckDB connection (ST_Read, ST_Transform, ...)."""
    con.execute("LOAD '" + str(spatial_extension_path()).replace("'", "''") + "'")


# dbt loads the extension in its on-run-start hook (macro load_spatial) from this variable.
os.environ.setdefault("BASISMONITOR_SPATIAL_EXTENSION", str(spatial_extension_path()))


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """Where the refresh reads and writes, and its method settings.

    BASISMONITOR_SETTINGS may name a YAML settings file for a municipality (see
    examples/groningen/settings.yml):

        edition: 2017          # the edition built (else $BASISMONITOR_EDITION or 2024)
        base_period: 2008      # the development compass's base period (else dbt_project.yml's)
        vars:                  # dbt vars over dbt_project.yml's (area_source, compass_level, ...)
          area_source: gemeentelijke_indeling

    BASISMONITOR_EDITION, when set, wins over the file's edition."""

    warehouse: Path
    exports: Path
    inbox: Path
    edition: int
    base_period: int | None = None
    dbt_vars: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        file = read_settings_file(os.environ.get("BASISMONITOR_SETTINGS"))
        dbt_vars = renamed_vars(dict(file.get("vars") or {}), "the settings file's `vars:`")
        edition = (os.environ.get("BASISMONITOR_EDITION") or file.get("edition")
                   or dbt_vars.get("edition") or 2024)
        return cls(
            warehouse=_path("BASISMONITOR_WAREHOUSE", PROJECT_ROOT / "warehouse" / "basismonitor.duckdb"),
            exports=_path("BASISMONITOR_EXPORTS", PROJECT_ROOT / "exports"),
            inbox=_path("BASISMONITOR_INBOX", PROJECT_ROOT / "inbox"),
            edition=int(edition),
            base_period=int(file["base_period"]) if file.get("base_period") else None,
            dbt_vars=dbt_vars,
        )


SETTINGS_KEYS = {"edition", "base_period", "vars"}


def read_settings_file(path: str | os.PathLike | None) -> dict:
    """A settings file (YAML) as a dict; {} for no path. Unknown keys are refused by name."""
    if not path:
        return {}
    import yaml

    path = Path(path).expanduser()
    if not path.is_file():
        raise SettingsError(f"settings file {path} does not exist (BASISMONITOR_SETTINGS / --settings)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"settings file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path}: expected keys {sorted(SETTINGS_KEYS)}, got {type(data).__name__}")
    unknown = set(data) - SETTINGS_KEYS
    if unknown:
        raise SettingsError(f"settings file {path}: unknown key(s) {sorted(unknown)}; "
                            f"known: {sorted(SETTINGS_KEYS)} (dbt vars go under `vars:`)")
    if not isinstance(data.get("vars") or {}, dict):
        raise SettingsError(f"settings file {path}: `vars` must be a mapping of dbt vars")
    return data


def parse_vars(text: str | None) -> dict:
    """dbt vars given on the command line: a YAML or JSON mapping, as dbt's own --vars takes."""
    if not text:
        return {}
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError(f"--vars is not a YAML/JSON mapping: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"--vars must be a mapping such as '{{compass_level: buurt}}', got {text!r}")
    return renamed_vars(data, "--vars")


# dbt vars renamed since: old name -> new name. `current_period` became `edition` (issue 22): the
# edition is the publication, the survey wave the compass shows; `area_edition` is the year of an
# area division. The old name is still read, with a warning printed once per process.
RENAMED_VARS = {"current_period": "edition"}
_warned: set[str] = set()


def renamed_vars(dbt_vars: dict, where: str) -> dict:
    """dbt vars with the renamed ones under their new name (a warning once per old name)."""
    out = dict(dbt_vars)
    for old, new in RENAMED_VARS.items():
        if old not in out:
            continue
        value = out.pop(old)
        if new in out and out[new] != value:
            raise SettingsError(f"{where}: `{old}` ({value}) is the old name of `{new}` ({out[new]}); "
                                f"give `{new}` only")
        out[new] = value
        if old not in _warned:
            _warned.add(old)
            print(f"DeprecationWarning: {where}: the dbt var `{old}` is now called `{new}`; "
                  f"`{old}` is read as `{new}` for now", file=sys.stderr)
    return out


class SettingsError(ValueError):
    """A settings file or --vars that cannot be used; the message says which and why."""
