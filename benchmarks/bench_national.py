"""The refresh at national scale per stage, and adding one survey wave incrementally (issue 9).

    .venv/bin/python benchmarks/bench_national.py --scale small|national [--inbox DIR]
        [--runs 3] [--stages ingest,build,validate,publish,site] [--wave-runs 3]
        [--publish-timeout S] [--site-areas K] [--republish-runs N] [--workdir DIR]
        [--out result.json]

(a) Full refresh, `--runs` times on a fresh warehouse: each stage of basismonitor.orchestration.pipeline
    (ingest -> dbt build -> validate -> publish/export -> site) in a fresh Python process, with its wall
    time and the peak resident memory of its process tree (benchmarks/_common.MemorySampler).
    `--stages` picks a subset (in that order, on the same warehouse). Also kept: seconds per dbt
    node (from dbt's results) and per ingested file (time between the ingestion's per-file
    lines). Publish writes the exports; the site stage then one compass page per area (issue
    22.4: its own stage); when either runs longer than `--publish-timeout` it is stopped, the
    pages written so far are counted and the pages are timed on the first `--site-areas`
    areas of the staged exports (set-up and seconds per area, extrapolated to all areas; stopped
    after `--publish-timeout` seconds too). `--warehouse W`: the stages run on W, which is kept
    (publish and site of an earlier run's warehouse). `--republish-runs N`: after the last stage, publish
    and site (those of them in --stages) are run N times more on the same warehouse and exports
    (nothing changed; issue 22's re-publish target), each timed as a stage; publish then finds
    the edition unchanged and writes nothing.
(b) Adding a wave, `--wave-runs` times: a warehouse with every wave but the last ingested and
    built (made once, not timed in the ratio), then per run on a copy: land the last wave
    (ingest), then on two copies of that warehouse, one after the other: the incremental build
    (`basismonitor build --changed-only`: only the survey source and what depends on it are
    built, and of the survey models only the new wave's weights and estimates are computed) and
    `dbt build --full-refresh`. Ratio incremental / full of the build times (target <= 25%), and a check that
    both give the same intermediate and mart tables (floats to 1e-12; built_at left out).

Machine info from _common.machine; medians over the runs; everything to the JSON `--out` file
(default: var/bench_national_<scale>.json in the repository, which git ignores). The national inbox is made by
`basismonitor demo --scale national` (or pass a generated one with --inbox; it is only read).

    .venv/bin/python benchmarks/bench_national.py --report result.json [--top 10]

prints where the time went from a result file: per stage, the slowest dbt nodes, the slowest
ingested files, the publish split (exports, pages) and the adding-a-wave runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import MemorySampler, load, machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EDITION = 2024
STAGES = ("ingest", "build", "validate", "publish", "site")
TOLERANCE = 1e-12

# One stage in a fresh interpreter (imports included, as a refresh process pays them); prints one
# line per progress message with its time since the start, then RESULT <json>.
STAGE = r"""
import json, sys, time
from pathlib import Path
start = time.perf_counter()
stage, warehouse, inbox, exports, docs, edition, full_refresh, changed_only = sys.argv[1:9]
warehouse, edition = Path(warehouse), int(edition)
def progress(line):
    print(f"@{time.perf_counter() - start:.3f} {line}", flush=True)
from basismonitor.orchestration import pipeline
out = {}
if stage == "ingest":
    results = pipeline.ingest(warehouse, Path(inbox), progress=progress)
    out["files"] = [{"source": r.source, "period": r.period, "file": Path(r.path).name,
                     "status": r.status, "rows": r.rows_landed} for r in results]
elif stage == "build":
    nodes = pipeline.build(warehouse, edition, progress=progress, full_refresh=full_refresh == "1",
                           changed_only=changed_only == "1")
    out["nodes"] = [{"node": n["node"], "status": n["status"], "seconds": n["seconds"]} for n in nodes]
elif stage == "validate":
    gate = pipeline.validate(warehouse, edition, docs_root=Path(docs), progress=progress)
    out["docs_dir"] = str(gate.docs_dir) if gate.docs_dir else None
elif stage == "publish":
    docs_dir = Path(docs) if docs != "-" else None
    pipeline.publish(warehouse, Path(exports), edition, docs_dir=docs_dir, progress=progress)
elif stage == "site":
    pipeline.site(Path(exports), edition, progress=progress)
out["seconds"] = time.perf_counter() - start
print("RESULT " + json.dumps(out), flush=True)
"""

# The compass pages of a staged edition, on the first k areas: set-up once, then per area.
SITE_SUBSET = r"""
import json, sys, time, tempfile
from pathlib import Path
edition_dir, k = Path(sys.argv[1]), int(sys.argv[2])
t0 = time.perf_counter()
from basismonitor.site.build import SiteBuilder, records
from basismonitor.site.data import load_edition
ed = load_edition(edition_dir)
out = Path(tempfile.mkdtemp(dir=edition_dir.parent, prefix=".site-bench-"))
builder = SiteBuilder(ed, edition_dir, out)
(out / "area").mkdir()
t1 = time.perf_counter()
areas = records(ed.areas)[:k]
builder.areas(areas)
t2 = time.perf_counter()
import shutil; shutil.rmtree(out, ignore_errors=True)
print("RESULT " + json.dumps({"areas_total": len(ed.areas), "areas_built": len(areas),
                              "load_and_setup_seconds": t1 - t0,
                              "seconds_per_area": (t2 - t1) / max(len(areas), 1)}))
"""


def run_stage(stage: str, warehouse: Path, inbox: Path, work: Path, *, full_refresh=False,
              changed_only=False, docs: str = "-", timeout: float | None = None, log: Path | None = None) -> dict:
    """One stage in a child process: wall seconds, peak MiB of its process tree, its RESULT."""
    cmd = [sys.executable, "-c", STAGE, stage, str(warehouse), str(inbox), str(work / "exports"),
           docs if stage == "publish" else str(work / "validation"), str(EDITION),
           "1" if full_refresh else "0", "1" if changed_only else "0"]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    env.setdefault("BASISMONITOR_PSEUDONYM_KEY", "bench-national-key-not-secret-0123456789")
    lines: list[tuple[float, str]] = []
    start = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, start_new_session=True)
    sampler = MemorySampler(child.pid, 0.2).start()
    timed_out = False
    result: dict = {}
    keep = open(log, "a", encoding="utf-8") if log else None  # noqa: SIM115
    try:
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(child.stdout, selectors.EVENT_READ)
        while True:
            remaining = None if timeout is None else timeout - (time.perf_counter() - start)
            if remaining is not None and remaining <= 0:
                timed_out = True
                os.killpg(child.pid, signal.SIGKILL)
                break
            if not sel.select(timeout=min(remaining, 5.0) if remaining is not None else 5.0):
                if child.poll() is not None:
                    break
                continue
            line = child.stdout.readline()
            if not line:
                break
            if keep:
                keep.write(line)
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
            elif line.startswith("@"):
                at, _, text = line[1:].rstrip("\n").partition(" ")
                lines.append((float(at), text))
        code = child.wait()
    finally:
        sampler.stop()
        if keep:
            keep.close()
    seconds = time.perf_counter() - start
    if not timed_out and code != 0:
        raise SystemExit(f"stage {stage} failed (exit {code}); log: {log}")
    return {"stage": stage, "seconds": seconds, "peak_mib": sampler.peak_mib,
            "peak_pss_mib": sampler.peak_pss_mib, "timed_out": timed_out, "progress": lines, **result}


def ingest_files(progress: list[tuple[float, str]]) -> list[dict]:
    """Seconds per ingested file: the time since the previous per-file line of the ingestion."""
    out, last = [], 0.0
    for at, text in progress:
        parts = text.split()
        if len(parts) >= 4 and parts[3] in ("landed", "replaced", "skipped", "failed"):
            out.append({"source": parts[0], "period": parts[1], "file": parts[2],
                        "status": parts[3], "seconds": at - last})
            last = at
    return out


def exports_seconds(progress: list[tuple[float, str]]) -> float | None:
    """Time to the end of the exports (the DuckDB copy is the last file before the pages)."""
    done = [at for at, text in progress if text.strip().startswith("wrote ") and ".duckdb" in text]
    return done[-1] if done else None


def pages_written(exports: Path) -> int:
    """Compass pages a stopped site stage had written (in the edition's staged site folder)."""
    return sum(1 for _ in exports.glob(f"{EDITION}/.site-*/area/*.html"))


def site_subset(exports: Path, k: int, log: Path | None, timeout: float | None) -> dict | None:
    staged = sorted(exports.glob(".staging-*"), key=lambda p: p.stat().st_mtime)
    editions = [p for p in exports.iterdir() if p.name == str(EDITION)] if exports.exists() else []
    edition_dir = staged[-1] if staged else (editions[0] if editions else None)
    if edition_dir is None:
        return None
    try:
        done = subprocess.run([sys.executable, "-c", SITE_SUBSET, str(edition_dir), str(k)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"load, set-up and {k} pages took longer than {timeout} s"}
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(done.stdout + done.stderr)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    out = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    out["extrapolated_site_seconds"] = (
        out["load_and_setup_seconds"] + out["seconds_per_area"] * out["areas_total"])
    return out


def refresh_run(inbox: Path, work: Path, stages: list[str], args) -> dict:
    work.mkdir(parents=True)
    warehouse = args.warehouse or work / "warehouse" / "basismonitor.duckdb"
    log = work / "stages.log"
    run: dict = {"stages": {}}
    docs = "-"
    for stage in stages:
        timeout = args.publish_timeout if stage in ("publish", "site") else None
        r = run_stage(stage, warehouse, inbox, work, docs=docs, timeout=timeout, log=log)
        if stage == "validate" and r.get("docs_dir"):
            docs = r["docs_dir"]
        entry = {"seconds": r["seconds"], "peak_mib": r["peak_mib"],
                 "peak_pss_mib": r["peak_pss_mib"]}
        if stage == "ingest":
            entry["files"] = ingest_files(r["progress"])
        if stage == "build":
            entry["nodes"] = sorted(r.get("nodes", []), key=lambda n: -n["seconds"])
        if stage == "publish":
            entry["timed_out"] = r["timed_out"]
            entry["exports_seconds"] = exports_seconds(r["progress"])
        if stage == "site":
            entry["timed_out"] = r["timed_out"]
            if r["timed_out"]:
                entry["pages_written"] = pages_written(work / "exports")
            if r["timed_out"] or args.site_areas:
                entry["site_subset"] = site_subset(work / "exports", args.site_areas or 50, log,
                                                   args.publish_timeout)
        run["stages"][stage] = entry
        print(f"  {stage}: {r['seconds']:.1f} s, peak {r['peak_mib']:.0f} MiB RSS, "
              f"{r['peak_pss_mib']:.0f} MiB PSS"
              + (" (stopped at the timeout)" if r["timed_out"] else ""), flush=True)
    again_stages = [s for s in ("publish", "site") if s in stages]
    if args.republish_runs and again_stages:
        run["republish"] = []
        for i in range(args.republish_runs):
            again = {}
            for stage in again_stages:
                r = run_stage(stage, warehouse, inbox, work, docs=docs,
                              timeout=args.publish_timeout, log=log)
                again[stage] = {"seconds": r["seconds"], "peak_mib": r["peak_mib"],
                                "peak_pss_mib": r["peak_pss_mib"], "timed_out": r["timed_out"],
                                "progress": [t for _, t in r["progress"]][-3:]}
            again["seconds"] = sum(again[s]["seconds"] for s in again_stages)
            run["republish"].append(again)
            print(f"  re-publish {i + 1} (nothing changed): "
                  + " + ".join(f"{s} {again[s]['seconds']:.1f} s" for s in again_stages)
                  + f" = {again['seconds']:.1f} s", flush=True)
    return run


def without_last_wave(inbox: Path, into: Path) -> tuple[Path, int]:
    """A symlinked copy of the inbox without the last survey wave; returns it and that wave."""
    waves = sorted(int(p.name) for p in (inbox / "survey").iterdir() if p.name.isdigit())
    last = waves[-1]
    into.mkdir(parents=True)
    for entry in inbox.iterdir():
        if entry.name == "survey":
            (into / "survey").mkdir()
            for wave in (inbox / "survey").iterdir():
                if wave.name != str(last):
                    (into / "survey" / wave.name).symlink_to(wave.resolve())
        else:
            (into / entry.name).symlink_to(entry.resolve())
    return into, last


def copy_warehouse(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True)
    dst = dst_dir / src.name  # the file name is the catalog name the staging views refer to
    shutil.copyfile(src, dst)
    return dst


def differences(a: Path, b: Path, *, tol: float = TOLERANCE) -> dict[str, str]:
    """Tables of the intermediate and marts schemas that differ (built_at left out)."""
    import duckdb

    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute(f"attach '{a}' as wa (read_only)")
    con.execute(f"attach '{b}' as wb (read_only)")
    listing = ("select schema_name || '.' || table_name from duckdb_tables()"
               " where database_name = ? and schema_name in ('intermediate', 'marts')")
    tables_a = {r[0] for r in con.execute(listing, ["wa"]).fetchall()}
    tables_b = {r[0] for r in con.execute(listing, ["wb"]).fetchall()}
    out = {t: "in one warehouse only" for t in tables_a ^ tables_b}
    for table in sorted(tables_a & tables_b):
        schema, name = table.split(".")
        columns = [(c, t) for c, t in con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'wa'"
            " and schema_name = ? and table_name = ? order by column_index", [schema, name],
        ).fetchall() if c != "built_at"]
        select = ", ".join(f'"{c}"' for c, _ in columns)
        na, nb = (con.execute(f"select count(*) from {db}.{table}").fetchone()[0]
                  for db in ("wa", "wb"))
        if na != nb:
            out[table] = f"{na} rows against {nb}"
            continue
        if con.execute(f"select count(*) from (select {select} from wa.{table}"
                       f" except all select {select} from wb.{table})").fetchone()[0] == 0:
            continue
        floats = [c for c, t in columns if t in ("DOUBLE", "FLOAT")]
        others = [c for c, _ in columns if c not in floats]
        order = ", ".join(f'"{c}"' for c in others + floats)
        same = [f'x."{c}" is not distinct from y."{c}"' for c in others] + [
            f'(x."{c}" is not distinct from y."{c}"'
            f' or abs(x."{c}" - y."{c}") <= {tol} * greatest(1, abs(x."{c}")))' for c in floats]
        bad = con.execute(
            f"with x as (select {select}, row_number() over (order by {order}) as _rn"
            f" from wa.{table}), y as (select {select}, row_number() over (order by {order})"
            f" as _rn from wb.{table})"
            f" select count(*) from x join y using (_rn) where not ({' and '.join(same)})"
        ).fetchone()[0]
        if bad:
            names = others + floats
            per_column = con.execute(
                f"with x as (select {select}, row_number() over (order by {order}) as _rn"
                f" from wa.{table}), y as (select {select}, row_number() over (order by {order})"
                f" as _rn from wb.{table}) select "
                + ", ".join(f"count(*) filter (where not ({c}))" for c in same)
                + " from x join y using (_rn)"
            ).fetchone()
            columns_off = {n: k for n, k in zip(names, per_column, strict=True) if k}
            out[table] = f"{bad} of {na} rows differ beyond {tol}: {columns_off}"
    con.close()
    return out


def survey_rows_built(warehouse: Path) -> dict[str, dict[int, int]]:
    """Per incremental survey table: rows per built_at stamp (one stamp per run that wrote)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: {str(s): n for s, n in con.execute(
            f"select built_at, count(*) from intermediate.{t} group by 1 order by 1").fetchall()}
            for t in ("int_respondents_weighted", "int_survey_estimates")}


def wave_runs(inbox: Path, work: Path, runs: int, *, reuse_base: bool = False,
              keep: bool = False) -> dict:
    partial = work / "inbox-without-last-wave"
    if reuse_base and partial.exists():
        last = max(int(p.name) for p in (inbox / "survey").iterdir() if p.name.isdigit())
    else:
        partial, last = without_last_wave(inbox, partial)
    base = work / "base" / "warehouse" / "basismonitor.duckdb"
    log = work / "wave.log"
    if base.exists() and reuse_base:
        print(f"(b) base warehouse: reusing {base}", flush=True)
        made = {}
    else:
        print(f"(b) base warehouse: waves before {last}", flush=True)
        made = {s: run_stage(s, base, partial, work / "base", log=log) for s in ("ingest", "build")}
        print("  base: " + ", ".join(f"{s} {r['seconds']:.1f} s" for s, r in made.items()),
              flush=True)
    out = {"last_wave": last, "base": {s: {"seconds": r["seconds"], "peak_mib": r["peak_mib"]}
                                       for s, r in made.items()}, "runs": []}
    for i in range(runs):
        run_dir = work / f"wave-run{i + 1}"
        landed = copy_warehouse(base, run_dir / "incremental")
        land = run_stage("ingest", landed, inbox, run_dir, log=log)
        full = copy_warehouse(landed, run_dir / "full")
        incr = run_stage("build", landed, inbox, run_dir, changed_only=True, log=log)
        fully = run_stage("build", full, inbox, run_dir, full_refresh=True, log=log)
        diff = differences(landed, full)
        rows = survey_rows_built(landed)
        entry = {
            "land_wave": {"seconds": land["seconds"], "peak_mib": land["peak_mib"],
                          "files": [f for f in ingest_files(land["progress"])
                                    if f["status"] != "skipped"]},
            "incremental_build": {"seconds": incr["seconds"], "peak_mib": incr["peak_mib"],
                                  "nodes": sorted(incr.get("nodes", []),
                                                  key=lambda n: -n["seconds"])},
            "full_refresh_build": {"seconds": fully["seconds"], "peak_mib": fully["peak_mib"],
                                   "nodes": sorted(fully.get("nodes", []),
                                                   key=lambda n: -n["seconds"])},
            "ratio": incr["seconds"] / fully["seconds"],
            "identical": not diff, "differences": diff, "survey_rows_per_run": rows,
        }
        out["runs"].append(entry)
        print(f"  run {i + 1}: land wave {land['seconds']:.1f} s; build incremental "
              f"{incr['seconds']:.1f} s, full refresh {fully['seconds']:.1f} s, ratio "
              f"{entry['ratio']:.1%}; identical: {entry['identical']}"
              + ("" if not diff else f" {diff}"), flush=True)
        if not keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    out["median"] = {
        "land_wave": statistics.median(r["land_wave"]["seconds"] for r in out["runs"]),
        "incremental_build": statistics.median(r["incremental_build"]["seconds"] for r in out["runs"]),
        "full_refresh_build": statistics.median(r["full_refresh_build"]["seconds"]
                                                for r in out["runs"]),
    }
    out["median"]["ratio"] = out["median"]["incremental_build"] / out["median"]["full_refresh_build"]
    out["all_identical"] = all(r["identical"] for r in out["runs"])
    return out


def summarise(runs: list[dict], stages: list[str]) -> dict:
    med = {}
    for stage in stages:
        seconds = [r["stages"][stage]["seconds"] for r in runs]
        peaks = [r["stages"][stage]["peak_mib"] for r in runs]
        pss = [r["stages"][stage].get("peak_pss_mib", 0.0) for r in runs]
        med[stage] = {"seconds": statistics.median(seconds), "runs": seconds,
                      "peak_mib": max(peaks), "peak_pss_mib": max(pss)}
    med["total_seconds"] = statistics.median(sum(r["stages"][s]["seconds"] for s in stages)
                                             for r in runs)
    med["peak_mib"] = max(med[s]["peak_mib"] for s in stages)
    med["peak_pss_mib"] = max(med[s]["peak_pss_mib"] for s in stages)
    return med


def report(path: Path, top: int) -> None:
    """Where the time went, from a result file of this script."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    print(f"{path}: {doc['machine']}; scale {doc['scale']}; started {doc['started']}; "
          f"{doc.get('load_start', '')} .. {doc.get('load_end', '')}")
    print(f"command: {doc.get('command', '')}")
    refresh = doc.get("refresh")
    if refresh:
        runs, med = refresh["runs"], refresh["median"]
        print(f"\n(a) full refresh, {len(runs)} run(s); median per stage:")
        for stage in doc["stages"]:
            m = med[stage]
            print(f"  {stage:<9} {m['seconds']:8.1f} s  peak {m['peak_mib']:7.0f} MiB RSS "
                  f"{m.get('peak_pss_mib', 0):7.0f} MiB PSS  runs "
                  + ", ".join(f"{x:.1f}" for x in m["runs"]))
        print(f"  total     {med['total_seconds']:8.1f} s  peak {med['peak_mib']:7.0f} MiB RSS "
              f"{med.get('peak_pss_mib', 0):7.0f} MiB PSS")
        last = runs[-1]["stages"]
        if "ingest" in last:
            files = sorted(last["ingest"]["files"], key=lambda f: -f["seconds"])
            total = sum(f["seconds"] for f in files)
            by_source: dict[str, float] = {}
            for f in files:
                by_source[f["source"]] = by_source.get(f["source"], 0.0) + f["seconds"]
            print(f"\n  ingest, last run: {len(files)} files, {total:.1f} s; per source: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in
                              sorted(by_source.items(), key=lambda kv: -kv[1])))
            for f in files[:top]:
                print(f"    {f['seconds']:7.1f} s  {f['source']}/{f['period']}/{f['file']}")
        if "build" in last:
            nodes = last["build"]["nodes"]
            models = sum(n["seconds"] for n in nodes if n["node"].startswith("model."))
            tests = sum(n["seconds"] for n in nodes if not n["node"].startswith("model."))
            print(f"\n  dbt build, last run: {len(nodes)} nodes; models {models:.1f} s, seeds,"
                  f" tests and unit tests {tests:.1f} s (summed over 2 threads)")
            for n in nodes[:top]:
                print(f"    {n['seconds']:7.1f} s  {n['node']}")
        if "publish" in last:
            pub = last["publish"]
            print(f"\n  publish, last run: {pub['seconds']:.1f} s"
                  + (" (stopped at the timeout)" if pub.get("timed_out") else "")
                  + f"; exports done after {pub.get('exports_seconds')} s")
        if "site" in last:
            pub = last["site"]
            print(f"\n  site, last run: {pub['seconds']:.1f} s"
                  + (" (stopped at the timeout)" if pub.get("timed_out") else "")
                  + (f"; {pub['pages_written']} compass pages written by then"
                     if "pages_written" in pub else ""))
            sub = pub.get("site_subset")
            if sub and "error" not in sub:
                print(f"    compass pages: load and set-up {sub['load_and_setup_seconds']:.1f} s, "
                      f"{sub['seconds_per_area']:.2f} s per area over {sub['areas_built']} areas; "
                      f"{sub['areas_total']} areas -> ~{sub['extrapolated_site_seconds']:.0f} s")
            elif sub:
                print(f"    compass pages: subset failed: {sub['error'][-300:]}")
        for i, again in enumerate(runs[-1].get("republish", []), 1):
            print(f"\n  re-publish {i} with nothing changed, last run: {again['seconds']:.1f} s"
                  + "".join(f"; {s} {again[s]['seconds']:.1f} s (peak {again[s]['peak_mib']:.0f}"
                            f" MiB RSS, {again[s]['peak_pss_mib']:.0f} MiB PSS)"
                            for s in ("publish", "site") if s in again))
            for s in ("publish", "site"):
                if s in again and again[s]["progress"]:
                    print(f"    {s} said: {again[s]['progress'][-1]}")
    wave = doc.get("add_wave")
    if wave:
        med = wave["median"]
        print(f"\n(b) adding wave {wave['last_wave']}, {len(wave['runs'])} run(s); base "
              + (", ".join(f"{k} {v['seconds']:.1f} s" for k, v in wave["base"].items())
                 or "reused"))
        for i, r in enumerate(wave["runs"], 1):
            print(f"  run {i}: land {r['land_wave']['seconds']:.1f} s; incremental build "
                  f"{r['incremental_build']['seconds']:.1f} s (peak "
                  f"{r['incremental_build']['peak_mib']:.0f} MiB); full refresh "
                  f"{r['full_refresh_build']['seconds']:.1f} s (peak "
                  f"{r['full_refresh_build']['peak_mib']:.0f} MiB); ratio {r['ratio']:.1%}; "
                  f"identical {r['identical']}")
        print(f"  median: land {med['land_wave']:.1f} s; incremental {med['incremental_build']:.1f}"
              f" s; full {med['full_refresh_build']:.1f} s; ratio {med['ratio']:.1%}")
        r = wave["runs"][-1]
        inc = {n["node"]: n["seconds"] for n in r["incremental_build"]["nodes"]}
        full = {n["node"]: n["seconds"] for n in r["full_refresh_build"]["nodes"]}
        print("  slowest nodes of the incremental build (full refresh beside):")
        for node, sec in sorted(inc.items(), key=lambda kv: -kv[1])[:top]:
            print(f"    {sec:7.1f} s  (full {full.get(node, float('nan')):7.1f} s)  {node}")
        for name in ("model.basismonitor.int_respondents_weighted",
                     "model.basismonitor.int_survey_estimates",
                     "model.basismonitor.int_survey_wave_inputs"):
            print(f"    {inc.get(name, float('nan')):7.1f} s  (full {full.get(name, float('nan')):7.1f}"
                  f" s)  {name}")
        print(f"  survey rows written per run (built_at -> rows): {r['survey_rows_per_run']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["small", "national"], default="small")
    parser.add_argument("--inbox", type=Path, help="a generated inbox to read (default: generate)")
    parser.add_argument("--runs", type=int, default=3, help="full refreshes (0: none)")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help="comma-separated subset of " + ",".join(STAGES))
    parser.add_argument("--wave-runs", type=int, default=3, help="adding-a-wave runs (0: none)")
    parser.add_argument("--publish-timeout", type=float,
                        help="stop publish after this many seconds and time the pages on a subset")
    parser.add_argument("--site-areas", type=int, default=0,
                        help="time the compass pages of this many areas (default 50 on a timeout)")
    parser.add_argument("--republish-runs", type=int, default=0,
                        help="(a): then publish and site this many times more, nothing changed")
    parser.add_argument("--warehouse", type=Path,
                        help="(a): run --stages on this warehouse (e.g. publish,site on one an earlier "
                             "run built) instead of a fresh one; it is kept")
    parser.add_argument("--workdir", type=Path, help="work folder (default: a temporary one, removed)")
    parser.add_argument("--out", type=Path,
                        help="JSON result (default: var/bench_national_<scale>.json)")
    parser.add_argument("--reuse-base", action="store_true",
                        help="(b): reuse <workdir>/wave/base from an earlier run (its build is "
                             "then not timed again)")
    parser.add_argument("--keep-wave-warehouses", action="store_true",
                        help="(b): keep each run's incremental and full warehouses in the workdir")
    parser.add_argument("--report", type=Path, help="print where the time went from a result file")
    parser.add_argument("--top", type=int, default=10, help="--report: how many nodes and files")
    args = parser.parse_args(argv)
    if args.report:
        report(args.report, args.top)
        return 0
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}")
    stages = [s for s in STAGES if s in stages]

    keep = args.workdir is not None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-national-"))
    work.mkdir(parents=True, exist_ok=True)
    out_path = args.out or REPO / "var" / f"bench_national_{args.scale}.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {"machine": machine(), "scale": args.scale, "stages": stages,
                    "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load_start": load(),
                    "command": " ".join([Path(sys.executable).name, *sys.argv])}
    try:
        inbox = args.inbox
        if inbox is None:
            from basismonitor.demo import DemoScale, generate

            inbox = work / "inbox"
            scale = DemoScale.national() if args.scale == "national" else DemoScale.small()
            print(f"generating the {args.scale} inbox in {inbox}", flush=True)
            generate(inbox, scale=scale)
        inbox = inbox.resolve()
        result["inbox"] = str(inbox)
        print(f"machine: {machine()}; scale {args.scale}; {load()}", flush=True)
        if args.runs and stages:
            runs = []
            for i in range(args.runs):
                print(f"(a) full refresh, run {i + 1} of {args.runs}", flush=True)
                runs.append(refresh_run(inbox, work / f"refresh-run{i + 1}", stages, args))
                result["refresh"] = {"runs": runs, "median": summarise(runs, stages)}
                out_path.write_text(json.dumps(result, indent=1), encoding="utf-8")
                if not args.warehouse:
                    shutil.rmtree(work / f"refresh-run{i + 1}" / "warehouse", ignore_errors=True)
                shutil.rmtree(work / f"refresh-run{i + 1}" / "exports", ignore_errors=True)
            med = result["refresh"]["median"]
            print("(a) median: " + ", ".join(f"{s} {med[s]['seconds']:.1f} s (peak "
                                             f"{med[s]['peak_mib']:.0f} MiB)" for s in stages)
                  + f"; total {med['total_seconds']:.1f} s; peak {med['peak_mib']:.0f} MiB "
                  f"(targets: <= 900 s and <= 8192 MiB at national scale)", flush=True)
        if args.wave_runs:
            print(f"(b) adding a wave, {args.wave_runs} runs", flush=True)
            result["add_wave"] = wave_runs(inbox, work / "wave", args.wave_runs,
                                           reuse_base=args.reuse_base,
                                           keep=args.keep_wave_warehouses)
            med = result["add_wave"]["median"]
            print(f"(b) median: land the wave {med['land_wave']:.1f} s; build incremental "
                  f"{med['incremental_build']:.1f} s against full refresh "
                  f"{med['full_refresh_build']:.1f} s: {med['ratio']:.1%} (target <= 25%); "
                  f"identical marts: {result['add_wave']['all_identical']}", flush=True)
        result["load_end"] = load()
        out_path.write_text(json.dumps(result, indent=1), encoding="utf-8")
        print(f"result: {out_path}; {load()}")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
