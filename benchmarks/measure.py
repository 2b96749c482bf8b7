"""Wall time and peak memory of one call, in a process of its own.

``measure("benchmarks.stages:ingest", args, log=...)`` starts ``python -m benchmarks.measure``
as a child, which imports the target, calls it, and writes its result and its own timing to a
JSON file. The parent reaps the child with ``os.wait4``, whose rusage is that child's alone:
``ru_maxrss`` is the child's peak resident set (Python, numpy, DuckDB and LightGBM native
memory), so stages never pollute each other's figures, and a child killed by the kernel (OOM)
still reports its peak. The child's stdout/stderr (dbt's chatter) go to the log file.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measurement:
    target: str
    status: str  # ok | failed | not available | killed
    seconds: float | None  # wall time of the call itself (imports excluded)
    process_seconds: float  # wall time of the whole child process (interpreter, imports, call)
    peak_rss_mb: float  # the child's peak resident set
    cpu_seconds: float | None = None  # user + system CPU of the child: less sensitive to a busy machine
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    log: str | None = None


def measure(
    target: str,
    args: list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    *,
    log: Path,
    env: dict[str, str] | None = None,
    profile: bool = False,
    timeout: float | None = None,
) -> Measurement:
    """Run ``module:function(*args, **kwargs)`` in a fresh interpreter; time it, take its peak RSS."""
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    result_path = log.with_suffix(".result.json")
    result_path.unlink(missing_ok=True)
    spec = {
        "target": target,
        "args": args or [],
        "kwargs": kwargs or {},
        "result": str(result_path),
        "profile": str(log.with_suffix(".prof")) if profile else None,
    }
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), child_env.get("PYTHONPATH")]))
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.measure", json.dumps(spec)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(ROOT),
            env=child_env,
            start_new_session=True,  # its own process group: a stop takes its workers too
        )
        deadline = None if timeout is None else started + timeout
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if deadline is not None and time.perf_counter() > deadline:
                    _kill_group(proc.pid)
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
        except BaseException:  # Ctrl-C / SIGTERM in the parent: leave no stage running behind it
            _kill_group(proc.pid)
            os.wait4(proc.pid, 0)
            raise
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    process_seconds = time.perf_counter() - started
    peak_mb = usage.ru_maxrss / 1024  # Linux: kilobytes
    cpu = round(usage.ru_utime + usage.ru_stime, 2)
    if result_path.exists():
        data = json.loads(result_path.read_text())
        return Measurement(
            target,
            data["status"],
            data.get("seconds"),
            round(process_seconds, 3),
            round(peak_mb, 1),
            cpu,
            data.get("result") or {},
            data.get("error"),
            str(log),
        )
    why = f"child exited with {proc.returncode}" + (
        " (timeout)" if deadline and process_seconds >= timeout else ""
    )
    if proc.returncode < 0:
        why += f" - killed by signal {-proc.returncode} (OOM killer?)"
    return Measurement(
        target, "killed", None, round(process_seconds, 3), round(peak_mb, 1), cpu, {}, why, str(log)
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pid, signal.SIGKILL)


def _child(spec: dict[str, Any]) -> None:
    """Inside the child: import, call, write the outcome."""
    import importlib

    out: dict[str, Any] = {"status": "ok"}
    module_name, _, fn_name = spec["target"].partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), fn_name)
    except ImportError as exc:
        out = {"status": "not available", "error": f"{type(exc).__name__}: {exc}"}
        Path(spec["result"]).write_text(json.dumps(out))
        return
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    started = time.perf_counter()
    try:
        if profiler:
            profiler.enable()
        result = fn(*spec["args"], **spec["kwargs"])
        out["result"] = result if isinstance(result, dict) else {"value": result}
    except ImportError as exc:  # a stage whose module is still being written
        traceback.print_exc()
        out = {"status": "not available", "error": f"{type(exc).__name__}: {exc}"}
    except Exception as exc:  # noqa: BLE001 - reported, the chain goes on
        traceback.print_exc()
        out = {"status": "failed", "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    finally:
        if profiler:
            profiler.disable()
    out["seconds"] = round(time.perf_counter() - started, 3)
    out["self_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if profiler:
        import io
        import pstats

        profiler.dump_stats(spec["profile"])
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
        stats.print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
        Path(spec["profile"]).with_suffix(".prof.txt").write_text(text.getvalue())
    sys.stdout.flush()
    Path(spec["result"]).write_text(json.dumps(out, default=str))


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
