"""`make bench`: rightsend's daily chain at scale, stage by stage, against the peers.

    python -m benchmarks.run --preset {tiny,small,medium,default} [--customers N --days H]
                             [--skip-peers] [--no-half] [--regenerate] [--profile STAGE,...]

1. Demo data for ``days + 1`` days ending D+1 is generated into benchmarks/work/ (kept and
   reused while customers/days/seed/end date are unchanged; --regenerate forces it).
2. The full first run for D: ingest (every dt <= D), dbt build, training, scoring, decide,
   dispatch, exports - each stage in its own process (benchmarks/measure.py) for its wall
   time and peak memory.
3. The peers on the same warehouse at D: RFM in pandas, in one DuckDB query, and through
   dbt; the LightGBM floor (booster.predict on the same feature matrix).
4. The incremental next day D+1: only dt=D+1 is new in the landing zone.
5. Steps 1, 2 and 4 again with half the history, to show the daily run grows with the new
   day's data rather than with history (--no-half skips it).

Prints the tables and writes benchmarks/results/<timestamp>-<preset>.{md,csv} and latest.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.measure import Measurement, measure

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "results"


class Preset(NamedTuple):
    customers: int
    days: int  # of history
    activity: float  # rightsend.demo.generate's marketing cadence and browsing
    gzip: bool  # every landed file gzipped (the disk: ~5x smaller)
    # DuckDB's memory limit for every stage (RIGHTSEND_DUCKDB_MEMORY, unless set): past it
    # DuckDB spills, but a few operators cannot (fct_message_events' window over a send)
    duckdb_memory: str = "4GB"


PRESETS = {
    "tiny": Preset(100, 10, 1.0, False),
    "small": Preset(20_000, 120, 1.0, False),
    # The default scale: 1M customers, 12 months, tens of millions of message events
    # (activity 0.2: ~50M at 1M customers, where the demo's busy list, 1.0, sends ~210M)
    # and a few million orders (~13M line items: orders keep their rate at any activity).
    "medium": Preset(200_000, 365, 0.2, True),
    # 6 GB: at 4 GB the first build's fct_message_events runs out of memory (it needs ~1/15 of
    # that at 200k x 120, which is 1/15 of the rows) - and every stage stays under the 8 GB target
    "default": Preset(1_000_000, 365, 0.2, True, "6GB"),
}
END_DATE = "2026-11-20"
# Disk per customer-day of history, measured at the small preset (728 MB landed, ~420 MB of
# warehouse after the incremental day for 20k customers x 121 days): the preflight check.
# Both shrink with the demo's activity (100 B landed at 0.2: see disk_per_customer_day) and
# gzip divides the landing zone by ~GZIP_RATIO.
LANDING_BYTES = 300
WAREHOUSE_BYTES = 180
GZIP_RATIO = 5
# DuckDB's temp directory during the first build, which spills what does not fit its memory
# limit: 43 GB at its peak (in fct_web_events) for 1M x 366 at 0.2 and 6 GB, i.e. ~117 B per
# customer-day at 0.2, ~360 B at 1.0. Held only while one build runs: counted once, not per
# history. Smaller scales spill little or nothing: there it only makes the check cautious.
SPILL_BYTES = 360
CHAIN = ("ingest", "build", "train", "score", "decide", "dispatch", "exports")
TARGETS = {
    "full_run_seconds": 15 * 60,
    "full_run_peak_mb": 8 * 1024,
    "incremental_seconds": 3 * 60,
    "dbt_vs_floor_max": 2.0,
    "pandas_vs_dbt_min": 5.0,
}


# ------------------------------------------------------------------------------------ machine
def machine() -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("duckdb", "pandas", "lightgbm", "dbt.version"):
        try:
            m = __import__(mod, fromlist=["x"])
            versions[mod.split(".")[0]] = getattr(m, "__version__", None) or getattr(m, "__version__", "?")
        except Exception:  # noqa: BLE001
            versions[mod.split(".")[0]] = "?"
    try:
        from dbt.version import __version__ as dbt_version

        versions["dbt"] = dbt_version
    except Exception:  # noqa: BLE001
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
        )
    except OSError:
        commit, dirty = "?", False
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "versions": versions,
        "commit": commit + (" (+ uncommitted changes)" if dirty else ""),
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
    }


# ------------------------------------------------------------------------------------ runner
class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.customers, self.days = args.customers, args.days
        self.d = args.end_date
        self.d1 = (date.fromisoformat(self.d) + timedelta(days=1)).isoformat()
        self.rows: list[dict[str, Any]] = []  # every measurement, for the CSV
        self.m: dict[tuple[int, str, str], Measurement] = {}  # (history, phase, name) -> measurement
        self.profile = set(filter(None, (args.profile or "").split(",")))
        self.work = Path(args.work_dir)
        self.results = Path(args.results_dir)
        self.env = {"DBT_LOG_PATH": str(self.work / "dbt-logs")}
        self.resuming = bool(args.resume)  # until the first stage that runs again
        self.on_measured: Callable[[], None] | None = None  # saves the results so far

    def log(self, history: int, phase: str, name: str) -> Path:
        """A stage's log; its result and measurement are saved beside it (.result/.measurement.json)."""
        return self.workdir(history) / "logs" / f"{phase}-{name}.log"

    def workdir(self, history: int) -> Path:
        activity = "" if self.args.activity == 1 else f"-activity{self.args.activity:g}"
        return self.work / f"{self.customers}x{history}-seed{self.args.seed}{activity}"

    def run_one(
        self, history: int, phase: str, name: str, target: str, args: list[Any], **kw: Any
    ) -> Measurement:
        log = self.log(history, phase, name)
        env = {**self.env, **kw.pop("env", {})}
        print(f"  [{datetime.now():%H:%M:%S}] {phase:<12} {name:<18} ...", end="", flush=True)
        m = measure(
            target, args, log=log, env=env, profile=kw.pop("profile", False), timeout=self.args.stage_timeout
        )
        secs = "-" if m.seconds is None else f"{m.seconds:8.1f}s"
        extra = "" if m.status == "ok" else f"  {m.status.upper()}: {m.error}  (log {log})"
        print(f" {secs} {m.peak_rss_mb:8.0f} MB{extra}", flush=True)
        log.with_suffix(".measurement.json").write_text(json.dumps(asdict(m), default=str))
        self._record(history, phase, name, m)
        if self.on_measured:
            self.on_measured()  # a run stopped hours in keeps every figure measured so far
        return m

    def _record(self, history: int, phase: str, name: str, m: Measurement) -> None:
        self.m[(history, phase, name)] = m
        rows = m.result.get("rows") if isinstance(m.result.get("rows"), int | float) else None
        self.rows.append(
            {
                "history_days": history,
                "phase": phase,
                "name": name,
                "run_date": self.d1 if phase == "incremental" else self.d,
                "status": m.status,
                "seconds": m.seconds,
                "process_seconds": m.process_seconds,
                "cpu_seconds": m.cpu_seconds,
                "peak_rss_mb": m.peak_rss_mb,
                "rows": rows,
                "unit": m.result.get("unit", ""),
                "rows_per_second": round(rows / m.seconds) if rows and m.seconds else None,
                "error": m.error or "",
            }
        )

    # -- data
    def ensure_landing(self, history: int) -> None:
        wd = self.workdir(history)
        marker = wd / "landing.json"
        want = {
            "customers": self.customers,
            "days": history + 1,
            "end_date": self.d1,
            "seed": self.args.seed,
            "activity": self.args.activity,
            "gzip": self.args.gzip,
            "demo_code": _demo_fingerprint(),
        }
        if (
            not self.args.regenerate
            and marker.exists()
            and json.loads(marker.read_text()).get("spec") == want
        ):
            cached = json.loads(marker.read_text())
            print(f"  landing zone for {self.customers:,} x {history + 1} days reused ({wd / 'landing'})")
            self.m[(history, "data", "generate")] = Measurement(**cached["measurement"])
            self.m[(history, "data", "generate")].status = "ok (cached)"
            return
        shutil.rmtree(wd / "landing", ignore_errors=True)
        marker.unlink(missing_ok=True)
        m = self.run_one(
            history,
            "data",
            "generate",
            "benchmarks.stages:generate",
            [
                str(wd / "landing"),
                self.customers,
                history + 1,
                self.d1,
                self.args.seed,
                self.args.activity,
                self.args.gzip,
            ],  # fmt: skip
        )
        if m.status != "ok":
            raise SystemExit(f"demo data generation failed: {m.error} (see {m.log})")
        marker.write_text(json.dumps({"spec": want, "measurement": asdict(m)}, default=str))

    # -- the chain
    def chain(self, history: int, phase: str, run_date: str) -> None:
        wd = str(self.workdir(history))
        for stage in CHAIN:
            saved = self.log(history, phase, stage).with_suffix(".measurement.json")
            earlier = json.loads(saved.read_text()) if self.resuming and saved.exists() else {}
            if earlier.get("status") == "ok":
                m = Measurement(**{**earlier, "status": "ok (earlier run)"})
                print(f"  {phase:<12} {stage:<18} reused from the earlier run: {m.seconds:8.1f}s")
                self._record(history, phase, stage, m)
                continue
            if self.resuming and stage == "build" and phase == "full":
                self.drop_dbt_schemas(history)  # a first build again, not an incremental one
            self.resuming = False  # every stage after one that runs again runs again
            self.run_one(
                history,
                phase,
                stage,
                f"benchmarks.stages:{stage}",
                [wd, run_date],
                profile=stage in self.profile,
            )

    def drop_dbt_schemas(self, history: int) -> None:
        """Empty what a build writes: the schemas of the project's models, seeds and snapshots
        (read from dbt's manifest, so a new schema is never missed) and the peer's schema."""
        from benchmarks.peers import PEER_SCHEMA
        from benchmarks.stages import settings_for
        from rightsend import transform, warehouse

        settings = settings_for(self.workdir(history))
        nodes = json.loads(transform.ensure_manifest(settings).read_text())["nodes"].values()
        schemas = {n["schema"] for n in nodes if n["resource_type"] in ("model", "seed", "snapshot")}
        with warehouse.connect(settings) as con:
            for schema in sorted(schemas | {PEER_SCHEMA}):
                con.execute(f"drop schema if exists {schema} cascade")

    # -- peers
    def peers(self, history: int) -> None:
        wd = self.workdir(history)
        out = wd / "peers"
        out.mkdir(parents=True, exist_ok=True)
        target = wd / "dbt-target"
        target.mkdir(parents=True, exist_ok=True)
        frames = {}
        for name in ("rfm_pandas", "rfm_duckdb"):
            path = out / f"{name}.pkl"
            path.unlink(missing_ok=True)
            m = self.best_of(history, name, f"benchmarks.stages:{name}", [str(wd), self.d, str(path)])
            if m.status == "ok":
                frames[name] = str(path)
        self.run_one(
            history, "peer", "dbt_parse", "benchmarks.stages:rfm_dbt", [str(wd), self.d, "parse", str(target)]
        )
        for command in ("run", "build"):
            self.best_of(
                history,
                f"rfm_dbt_{command}",
                "benchmarks.stages:rfm_dbt",
                [str(wd), self.d, command, str(target)],
            )
        self.run_one(
            history, "peer", "rfm_compare", "benchmarks.stages:rfm_compare", [str(wd), self.d, frames]
        )
        self.run_one(history, "peer", "scoring_floor", "benchmarks.stages:scoring_floor", [str(wd), self.d])

    def best_of(self, history: int, name: str, target: str, args: list[Any]) -> Measurement:
        """The RFM peers take seconds: run each --repeat times and keep the fastest (all go to the CSV)."""
        best: Measurement | None = None
        for _ in range(max(1, self.args.repeat)):
            m = self.run_one(history, "peer", name, target, args)
            if best is None or (
                m.status == "ok" and (best.seconds is None or (m.seconds or 0) < best.seconds)
            ):
                best = m
        self.m[(history, "peer", name)] = best
        return best

    def histories(self) -> list[int]:
        return [self.days] + ([self.days // 2] if not self.args.no_half and self.days // 2 >= 2 else [])

    def preflight(self) -> None:
        """Refuse early when the disk cannot hold the landing zones, the warehouses and a build's spill."""
        histories = {
            h: (self.workdir(h) / "landing.json").exists() and not self.args.regenerate
            for h in self.histories()
        }
        need = disk_needed(self.customers, histories, self.args.activity, self.args.gzip)
        landed, kept, spill = disk_per_customer_day(self.args.activity, self.args.gzip)
        self.work.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.work).free
        print(
            f"  disk: about {need / 2**30:,.1f} GB needed (~{landed:.0f} B landed, ~{kept:.0f} B of "
            f"warehouse and ~{spill:.0f} B of DuckDB spill per customer-day), {free / 2**30:,.1f} GB free"
        )
        if need > free and not self.args.force:
            raise SystemExit(
                f"not enough disk under {self.work}: about {need / 2**30:,.0f} GB needed, {free / 2**30:,.0f} GB "
                "free (use a smaller preset, --work-dir on a bigger disk, or --force)"
            )

    def run(self) -> None:
        histories = self.histories()
        self.preflight()
        for h in histories:
            print(
                f"\n== {self.customers:,} customers, {h} days of history: full run {self.d}, incremental {self.d1}"
            )
            self.ensure_landing(h)
            if not self.args.resume:
                shutil.rmtree(self.workdir(h) / "run", ignore_errors=True)
            self.chain(h, "full", self.d)
            if h == self.days and not self.args.skip_peers:
                self.peers(h)
            self.chain(h, "incremental", self.d1)


def _demo_fingerprint() -> str:
    """Demo generator code: a changed simulation invalidates the cached landing zone."""
    import hashlib

    h = hashlib.sha256()
    for p in sorted((ROOT / "rightsend" / "demo").glob("*.py")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:12]


# ------------------------------------------------------------------------------------ report
def _f(x: Any, nd: int = 1) -> str:
    if x is None or x == "":
        return "-"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_f(c) for c in r) + " |" for r in rows]
    return out


def disk_per_customer_day(activity: float, gzip: bool) -> tuple[float, float, float]:
    """(landed, warehouse, spill) bytes per customer-day: ~16% of the rows (orders, profiles,
    catalog, consent) do not scale with activity (measured: 300 B at 1.0, 100 B at 0.2, 5k x 60)."""
    share = 0.16 + 0.84 * activity
    return LANDING_BYTES * share / (GZIP_RATIO if gzip else 1), WAREHOUSE_BYTES * share, SPILL_BYTES * share


def disk_needed(customers: int, histories: dict[int, bool], activity: float, gzip: bool) -> float:
    """Bytes the run needs on disk, for {days of history: landing zone already cached}: every
    history's landing zone (unless cached) and warehouse stay, plus one build's spill at a time."""
    landed, kept, spill = disk_per_customer_day(activity, gzip)
    days = {h: customers * (h + 1) for h in histories}
    stay = sum(n * ((0 if histories[h] else landed) + kept) for h, n in days.items())
    return stay + max(days.values(), default=0) * spill


def _ok(m: Measurement | None) -> bool:
    return m is not None and m.status.startswith("ok") and m.seconds is not None


def report(b: Bench, info: dict[str, Any], preset: str, notes: list[str]) -> str:
    H, H2 = b.days, b.days // 2
    L: list[str] = []
    L.append(f"# rightsend benchmark - preset `{preset}`: {b.customers:,} customers x {H} days")
    L.append("")
    L.append(
        f"Run {info['finished']} on {info['cores']} cores, {info['memory_gb']} GB RAM ({info['cpu']}); "
        f"Python {info['python']}, "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + f"; DuckDB memory limit {info['duckdb_memory']}"
        + f"; commit {info['commit']}. Load average at start {info['load_avg_start']}, "
        f"at end {info['load_avg_end']} (the machine was shared with other work: figures are upper bounds)."
    )
    L.append("")
    L.append(
        "Each stage is the project's own stage function (the same ones the Airflow tasks call), run "
        "directly, each in a fresh process: wall time of the call (imports excluded) and the process's "
        "peak RSS (`os.wait4` rusage). Airflow's own scheduling overhead is not included."
    )
    # data
    gen = b.m.get((H, "data", "generate"))
    full_ing = b.m.get((H, "full", "ingest"))
    inc_ing = b.m.get((H, "incremental", "ingest"))
    L += ["", "## Data", ""]
    if gen:
        L.append(
            f"Demo data: {H + 1} days ending {b.d1}, demo activity {b.args.activity:g}"
            f"{', every file gzipped' if b.args.gzip else ''}, generated in {_f(gen.seconds)} s "
            f"(peak {_f(gen.peak_rss_mb, 0)} MB){' - reused from an earlier run' if 'cached' in gen.status else ''}."
        )
    srcs = sorted(((full_ing.result if _ok(full_ing) else {}) or {}).get("by_source", {}))
    if srcs:
        rows = []
        for s in srcs:
            f = full_ing.result["by_source"][s]
            i = (inc_ing.result.get("by_source", {}) if _ok(inc_ing) else {}).get(s, {})
            rows.append([s, f["files"], f["loaded"], f["quarantined"], i.get("loaded"), i.get("quarantined")])
        tot = [sum(r[k] or 0 for r in rows) for k in range(1, 6)]
        rows.append(["**total**", *tot])
        L.append("")
        L += _table(
            [
                "source",
                "files (full)",
                f"rows loaded, full run {b.d}",
                "quarantined",
                f"rows loaded, next day {b.d1}",
                "quarantined",
            ],
            rows,
        )
    build = b.m.get((H, "full", "build"))
    if _ok(build):
        L.append("")
        L.append(f"Warehouse after the full run: {build.result.get('warehouse_bytes', 0) / 2**20:,.0f} MB.")

    # chain tables
    def chain_rows(h: int, phase: str) -> tuple[list[list[Any]], float, float]:
        rows, total, peak = [], 0.0, 0.0
        for s in CHAIN:
            m = b.m.get((h, phase, s))
            if m is None:
                continue
            r = m.result.get("rows") if isinstance(m.result.get("rows"), int | float) else None
            status = m.status if m.status == "ok" else f"**{m.status}**"
            note = _stage_note(s, m)
            rows.append(
                [
                    s,
                    status,
                    m.seconds,
                    m.cpu_seconds,
                    f"{m.peak_rss_mb:,.0f}",
                    r,
                    m.result.get("unit", ""),
                    round(r / m.seconds) if r and m.seconds else None,
                    note,
                ]
            )
            total += m.seconds or 0
            peak = max(peak, m.peak_rss_mb)
        return rows, total, peak

    heads = ["stage", "status", "seconds", "CPU s", "peak RSS MB", "rows", "unit", "rows/s", "note"]
    full_rows, full_total, full_peak = chain_rows(H, "full")
    L += ["", f"## Full first run, {b.d} ({H} days of history, empty warehouse)", ""]
    L += _table(heads, full_rows)
    L.append(
        f"\n**Whole chain{_so_far(b, H, 'full')}: {full_total:,.1f} s ({full_total / 60:.1f} min), "
        f"peak memory {full_peak:,.0f} MB;** CPU {_cpu(b, H, 'full'):,.0f} s on {info['cores']} cores."
    )
    inc_rows, inc_total, inc_peak = chain_rows(H, "incremental")
    L += ["", f"## Incremental next day, {b.d1} (only dt={b.d1} is new)", ""]
    L += _table(heads, inc_rows)
    L.append(
        f"\n**Whole chain{_so_far(b, H, 'incremental')}: {inc_total:,.1f} s ({inc_total / 60:.1f} min), "
        f"peak memory {inc_peak:,.0f} MB;** CPU {_cpu(b, H, 'incremental'):,.0f} s."
    )
    half = [s for s in CHAIN if (H2, "incremental", s) in b.m]
    half_total = None
    if half:
        _, half_full_total, half_full_peak = chain_rows(H2, "full")
        _, half_total, half_peak = chain_rows(H2, "incremental")
        L += [
            "",
            f"## Does the daily run grow with history? Incremental day at {H} vs {H2} days of history",
            "",
        ]
        rows = []
        for s in CHAIN:
            a, c = b.m.get((H, "incremental", s)), b.m.get((H2, "incremental", s))
            ra = a.result.get("rows") if a else None
            rc = c.result.get("rows") if c else None
            rows.append(
                [
                    s,
                    a.seconds if a else None,
                    ra,
                    c.seconds if c else None,
                    rc,
                    round(a.seconds / c.seconds, 2) if _ok(a) and _ok(c) and c.seconds else None,
                ]
            )
        rows.append(
            [
                "**chain**",
                inc_total,
                None,
                half_total,
                None,
                round(inc_total / half_total, 2) if half_total else None,
            ]
        )
        L += _table(["stage", f"s @ {H} d", f"rows @ {H} d", f"s @ {H2} d", f"rows @ {H2} d", "ratio"], rows)
        L.append(
            f"\n(Full first run at {H2} days: {half_full_total:,.1f} s, peak {half_full_peak:,.0f} MB. A ratio near 1.0 "
            f"means the stage grows with the new day's data; near {H / H2:.1f} means it grows with history.)"
        )

    # peers
    pd_m, dk, dr, db = (
        b.m.get((H, "peer", n)) for n in ("rfm_pandas", "rfm_duckdb", "rfm_dbt_run", "rfm_dbt_build")
    )
    cmp_m = b.m.get((H, "peer", "rfm_compare"))
    ratios: dict[str, float | None] = {}
    if dk or pd_m:
        floor = dk.seconds if _ok(dk) else None
        eq = cmp_m.result if _ok(cmp_m) else {}
        L += [
            "",
            f"## RFM per customer at {b.d}: dbt vs the peers (fastest of {b.args.repeat} runs each)",
            "",
        ]
        rows = []
        for label, m, key in (
            ("pandas notebook (read raw.orders + raw.customers, join, score)", pd_m, "rfm_pandas"),
            ("one DuckDB query on the raw tables (the floor)", dk, "rfm_duckdb"),
            ("`dbt run --select +mart_customer_rfm` (models only)", dr, None),
            ("`dbt build --select +mart_customer_rfm` (with its tests)", db, None),
        ):
            if m is None:
                continue
            e = eq.get(key) if key else None
            equal = (
                "the mart itself"
                if key is None
                else ("yes" if e and e.get("equal") else (f"NO: {e}" if e else "-"))
            )
            node = m.result.get("node_seconds")
            rows.append(
                [
                    label,
                    m.status,
                    m.seconds,
                    node,
                    f"{m.peak_rss_mb:,.0f}",
                    round(m.seconds / floor, 2) if floor and _ok(m) else None,
                    equal,
                ]
            )
        L += _table(
            [
                "method",
                "status",
                "seconds",
                "dbt node seconds",
                "peak RSS MB",
                "x floor",
                "equal to mart_customer_rfm",
            ],
            rows,
        )
        if _ok(dr) and floor:
            ratios["dbt_vs_floor"] = dr.seconds / floor
            ratios["dbt_nodes_vs_floor"] = (dr.result.get("node_seconds") or 0) / floor
        if _ok(dr) and _ok(pd_m):
            ratios["pandas_vs_dbt"] = pd_m.seconds / dr.seconds
        if _ok(pd_m):
            L.append(
                f"\npandas: {pd_m.result.get('read_seconds')} s reading the raw tables' RFM columns into pandas, "
                f"{pd_m.result.get('compute_seconds')} s computing. "
                f"Customers with RFM: mart {eq.get('mart_customers', '-')}."
            )
        if _ok(dr):
            nodes = sorted((dr.result.get("nodes") or {}).items(), key=lambda kv: -kv[1])[:6]
            L.append("dbt run, slowest nodes: " + ", ".join(f"{k} {v:.1f} s" for k, v in nodes) + ".")
            L.append(
                "The dbt models resolve identity over every source (int_identifiers_stitched_to_customers reads "
                "email, SMS, push, web and consent events too), which the RFM peers need not do for this data."
            )

    # scoring
    sc, fl = b.m.get((H, "full", "score")), b.m.get((H, "peer", "scoring_floor"))
    if _ok(sc) and _ok(fl) and fl.result.get("candidate_rows"):
        r = fl.result
        cand = r["candidate_rows"]
        L += ["", "## LightGBM batch scoring: models_ml.predict vs booster.predict", ""]
        rows = [
            [
                "models_ml.predict.run (whole stage)",
                sc.seconds,
                cand,
                round(cand / sc.seconds),
                f"{sc.peak_rss_mb:,.0f}",
                round(sc.seconds / r["booster_predict_seconds"], 1) if r["booster_predict_seconds"] else None,
            ],
            [
                "  features (scoring_state + candidates)",
                r["features_seconds"],
                cand,
                round(cand / r["features_seconds"]) if r["features_seconds"] else None,
                "",
                None,
            ],
            [
                "  booster.predict, raw score (the floor)",
                r["booster_predict_seconds"],
                cand,
                r["floor_rows_per_second"],
                f"{fl.peak_rss_mb:,.0f}",
                1.0,
            ],
            [
                "  SHAP contributions, best hour per pair",
                r["shap_contrib_seconds"],
                r["pairs"],
                round(r["pairs"] / r["shap_contrib_seconds"]) if r["shap_contrib_seconds"] else None,
                "",
                None,
            ],
        ]
        L += _table(["step", "seconds", "rows", "rows/s", "peak RSS MB", "x floor"], rows)
        L.append(
            f"\n{r['people']:,} people, {r['pairs']:,} person x channel pairs, {cand:,} candidate rows "
            f"(pairs x allowed hours). See also benchmarks/bench_model.py (model-only benchmark)."
        )

    # targets
    L += ["", "## Targets", ""]
    scale = "" if preset == "default" else f" (target is for the `default` preset; this is `{preset}`)"
    full_done, inc_done = _complete(b, H, "full"), _complete(b, H, "incremental")
    rows = [
        [
            "full first run, 1M customers x 12 months",
            "< 15 min",
            f"{full_total / 60:.1f} min{_so_far(b, H, 'full')}",
            _verdict(full_total, TARGETS["full_run_seconds"], full_done, preset) + scale,
        ],
        [
            "peak memory of any stage, either day",
            "< 8 GB",
            f"{max(full_peak, inc_peak) / 1024:.2f} GiB",
            _verdict(max(full_peak, inc_peak), TARGETS["full_run_peak_mb"], full_done and inc_done, preset)
            + scale,
        ],
        [
            "incremental daily run",
            "< 3 min",
            f"{inc_total / 60:.1f} min{_so_far(b, H, 'incremental')}",
            _verdict(inc_total, TARGETS["incremental_seconds"], inc_done, preset) + scale,
        ],
    ]
    if half_total:
        g = inc_total / half_total
        both_done = inc_done and _complete(b, H2, "incremental")
        rows.append(
            [
                "incremental grows with the new day, not history",
                f"ratio << {H / H2:.1f}",
                f"{g:.2f}{_so_far(b, H2, 'incremental')}",
                # the shorter history's day still running: its total, so the ratio, is not known yet
                ("met" if g < 1 + 0.5 * (H / H2 - 1) else "**missed**")
                if both_done
                else "not measured (chain unfinished)",
            ]
        )
    if "dbt_vs_floor" in ratios:
        rows.append(
            [
                "dbt RFM vs single-query floor",
                "<= 2x",
                f"{ratios['dbt_vs_floor']:.1f}x (model time only: {ratios['dbt_nodes_vs_floor']:.1f}x)",
                "met" if ratios["dbt_vs_floor"] <= 2 else "**missed**",
            ]
        )
    if "pandas_vs_dbt" in ratios:
        rows.append(
            [
                "dbt RFM vs pandas",
                ">= 5x faster",
                f"{ratios['pandas_vs_dbt']:.1f}x",
                "met" if ratios["pandas_vs_dbt"] >= 5 else "**missed**",
            ]
        )
    L += _table(["target", "goal", "measured", "verdict"], rows)
    if notes:
        L += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    failed = [(k, m) for k, m in b.m.items() if not m.status.startswith("ok")]
    if failed:
        L += ["", "## Stages that did not complete", ""]
        for (h, phase, name), m in failed:
            L.append(f"- {phase} {name} ({h} days): {m.status} - {m.error} (log `{m.log}`)")
    return "\n".join(L) + "\n"


def _cpu(b: Bench, h: int, phase: str) -> float:
    return sum((b.m[(h, phase, s)].cpu_seconds or 0) for s in CHAIN if (h, phase, s) in b.m)


def _stages_ok(b: Bench, h: int, phase: str) -> int:
    return sum(_ok(b.m.get((h, phase, s))) for s in CHAIN)


def _complete(b: Bench, h: int, phase: str) -> bool:
    """Every stage of the chain measured, and ok: its total is the chain's time."""
    return _stages_ok(b, h, phase) == len(CHAIN)


def _so_far(b: Bench, h: int, phase: str) -> str:
    done = _stages_ok(b, h, phase)
    return "" if done == len(CHAIN) else f" (so far: {done} of {len(CHAIN)} stages ok)"


def _verdict(value: float, limit: float, complete: bool, preset: str) -> str:
    """A target's verdict; an unfinished chain can only have missed it already."""
    if not complete and value <= limit:
        return "not measured (chain unfinished)"
    return _met(value <= limit, preset == "default")


def _met(ok: bool, applies: bool) -> str:
    if not applies:
        return "within" if ok else "over already"
    return "met" if ok else "**missed**"


def _stage_note(stage: str, m: Measurement) -> str:
    r = m.result or {}
    if stage == "ingest":
        return f"{r.get('files_loaded', 0)} files loaded, {r.get('files_skipped', 0)} skipped"
    if stage == "build":
        slow = r.get("slowest_nodes") or []
        return "slowest: " + ", ".join(f"{n.split('.')[-1]} {s:.0f}s" for n, s in slow[:3]) if slow else ""
    if stage == "train":
        return "trained" if r.get("trained") else f"not trained: {r.get('reason')}"
    if stage == "score":
        return f"{_f(r.get('people_scored'))} people" + (" (trained first)" if r.get("trained_first") else "")
    if stage == "decide":
        return f"{_f(r.get('queued'))} queued, {_f(r.get('held_out'))} held out"
    if stage == "dispatch":
        return f"via {r.get('transport')}"
    if stage == "exports":
        return f"{r.get('files')} files"
    return ""


def write_results(b: Bench, info: dict[str, Any], preset: str, stem: str, text: str) -> Path:
    """<stem>.md, <stem>.csv and latest.md; rewritten after every measurement."""
    results = b.results
    results.mkdir(parents=True, exist_ok=True)
    md = results / f"{stem}.md"
    md.write_text(text)
    (results / "latest.md").write_text(text)
    fields = [
        "preset",
        "customers",
        "days",
        "cores",
        "memory_gb",
        "history_days",
        "phase",
        "name",
        "run_date",
        "status",
        "seconds",
        "process_seconds",
        "cpu_seconds",
        "peak_rss_mb",
        "rows",
        "unit",
        "rows_per_second",
        "error",
    ]
    with open(results / f"{stem}.csv", "w", newline="") as handle:
        w = csv.DictWriter(handle, fieldnames=fields)
        w.writeheader()
        for row in b.rows:
            w.writerow(
                {
                    "preset": preset,
                    "customers": b.customers,
                    "days": b.days,
                    "cores": info["cores"],
                    "memory_gb": info["memory_gb"],
                    **row,
                }
            )
    details = {"machine": info, "measurements": {"|".join(map(str, k)): asdict(m) for k, m in b.m.items()}}
    (b.workdir(b.days) / "bench.json").write_text(json.dumps(details, indent=1, default=str))
    return md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="default")
    ap.add_argument("--customers", type=int, help="override the preset's customers")
    ap.add_argument("--days", type=int, help="override the preset's days of history")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--activity", type=float, help="override the preset's demo activity (0-1)")
    ap.add_argument(
        "--gzip", action=argparse.BooleanOptionalAction, default=None, help="override the preset's gzip"
    )
    ap.add_argument("--end-date", default=END_DATE, help="the full run's logical date D")
    ap.add_argument("--skip-peers", action="store_true", help="no pandas / DuckDB / dbt RFM or scoring floor")
    ap.add_argument("--no-half", action="store_true", help="skip the second history length (days/2)")
    ap.add_argument("--regenerate", action="store_true", help="regenerate demo data even if cached")
    ap.add_argument(
        "--profile", default="", help="cProfile these stages, e.g. build,score (-> logs/*.prof.txt)"
    )
    ap.add_argument("--work-dir", default=str(WORK), help="data and warehouses (default benchmarks/work)")
    ap.add_argument(
        "--results-dir", default=str(RESULTS), help="where the .md/.csv go (default benchmarks/results)"
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs of each RFM peer; the fastest is reported")
    ap.add_argument("--force", action="store_true", help="run even if the disk looks too small")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="after a failed stage: keep the warehouse, reuse the stages that succeeded before it "
        "(their figures) and run the rest; a rerun build starts from empty dbt schemas",
    )
    ap.add_argument("--stage-timeout", type=float, default=None, help="kill a stage after this many seconds")
    args = ap.parse_args(argv)
    p = PRESETS[args.preset]
    custom = any(getattr(args, name) is not None for name in ("customers", "days", "activity", "gzip"))
    args.customers = args.customers or p.customers
    args.days = args.days or p.days
    args.activity = p.activity if args.activity is None else args.activity
    args.gzip = p.gzip if args.gzip is None else args.gzip
    preset = args.preset
    if custom:
        preset = f"custom-{args.customers}x{args.days}" + (
            "" if args.activity == 1 else f"-a{args.activity:g}"
        )
    os.environ.pop("RIGHTSEND_BROKER_URL", None)  # dispatch through the embedded file broker
    os.environ.setdefault("RIGHTSEND_DUCKDB_MEMORY", p.duckdb_memory)

    info = machine()
    info["duckdb_memory"] = os.environ["RIGHTSEND_DUCKDB_MEMORY"]
    print(
        f"rightsend benchmark `{preset}`: {args.customers:,} customers x {args.days} days "
        f"(demo activity {args.activity:g}, DuckDB memory limit {info['duckdb_memory']}); "
        f"{info['cores']} cores, {info['memory_gb']} GB; load {info['load_avg_start']}"
    )
    b = Bench(args)
    started = time.perf_counter()
    stem = f"{datetime.now():%Y%m%d-%H%M%S}-{preset}"

    def save(state: str) -> tuple[Path, str]:
        info["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
        info["finished"] = f"{datetime.now():%Y-%m-%d %H:%M}"
        info["bench_seconds"] = round(time.perf_counter() - started, 1)
        took = f"{state} {info['bench_seconds'] / 60:.1f} min (generation, both histories, peers)"
        text = report(b, info, preset, [took])
        return write_results(b, info, preset, stem, text), text

    b.on_measured = lambda: save("in progress: the benchmark has run for")
    _stop_on_signals()
    try:
        b.run()
        state = "the whole benchmark took"
    except KeyboardInterrupt:
        state = "interrupted (SIGINT/SIGTERM), partial results: the benchmark ran for"
    md, text = save(state)
    print("\n" + text)
    print(f"written {md} (+ .csv) and {b.results / 'latest.md'}")
    return 0


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM stop the benchmark with its results so far. Explicit, because a
    shell starts a background job (`make bench &`) with SIGINT ignored, and Python keeps an
    ignored SIGINT ignored; measure() kills the running stage on the way out."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


if __name__ == "__main__":
    sys.exit(main())
