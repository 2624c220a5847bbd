"""`generate`: write a complete demo inbox (docs/SOURCES.md) from a seed and a scale."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .activities import write_activities
from .io import GeneratedFile, InboxWriter
from .registry import (
    write_areas,
    write_crosswalk,
    write_police,
    write_population,
    write_registry,
)
from .scale import DemoScale
from .survey import write_survey
from .world import World, build_world

MANIFEST_NAME = "_demo_manifest.json"
DEFAULT_SCALE = DemoScale()  # frozen, so a shared default is safe


@dataclass(frozen=True)
class GeneratedManifest:
    """What `generate` wrote. `counts` per source: data rows (survey: respondents; areas: areas;
    activities: registrations). `formats` says which file format each activity programme got."""

    inbox: Path
    seed: int
    scale: DemoScale
    files: tuple[GeneratedFile, ...]
    counts: dict[str, int]
    formats: dict[str, str] = field(default_factory=dict)
    changes: dict[str, list] = field(default_factory=dict)  # the 2008 -> 2019 area changes
    seconds: float = 0.0  # wall time (not part of the JSON, which must be reproducible)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def to_json(self) -> str:
        doc = {
            "generator": "basismonitor.demo",
            "seed": self.seed,
            "scale": self.scale.to_dict(),
            "counts": self.counts,
            "formats": self.formats,
            "changes": self.changes,
            "files": [f.__dict__ for f in self.files],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def generate(
    inbox: Path,
    *,
    scale: DemoScale = DEFAULT_SCALE,
    seed: int = 2024,
    progress: Callable[[str], None] | None = None,
) -> GeneratedManifest:
    """Write the demo sources into `inbox/<source>/<period>/<file>` and `inbox/_demo_manifest.json`.

    The same seed and scale give byte-identical files. Files a previous run listed in its manifest
    and this run does not write are removed (only if unchanged since); nothing else is touched.
    """
    started = time.perf_counter()
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    world = build_world(scale, seed)
    if progress is not None:
        progress(_describe(world))
    out = InboxWriter(inbox, progress)
    counts: dict[str, int] = {}
    counts["areas"] = write_areas(world, out)
    counts["crosswalk"] = write_crosswalk(world, out)
    counts["population"] = write_population(world, out)
    counts["registry"] = write_registry(world, out)
    counts["police"] = write_police(world, out)
    counts["survey"] = write_survey(world, out)
    activity_counts, formats = write_activities(world, out)
    counts.update(activity_counts)

    files = tuple(sorted(out.files, key=lambda f: f.path))
    _remove_stale(inbox, {f.path for f in files})
    manifest = GeneratedManifest(
        inbox=inbox,
        seed=seed,
        scale=scale,
        files=files,
        counts=counts,
        formats=formats,
        changes={
            "split": [list(x) for x in world.split_pairs],
            "merge": [list(x) for x in world.merge_pairs],
            "redivided_wijk": list(world.redivided),
        },
    )
    tmp = inbox / f".{MANIFEST_NAME}.tmp"
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    tmp.replace(inbox / MANIFEST_NAME)
    return GeneratedManifest(**{**manifest.__dict__, "seconds": time.perf_counter() - started})


def _describe(world: World) -> str:
    n_inh = int(world.pop[:, world.year_index(max(world.scale.years)), :].sum())
    return (
        f"demo world: {len(world.gemeenten)} municipalities, {len(world.wijken):,} wijken, "
        f"{len(world.buurten[2008]):,} buurten (2008) / {len(world.buurten[2019]):,} (2019), "
        f"{n_inh:,} inhabitants in {max(world.scale.years)}, seed {world.seed}"
    )


def _remove_stale(inbox: Path, keep: set[str]) -> None:
    path = inbox / MANIFEST_NAME
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        entries = old.get("files", [])
    except (ValueError, OSError):
        return
    for e in entries:
        rel = e.get("path")
        if not rel or rel in keep:
            continue
        p = inbox / rel
        if not p.is_file() or inbox.resolve() not in p.resolve().parents:
            continue
        if hashlib.sha256(p.read_bytes()).hexdigest() != e.get("sha256"):
            continue  # changed since we wrote it: not ours any more
        p.unlink()
        for parent in (p.parent, p.parent.parent):
            if parent != inbox and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()


def existing_files(inbox: Path) -> list[Path]:
    """Files in the inbox (hidden temporaries excluded)."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith("."))
