"""Benchmark harness: iamreach at organization scale, one fresh process per measurement.

For each size (S, M, L from :mod:`generate`) it generates the snapshots (once; they are kept in
``benchmarks/out/``), then measures in a fresh subprocess each:

``floor``
    read + gunzip + ``orjson.loads`` of the snapshot with the cyclic GC off: the least any loader can do.
``load``
    :func:`iamreach.snapshot.load` (parse, hash check, record validation).
``build``
    :func:`iamreach.graph.builder.build_graph` on the loaded inventory.
``paths``
    :func:`iamreach.analyses.paths.forbidden_paths` (every forbid rule of the default config).
``check``
    every check of :mod:`iamreach.analyses.checks`.
``diff``
    :func:`iamreach.analyses.diff.diff_snapshots` of the snapshot and a variant that differs in
    1 % of its policies.

Time is ``time.perf_counter`` around the measured call only; memory is the peak resident set
size of the measuring process (``resource.getrusage``), so it includes what the stage needs
before it (the loaded inventory, the graph). Results go to ``benchmarks/out/results.json``, a
dated run block in the ``## Organization scale`` section of ``docs/performance.md`` and a plot
``docs/img/perf-scale.png`` (when matplotlib is importable; else ``--plot-only`` can be run
later by any Python that has it).

Usage::

    python benchmarks/run.py --sizes S,M          # measure, update docs
    python benchmarks/run.py --sizes L --stages build --no-doc
    python benchmarks/run.py --sizes 5:2500:2500 --stages build   # any ACCOUNTS:PRINCIPALS:RESOURCES
    python benchmarks/run.py --profile build --sizes M   # pyinstrument profile of the build
    python benchmarks/run.py --plot-only          # redraw the plot from results.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["STAGES", "measure", "machine_info", "run", "render_block", "update_doc", "plot", "main"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "img" / "perf-scale.png"
SECTION = "## Organization scale"
RUNS_MARK = "<!-- bench:runs (newest first; written by benchmarks/run.py) -->"
STAGES = ("floor", "load", "build", "paths", "check", "diff")
TARGETS = {"L": {"build_s": 60.0, "build_rss_gib": 4.0, "path_query_s": 1.0},
           "M": {"build_s": 5.0}}


# ---------------------------------------------------------------------------------------------
# The child side: one measurement in a fresh interpreter
# ---------------------------------------------------------------------------------------------
def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _config():
    from iamreach.config import load_config

    return load_config(None)


def _load(path: str):
    from iamreach import snapshot

    return snapshot.load(path)


def _build(inv, config):
    from iamreach.graph.builder import build_graph

    return build_graph(inv, config)


def _stage_floor(snap: str, other: str | None) -> dict[str, Any]:
    """Read + gunzip + ``orjson.loads`` with the cyclic GC off: the least any loader can do.

    The same parse with the GC on (Python's default, what ``snapshot.load`` gets) is reported
    as ``parse_gc_s``: on a heap of millions of containers the collector's full passes cost
    several times the parse itself.
    """
    import gc

    import orjson

    c0, t0 = time.process_time(), time.perf_counter()
    data = Path(snap).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    t1 = time.perf_counter()
    gc.disable()
    try:
        doc = orjson.loads(data)
        t2 = time.perf_counter()
        cpu = time.process_time() - c0
    finally:
        gc.enable()
    del doc
    gc.collect()
    t3 = time.perf_counter()
    doc = orjson.loads(data)
    parse_gc = time.perf_counter() - t3
    del doc
    return {"seconds": t2 - t0, "cpu_s": cpu, "read_gunzip_s": t1 - t0, "parse_s": t2 - t1, "parse_gc_s": parse_gc,
            "json_bytes": len(data)}


def _stage_load(snap: str, other: str | None) -> dict[str, Any]:
    c0, t0 = time.process_time(), time.perf_counter()
    inv = _load(snap)
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "principals": len(inv.principals),
            "resources": len(inv.resources), "accounts": len(inv.accounts)}


def _children_cpu() -> tuple[float, float]:
    """(CPU seconds of this process's reaped children, the largest one's peak RSS in MiB)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def _timed_build(inv, config) -> tuple[Any, dict[str, Any]]:
    """The build, as ``iamreach`` runs it (``IAMREACH_BUILD_JOBS``, default: forked processes on
    large inventories). ``cpu_s`` counts the forked processes' CPU too; ``own_cpu_s`` is this one's."""
    k0, _ = _children_cpu()
    c0, t0 = time.process_time(), time.perf_counter()
    G = _build(inv, config)
    seconds, own = time.perf_counter() - t0, time.process_time() - c0
    k1, child_peak = _children_cpu()
    stats = G.graph.get("stats", {})
    out = {"seconds": seconds, "cpu_s": own + (k1 - k0), "own_cpu_s": own, "children_cpu_s": k1 - k0,
           "processes": stats.get("processes", 1), "parts_recomputed": stats.get("parts_recomputed", 0),
           "nodes": G.number_of_nodes(), "edges": G.number_of_edges()}
    if k1 > k0:
        out["child_peak_rss_mib"] = child_peak
    return G, out


def _paths_on(G, config) -> dict[str, Any]:
    import dataclasses

    from iamreach.analyses.paths import forbidden_paths

    c0, t0 = time.process_time(), time.perf_counter()
    result = forbidden_paths(G, config)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rules = {}
    for rule, ps in result.items():  # each rule alone too: the per-query figure
        q0 = time.perf_counter()
        forbidden_paths(G, dataclasses.replace(config, forbid=(rule,)))
        rules[rule.name] = {"query_s": time.perf_counter() - q0, "paths": len(ps.paths),
                            "pairs": len(ps.pairs()), "unknown": len(ps.unknown)}
    worst = max((r["query_s"] for r in rules.values()), default=0.0)
    return {"seconds": seconds, "cpu_s": cpu, "rules": rules, "max_query_s": worst}


def _check_on(G, config) -> dict[str, Any]:
    from iamreach.analyses import checks

    c0, t0 = time.process_time(), time.perf_counter()
    report = _run_checks(checks, G, config)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    findings = getattr(report, "findings", report)
    try:
        count = len(findings)
    except TypeError:
        count = None
    return {"seconds": seconds, "cpu_s": cpu, "findings": count}


def _stage_build(snap: str, other: str | None) -> dict[str, Any]:
    return _timed_build(_load(snap), _config())[1]


def _stage_paths(snap: str, other: str | None) -> dict[str, Any]:
    config = _config()
    G, _ = _timed_build(_load(snap), config)
    return _paths_on(G, config)


def _stage_check(snap: str, other: str | None) -> dict[str, Any]:
    config = _config()
    G, _ = _timed_build(_load(snap), config)
    return _check_on(G, config)


def _stage_graph(snap: str, other: str | None) -> dict[str, Any]:
    """build, paths and check in one process (``--share-build``): each timed, each with the peak so far."""
    config = _config()
    G, build = _timed_build(_load(snap), config)
    build["peak_rss_mib"] = _peak_rss_mib()
    paths = _paths_on(G, config)
    paths["peak_rss_mib"] = _peak_rss_mib()
    check = _check_on(G, config)
    check["peak_rss_mib"] = _peak_rss_mib()
    return {"build": build, "paths": paths, "check": check, "seconds": build["seconds"]}


def _run_checks(checks, G, config):
    """Call the checks package through whichever public entry point it offers."""
    for name in ("run_checks", "run"):
        fn = getattr(checks, name, None)
        if callable(fn):
            return fn(G, config)
    for name in ("default_registry", "build_registry", "registry"):
        factory = getattr(checks, name, None)
        if callable(factory):
            reg = factory()
            return reg.run(G, config)
    raise RuntimeError("iamreach.analyses.checks exposes no run_checks/run/default_registry")


def _stage_diff(snap: str, other: str | None) -> dict[str, Any]:
    from iamreach.analyses.diff import diff_snapshots

    if other is None:
        raise RuntimeError("diff needs --other")
    before, after, config = _load(snap), _load(other), _config()
    k0, _ = _children_cpu()
    c0, t0 = time.process_time(), time.perf_counter()
    result = diff_snapshots(before, after, config)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0 + (_children_cpu()[0] - k0)  # the forked side and build processes too
    data = result.to_dict() if hasattr(result, "to_dict") else {}
    summary = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    timings = getattr(result, "timings", None)
    return {"seconds": seconds, "cpu_s": cpu, "exit_code": getattr(result, "exit_code", None), "summary": summary,
            "timings": dict(timings) if isinstance(timings, dict) else None}


_CHILD = {"floor": _stage_floor, "load": _stage_load, "build": _stage_build, "paths": _stage_paths,
          "check": _stage_check, "diff": _stage_diff, "graph": _stage_graph}


def _child(stage: str, snap: str, other: str | None, profile: str | None) -> int:
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
        profiler.start()
    out = _CHILD[stage](snap, other)
    if profile:
        profiler.stop()
        Path(profile).write_text(profiler.output_text(unicode=False, color=False, show_all=False,
                                                      short_mode=False))
    out["peak_rss_mib"] = _peak_rss_mib()
    print(json.dumps(out))
    return 0


# ---------------------------------------------------------------------------------------------
# The parent side
# ---------------------------------------------------------------------------------------------
def measure(stage: str, snap: Path, other: Path | None = None, *, timeout: float = 3600.0,
            profile: Path | None = None) -> dict[str, Any]:
    """Run one stage in a fresh interpreter; return its figures or ``{"error": ...}``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", stage, "--snapshot", str(snap)]
    if other is not None:
        cmd += ["--other", str(other)]
    if profile is not None:
        cmd += ["--_profile", str(profile)]
    wall = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f}s"}
    wall = time.perf_counter() - wall
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last[:300]}
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"unreadable child output: {proc.stdout[-200:]!r}"}
    out["process_wall_s"] = wall
    return out


def _spec(size: str) -> tuple[int, int, int]:
    """(accounts, principals, resources) of a preset (S, M, L) or of ``A:P:R``."""
    sys.path.insert(0, str(HERE))
    from generate import SIZES

    if size in SIZES:
        s = SIZES[size]
        return s.accounts, s.principals, s.resources
    m = re.fullmatch(r"(\d+):(\d+):(\d+)", size)
    if not m:
        raise SystemExit(f"run.py: size {size!r} is neither one of {sorted(SIZES)} nor ACCOUNTS:PRINCIPALS:RESOURCES")
    a, p, r = (int(x) for x in m.groups())
    return a, p, r


def _snapshot_paths(size: str, seed: int) -> tuple[Path, Path]:
    size = size.replace(":", "x")
    return OUT / f"{size}-seed{seed}.json.gz", OUT / f"{size}-seed{seed}-mut1.json.gz"


def _generate(size: str, seed: int, force: bool) -> dict[str, Any]:
    """Make the snapshot and its 1 % variant if missing; report generation time and file sizes."""
    snap, variant = _snapshot_paths(size, seed)
    OUT.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {}
    for path, extra in ((snap, []), (variant, ["--mutate-percent", "1"])):
        if path.exists() and not force:
            continue
        a, p, r = _spec(size)
        what = ["--size", size] if ":" not in size else ["--accounts", str(a), "--principals", str(p),
                                                         "--resources", str(r)]
        cmd = [sys.executable, str(HERE / "generate.py"), *what, "--seed", str(seed), "-o", str(path), *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(f"generate failed for {size}: {proc.stderr.strip()}")
        key = "generate_s" if not extra else "generate_variant_s"
        info[key] = time.perf_counter() - t0
        info[key.replace("_s", "_line")] = proc.stdout.strip()
    info["snapshot_mb"] = snap.stat().st_size / 1e6
    return info


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, RAM, Python and library versions, git commit."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        m = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        ram = round(int(m.group(1)) / 1024 / 1024, 1) if m else None
    except OSError:
        pass
    versions = {}
    for mod in ("networkx", "orjson"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip() or None
    return {"nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "cpu": cpu, "ram_gib": ram, "python": platform.python_version(),
            "platform": platform.platform(), "commit": commit,
            "build_jobs": os.environ.get("IAMREACH_BUILD_JOBS", "auto"), **versions}


def _best(stage: str, snap: Path, other: Path | None, repeat: int, timeout: float) -> dict[str, Any]:
    """The fastest of ``repeat`` fresh-process measurements (others on the machine add noise)."""
    runs = []
    for _ in range(max(1, repeat)):
        load = os.getloadavg()[0]
        m = measure(stage, snap, other, timeout=timeout)
        m["loadavg_before"] = round(load, 2)
        if "error" in m:
            return m
        runs.append(m)
    best = min(runs, key=lambda m: m["seconds"])
    best["runs"] = [round(m["seconds"], 3) for m in runs]
    return best


def run(sizes: list[str], stages: list[str], seed: int, *, force: bool = False,
        timeout: float = 3600.0, repeat: int = 1, share_build: bool = False) -> dict[str, Any]:
    """Generate (if needed) and measure every stage of every size (best of ``repeat``)."""
    result: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"), "seed": seed,
                              "machine": machine_info(), "sizes": {}, "repeat": repeat,
                              "loadavg": round(os.getloadavg()[0], 2)}
    for size in sizes:
        accounts, principals, resources = _spec(size)
        entry: dict[str, Any] = {"accounts": accounts, "principals": principals,
                                 "resources": resources, "measured": result["date"],
                                 "commit": result["machine"]["commit"]}
        entry.update(_generate(size, seed, force))
        snap, variant = _snapshot_paths(size, seed)
        shared = [s for s in ("build", "paths", "check") if s in stages] if share_build else []
        if shared:
            print(f"[{size}] build+paths+check in one process ...", file=sys.stderr, flush=True)
            m = _best("graph", snap, None, repeat, timeout)
            for stage in shared:
                entry[stage] = m.get(stage, m) if "error" not in m else m
                entry[stage]["shared_process"] = True
                print(f"[{size}] {stage}: {_short(entry[stage])}", file=sys.stderr, flush=True)
        for stage in stages:
            if stage in shared:
                continue
            print(f"[{size}] {stage} ...", file=sys.stderr, flush=True)
            entry[stage] = _best(stage, snap, variant if stage == "diff" else None, repeat, timeout)
            print(f"[{size}] {stage}: {_short(entry[stage])}", file=sys.stderr, flush=True)
        _ratios(entry)
        result["sizes"][size] = entry
    return result


def _ratios(entry: dict[str, Any]) -> None:
    """build / floor and diff / build, on CPU time when both sides have it."""
    def t(stage: str) -> float | None:
        m = entry.get(stage, {})
        return _t(m) if "seconds" in m else None

    floor, build, diff = t("floor"), t("build"), t("diff")
    if floor and build:
        entry["build_over_floor"] = build / floor
    if diff and build:
        entry["diff_over_build"] = diff / build


def _short(m: dict[str, Any]) -> str:
    if "error" in m:
        return "ERROR " + m["error"]
    return f"{m['seconds']:.2f}s (CPU {m.get('cpu_s', float('nan')):.2f}s), peak {m['peak_rss_mib']:.0f} MiB"


# ---------------------------------------------------------------------------------------------
# Reporting: the docs section and the plot
# ---------------------------------------------------------------------------------------------
def _cell(m: dict[str, Any] | None) -> str:
    if not m:
        return "—"
    if "error" in m:
        return "n/a"
    cpu = f" (CPU {m['cpu_s']:.2f})" if "cpu_s" in m else ""
    return f"{m['seconds']:.2f} s{cpu} / {m['peak_rss_mib'] / 1024:.2f} GiB"


def render_block(result: dict[str, Any]) -> str:
    """Markdown block for one run: machine, a table per size and stage, ratios, targets."""
    mach = result["machine"]
    lines = [
        f"### Run {result['date']} (commit {mach.get('commit') or '?'})",
        "",
        f"Machine: {mach['nproc']} CPUs ({mach['cpu']}), {mach['ram_gib']} GiB RAM, Python {mach['python']}, "
        f"networkx {mach.get('networkx')}, orjson {mach.get('orjson')}; IAMREACH_BUILD_JOBS "
        f"{mach.get('build_jobs', 'unset (one process: before the fan-out)')}; seed {result['seed']}; "
        f"best of {result.get('repeat', 1)} fresh process(es) per cell; 1-minute load average "
        f"{result.get('loadavg', '?')} at the start (other work on the machine adds noise).",
        "",
        "| size | accounts | principals | resources | snapshot | floor | load | build | forbidden paths | check | diff (1 %) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, e in result["sizes"].items():
        lines.append(
            f"| {size} | {e['accounts']:,} | {e['principals']:,} | {e['resources']:,} | {e.get('snapshot_mb', 0):.1f} MB | "
            + " | ".join(_cell(e.get(s)) for s in STAGES) + " |")
    lines += ["", "Cells are wall time of the call (its CPU time, forked processes included: a build of 1,000 "
              "actors or more decides its edges in one process per CPU, so its wall time is below its CPU time; "
              "otherwise the code is single-threaded and wall ≈ CPU on an idle machine, the difference being "
              "other work on the machine) / peak RSS of the measuring process (which holds the loaded inventory "
              "and graph the stage needs). n/a: the stage failed or its module has not landed; the error is "
              "below. Targets are judged on CPU time.", ""]
    for size, e in result["sizes"].items():
        notes = []
        b = e.get("build", {})
        if "nodes" in b:
            notes.append(f"graph {b['nodes']:,} nodes / {b['edges']:,} edges")
        if b.get("processes", 1) > 1:
            notes.append(f"build in {b['processes']} processes: {b['seconds']:.1f} s wall, CPU {b['own_cpu_s']:.1f} s "
                         f"here + {b['children_cpu_s']:.1f} s in the forked ones (the largest one's peak RSS "
                         f"{b.get('child_peak_rss_mib', 0) / 1024:.2f} GiB, which counts the pages it shares "
                         "with the measuring process)"
                         + (f", {b['parts_recomputed']} part(s) redone here" if b.get("parts_recomputed") else ""))
        if "build_over_floor" in e:
            notes.append(f"build = {e['build_over_floor']:.1f}× the parse floor")
        if "diff_over_build" in e:
            notes.append(f"diff = {e['diff_over_build']:.2f}× one build")
        p = e.get("paths", {})
        if "max_query_s" in p:
            notes.append(f"slowest forbidden-label query {p['max_query_s']:.2f} s ("
                         + ", ".join(f"{k}: {v['pairs']} pairs, {v['unknown']} unknown" for k, v in p["rules"].items())
                         + ")")
        if e.get("measured") and e["measured"] != result["date"]:
            notes.append(f"measured earlier, {e['measured']} at commit {e.get('commit')}")
        for stage, when in (e.get("earlier") or {}).items():
            notes.append(f"{stage} measured earlier, {when}")
        f = e.get("floor", {})
        if "parse_gc_s" in f:
            notes.append(f"floor {f['seconds']:.2f} s = read+gunzip {f['read_gunzip_s']:.2f} s + orjson "
                         f"{f['parse_s']:.2f} s with the GC off ({f['parse_gc_s']:.2f} s with it on), "
                         f"{f['json_bytes'] / 1e6:.0f} MB of JSON")
        if "generate_s" in e:
            notes.append(f"generated in {e['generate_s']:.1f} s")
        for s in STAGES:
            if "error" in e.get(s, {}):
                notes.append(f"{s}: `{e[s]['error']}`")
        if notes:
            lines.append(f"- **{size}**: " + "; ".join(notes) + ".")
    verdicts = _targets(result)
    if verdicts:
        lines += ["", "Targets: " + "; ".join(verdicts) + "."]
    lines += ["", f"![time and memory against size]({PLOT.relative_to(DOC.parent).as_posix()})", ""]
    return "\n".join(lines)


def _t(m: dict[str, Any]) -> float:
    """The time a target is judged on: CPU time when measured (robust to a busy machine), else wall."""
    return m.get("cpu_s", m["seconds"])


def _targets(result: dict[str, Any]) -> list[str]:
    out = []
    sizes = result["sizes"]

    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    L, M = sizes.get("L", {}), sizes.get("M", {})
    if "seconds" in L.get("build", {}):
        b = L["build"]
        out.append(f"L build ≤ 60 s: {_t(b):.1f} s {mark(_t(b) <= 60)}")
        out.append(f"L peak ≤ 4 GiB: {b['peak_rss_mib'] / 1024:.2f} GiB {mark(b['peak_rss_mib'] <= 4096)}")
    if "seconds" in M.get("build", {}):
        out.append(f"M build ≤ 5 s: {_t(M['build']):.1f} s {mark(_t(M['build']) <= 5)}")
    if "max_query_s" in L.get("paths", {}):
        q = L["paths"]["max_query_s"]
        out.append(f"L path query ≤ 1 s: {q:.2f} s {mark(q <= 1)}")
    if "diff_over_build" in L:
        out.append(f"L diff ≤ 2× build: {L['diff_over_build']:.2f}× {mark(L['diff_over_build'] <= 2)}")
    for size, e in sizes.items():
        if "build_over_floor" in e:
            out.append(f"{size} build ≤ 5× floor: {e['build_over_floor']:.1f}× {mark(e['build_over_floor'] <= 5)}")
    return out


_INTRO = f"""{SECTION}

Measured by `benchmarks/run.py` on organizations generated by `benchmarks/generate.py` (S: 1
account, 500 principals, 500 resources; M: 20 accounts, 10,000 principals, 10,000 resources;
L: 200 accounts, 100,000 principals, 50,000 resources, over 1,000,000 policy statements).
Every figure comes from a fresh Python process; the *floor* is reading, gunzipping and
`orjson.loads` of the snapshot with Python's cyclic GC switched off, the least any loader
can do (the same parse with the GC on is given beside it). Reproduce with
`python benchmarks/run.py --sizes S,M,L` (see `benchmarks/README.md`).

{RUNS_MARK}
"""


def update_doc(block: str, doc: Path = DOC) -> None:
    """Insert a run block at the top of this harness's section, creating what is missing.

    Only the ``## Organization scale`` section is touched; other sections of the file (owned by
    other people) are kept byte for byte.
    """
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + _INTRO + "\n" + block + "\n"
    else:
        nxt = re.search(r"^## ", text[start + len(SECTION):], re.M)
        end = start + len(SECTION) + nxt.start() if nxt else len(text)
        section = text[start:end]
        if RUNS_MARK not in section:
            section = _INTRO + section[len(SECTION):].lstrip("\n")
        section = section.replace(RUNS_MARK, RUNS_MARK + "\n\n" + block.rstrip("\n"), 1).rstrip("\n") + "\n\n"
        text = text[:start] + section + text[end:]
    from iamreach.fileio import atomic_write_bytes

    atomic_write_bytes(doc, text.rstrip("\n").encode() + b"\n", mode=0o644)


def plot(result: dict[str, Any], path: Path = PLOT) -> bool:
    """Draw time and peak memory against principals (log-log); False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (run --plot-only with a Python that has it)",
              file=sys.stderr)
        return False
    sizes = sorted(result["sizes"].items(), key=lambda kv: kv[1]["principals"])
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    for stage in STAGES:
        xs = [e["principals"] for _, e in sizes if "seconds" in e.get(stage, {})]
        if not xs:
            continue
        ts = [e[stage]["seconds"] for _, e in sizes if "seconds" in e.get(stage, {})]
        ms = [e[stage]["peak_rss_mib"] / 1024 for _, e in sizes if "seconds" in e.get(stage, {})]
        ax_t.plot(xs, ts, marker="o", label=stage)
        ax_m.plot(xs, ms, marker="o", label=stage)
    for ax, title, unit in ((ax_t, "time of the call", "seconds"), (ax_m, "peak RSS of the process", "GiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("principals (S / M / L)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.axhline(60, color="grey", linestyle="--", linewidth=0.8)
    ax_m.axhline(4, color="grey", linestyle="--", linewidth=0.8)
    ax_t.legend(fontsize=8)
    mach = result["machine"]
    fig.suptitle(f"iamreach at organization scale — {mach['nproc']} CPUs, {mach['ram_gib']} GiB, "
                 f"Python {mach['python']}, {result['date']}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return True


def _merge_previous(result: dict[str, Any]) -> dict[str, Any]:
    """Keep sizes, and stages of a size, measured by an earlier run (same seed) that this run did
    not measure (the notes below the table say which, and when)."""
    path = OUT / "results.json"
    if not path.exists():
        return result
    try:
        old = json.loads(path.read_text())
    except ValueError:
        return result
    if old.get("seed") != result["seed"]:
        return result
    merged = dict(result)
    for size, entry in result["sizes"].items():  # stages of a size this run did not measure
        before = old.get("sizes", {}).get(size)
        if not before:
            continue
        carried = [s for s in STAGES if s in before and s not in entry]
        when = f"{before.get('measured')} at commit {before.get('commit')}"
        for stage in carried:
            entry[stage] = before[stage]
            entry.setdefault("earlier", {})[stage] = before.get("earlier", {}).get(stage, when)
        if carried:
            _ratios(entry)
    merged["sizes"] = {**{k: v for k, v in old.get("sizes", {}).items() if k not in result["sizes"]},
                       **result["sizes"]}
    merged["sizes"] = dict(sorted(merged["sizes"].items(), key=lambda kv: kv[1]["principals"]))
    return merged


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="iamreach organization-scale benchmarks")
    p.add_argument("--sizes", default="S,M", help="comma-separated sizes (default S,M)")
    p.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated stages (default {','.join(STAGES)})")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--force", action="store_true", help="regenerate snapshots even if present")
    p.add_argument("--timeout", type=float, default=3600.0, help="per-measurement timeout, seconds")
    p.add_argument("--repeat", type=int, default=1, help="fresh-process runs per measurement; the fastest counts")
    p.add_argument("--share-build", action="store_true",
                   help="measure build, paths and check in one process (one build instead of three)")
    p.add_argument("--no-doc", action="store_true", help="do not touch docs/performance.md or the plot")
    p.add_argument("--plot-only", action="store_true", help="redraw the plot from benchmarks/out/results.json")
    p.add_argument("--profile", metavar="STAGE", help="profile one stage with pyinstrument (per size)")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    p.add_argument("--_profile", help=argparse.SUPPRESS)
    p.add_argument("--snapshot", help=argparse.SUPPRESS)
    p.add_argument("--other", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    if args._child:
        return _child(args._child, args.snapshot, args.other, args._profile)
    if args.plot_only:
        return 0 if plot(json.loads((OUT / "results.json").read_text())) else 1
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.profile:
        sys.path.insert(0, str(HERE))
        for size in sizes:
            _generate(size, args.seed, args.force)
            snap, variant = _snapshot_paths(size, args.seed)
            out = OUT / f"profile-{args.profile}-{size}.txt"
            m = measure(args.profile, snap, variant if args.profile == "diff" else None, timeout=args.timeout,
                        profile=out)
            print(f"[{size}] {args.profile}: {_short(m)}; profile in {out}")
        return 0
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    bad = sorted(set(stages) - set(STAGES))
    if bad:
        print(f"run.py: unknown stage(s) {bad}; expected {list(STAGES)}", file=sys.stderr)
        return 2
    result = _merge_previous(run(sizes, stages, args.seed, force=args.force, timeout=args.timeout,
                                 repeat=args.repeat, share_build=args.share_build))
    from iamreach.fileio import atomic_write_bytes

    atomic_write_bytes(OUT / "results.json", (json.dumps(result, indent=2) + "\n").encode(), mode=0o644)
    print(render_block(result))
    if not args.no_doc:
        update_doc(render_block(result))
        plot(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
