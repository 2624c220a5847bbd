"""What changed since the warehouse's last successful dbt build, so a build can leave out what did not.

A refresh that landed only a survey wave need not rebuild the registry and activity models: their
inputs are the same as at the last build. `plan_build` compares

- the loads in each dbt source's raw tables (a fingerprint of their distinct `_load_id`s; a
  superseded or deleted load changes it as a new one does), and
- the project: every file dbt reads (models, macros, seeds, tests, dbt_project.yml), the Python
  code the dbt Python models import (basismonitor.stats, basismonitor.transform.dbt_models), dbt's version
  and the build's vars (edition, base period)

with what the last successful build stored in `ops.dbt_build_state`. When the project or vars
changed, or no build was recorded, everything is built. Else only the changed sources and what
depends on them (`source:<name>+`); when nothing changed, nothing. A failed build records nothing,
so the next build compares against the last one that succeeded and rebuilds at least as much.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from basismonitor.config import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
STATE_TABLE = "ops.dbt_build_state"
# Files of the dbt project that are not part of its definition (outputs, caches, local state).
_NOT_PROJECT = {"target", "logs", "dbt_packages"}
_PYTHON_PARTS = (PROJECT_ROOT / "src" / "basismonitor" / "stats",
                 PROJECT_ROOT / "src" / "basismonitor" / "transform" / "dbt_models.py")


@dataclass
class BuildPlan:
    select: str | None          # None: build everything; "": nothing changed
    reason: str
    sources: dict[str, str] = field(default_factory=dict)   # source name -> loads fingerprint
    project: str = ""

    @property
    def nothing_to_build(self) -> bool:
        return self.select == ""


def dbt_sources(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, tuple[str, list[str]]]:
    """dbt source name -> (schema, its tables), from the sources YAML files of the project."""
    out: dict[str, tuple[str, list[str]]] = {}
    for path in sorted((project_dir / "models").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for source in doc.get("sources") or []:
            schema = source.get("schema", source["name"])
            tables = [t["name"] for t in source.get("tables") or []]
            out[source["name"]] = (schema, out.get(source["name"], (schema, []))[1] + tables)
    return out


def dbt_project_digest(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """The one hash of the dbt project: every file that defines its graph (its outputs, caches
    and dotfiles left out) and the versions of dbt-core and dbt-duckdb. The DAGs' manifest cache
    keys on it (airflow_dbt.ensure_manifest); the build's change detection adds the vars and the
    Python the models import (project_fingerprint)."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    digest.update(f"dbt-core {version('dbt-core')}; dbt-duckdb {version('dbt-duckdb')}\n".encode())
    files = []
    for path in project_dir.rglob("*"):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in _NOT_PROJECT or any(p.startswith(".") for p in relative.parts):
            continue
        if path.is_file() and "__pycache__" not in relative.parts:
            files.append((relative.as_posix(), path))
    for name, path in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def project_fingerprint(vars_: dict, project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A hash of what the build's result depends on besides the raw data: the dbt project
    (dbt_project_digest), the vars, and the Python its models import."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"vars": vars_}, sort_keys=True).encode())
    digest.update(dbt_project_digest(project_dir).encode())
    files: list[Path] = []
    for part in _PYTHON_PARTS:
        files += sorted(part.rglob("*.py")) if part.is_dir() else [part]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def source_fingerprints(con, sources: dict[str, tuple[str, list[str]]]) -> dict[str, str]:
    """dbt source name -> a hash of the load ids in its base tables (views follow their tables;
    a table not there yet counts as empty)."""
    base = {(s, t) for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_catalog = current_database() and table_type = 'BASE TABLE'").fetchall()}
    out = {}
    for name, (schema, tables) in sorted(sources.items()):
        parts = []
        for table in tables:
            if (schema, table) in base:
                loads = con.execute(
                    f'select coalesce(string_agg(distinct "_load_id", \',\' order by "_load_id"), \'\')'
                    f' from "{schema}"."{table}"').fetchone()[0]
                parts.append(f"{table}:{loads}")
        out[name] = hashlib.sha256(";".join(parts).encode()).hexdigest()
    return out


def _last_state(con) -> dict | None:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database()"
        " and table_schema = 'ops' and table_name = 'dbt_build_state'").fetchone()[0]
    if not exists:
        return None
    row = con.execute(f"select project_fingerprint, source_fingerprints from {STATE_TABLE}"
                      " order by built_at desc limit 1").fetchone()
    return None if row is None else {"project": row[0], "sources": json.loads(row[1])}


def plan_build(warehouse: Path, vars_: dict) -> BuildPlan:
    """What a build of this warehouse with these vars has to build (see the module docstring)."""
    import duckdb

    sources = dbt_sources()
    project = project_fingerprint(vars_)
    if not Path(warehouse).exists():
        return BuildPlan(None, "no warehouse yet", {}, project)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        current = source_fingerprints(con, sources)
        last = _last_state(con)
    if last is None:
        return BuildPlan(None, "no earlier build recorded", current, project)
    if last["project"] != project:
        return BuildPlan(None, "the dbt project, its Python code or the vars changed", current,
                         project)
    changed = sorted(name for name, fp in current.items() if last["sources"].get(name) != fp)
    if not changed:
        return BuildPlan("", "no source changed since the last build", current, project)
    return BuildPlan(" ".join(f"source:{name}+" for name in changed),
                     "changed since the last build: " + ", ".join(changed), current, project)


def record_build(warehouse: Path, plan: BuildPlan, selection: str) -> None:
    """Store what a successful build saw (the plan's fingerprints, taken before it ran)."""
    import duckdb

    with duckdb.connect(str(warehouse)) as con:
        sources = plan.sources or source_fingerprints(con, dbt_sources())
        con.execute("create schema if not exists ops")
        con.execute(f"""create table if not exists {STATE_TABLE} (
            built_at timestamp not null,
            project_fingerprint varchar not null,
            source_fingerprints varchar not null,
            selection varchar not null
        )""")
        con.execute(f"insert into {STATE_TABLE} values (current_localtimestamp(), ?, ?, ?)",
                    [plan.project, json.dumps(sources, sort_keys=True), selection])
