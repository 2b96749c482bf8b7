"""Writes simulated rows into the landing zone, with the mess real deliveries have.

Sources emit DataFrames with an internal `_ts` (UTC seconds) and optionally `_dt` (delivery
day). Rows are buffered per delivery day and flushed once no later simulation day can add to
that day, so memory stays bounded by a few days whatever the number of customers. All file-level
choices (gzip, BOM, column order, JSON arrays, late files) come from a generator seeded by
(seed, source, dt), so output bytes do not depend on flush order - which is also what lets
large runs write files in worker processes while the simulation goes on (``writers``).
"""

from __future__ import annotations

import gzip
import multiprocessing
import zlib
from collections import defaultdict, deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rightsend.demo.clock import DAY, Calendar, dt_name
from rightsend.demo.ids import hex_ids


@dataclass(frozen=True)
class SourceSpec:
    name: str  # landing folder
    kind: str  # "csv" | "ndjson" | "email"
    file: str  # base file name without extension
    columns: tuple[str, ...] = ()  # csv: canonical column order (required + vendor extras)
    type_field: str = ""  # json: rows are grouped by it so each event type has its own fields
    ts_field: str = ""  # where a bad row gets a broken timestamp
    messy: bool = False  # late deliveries and late-*.ndjson files
    gzip_share: float = 0.12
    bom_share: float = 0.3
    reorder_share: float = 0.2


@dataclass
class Landing:
    root: Path
    cal: Calendar
    seed: int
    specs: dict[str, SourceSpec]
    bad_rows: bool = True
    bad_rate: float = 1 / 5000
    gzip_all: bool = False  # every file gzipped (fast level): the benchmark's large landing zones
    writers: int = 0  # worker processes that write the files (0: written here, as they flush)
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self._buf: dict[str, dict[int, list[pd.DataFrame]]] = defaultdict(lambda: defaultdict(list))
        self._seq = 0
        self._rng = np.random.default_rng([self.seed, 991])
        self._write = DayWriter(self.root, self.seed, self.bad_rows, self.bad_rate, self.gzip_all)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[tuple[str, Future[tuple[int, int]]]] = deque()
        if self.writers > 0:
            # spawn, as ingest does: no forked copy of the simulation's memory per worker
            self._pool = ProcessPoolExecutor(self.writers, mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> Landing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Wait for every file handed to the workers (their errors are raised here)."""
        try:
            while self._pending:
                self._collect()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    # -- emitting -----------------------------------------------------------------------
    def emit(self, source: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        spec = self.specs[source]
        frame = frame.copy()
        n = len(frame)
        ts = frame["_ts"].to_numpy(dtype=np.int64)
        dt = frame["_dt"].to_numpy(dtype=np.int64) if "_dt" in frame else ts // DAY
        if spec.messy:  # a few events are delivered days after they happened
            late = self._rng.random(n) < 0.015
            dt = np.where(late, dt + self._rng.integers(1, 5, n), dt)
        if spec.kind == "email":  # SendGrid redelivers some events (same sg_event_id)
            dup = self._rng.random(n) < 0.005
            if dup.any():
                extra = frame[dup].copy()
                extra_dt = dt[dup] + self._rng.integers(0, 2, int(dup.sum()))
                frame = pd.concat([frame, extra], ignore_index=True)
                dt = np.concatenate([dt, extra_dt])
        dt = np.maximum(dt, self.cal.start_day)  # events before the window arrive with the first delivery
        frame["_dt"] = dt
        frame["_seq"] = np.arange(self._seq, self._seq + len(frame))
        self._seq += len(frame)
        frame = frame[
            (dt <= self.cal.end_day) & (frame["_ts"].to_numpy() <= (self.cal.end_day + 1) * DAY - 1)
        ]
        for day, part in frame.groupby("_dt", sort=True):
            self._buf[source][int(day)].append(part)

    def flush(self, upto_day: int) -> None:
        """Write every buffered delivery day <= upto_day."""
        for source in sorted(self._buf):
            days = sorted(d for d in self._buf[source] if d <= upto_day)
            for day in days:
                frames = self._buf[source].pop(day)
                frame = pd.concat(frames, ignore_index=True).sort_values(["_ts", "_seq"], kind="stable")
                self._submit(self.specs[source], day, frame.reset_index(drop=True))

    def _submit(self, spec: SourceSpec, day: int, frame: pd.DataFrame) -> None:
        if self._pool is None:
            self._count(spec.name, *self._write(spec, day, frame))
            return
        while len(self._pending) >= 2 * self.writers:  # bounds the frames held for the workers
            self._collect()
        self._pending.append((spec.name, self._pool.submit(self._write, spec, day, frame)))

    def _collect(self) -> None:
        source, future = self._pending.popleft()
        self._count(source, *future.result())

    def _count(self, source: str, rows: int, files: int) -> None:
        self.rows[source] += rows
        self.files[source] += files


@dataclass(frozen=True)
class DayWriter:
    """Writes one source's delivery day. Every choice it makes comes from a generator seeded
    by (seed, source, day), so it can run anywhere, in any order, for the same bytes."""

    root: Path
    seed: int
    bad_rows: bool
    bad_rate: float
    gzip_all: bool

    def __call__(self, spec: SourceSpec, day: int, frame: pd.DataFrame) -> tuple[int, int]:
        """Write the day's file(s); returns (rows, files) written."""
        rng = self._file_rng(spec, day)
        folder = self.root / spec.name / dt_name(day)
        folder.mkdir(parents=True, exist_ok=True)
        if self.bad_rows and (spec.kind != "csv" or spec.name == "sms"):
            frame = self._spoil(spec, frame, rng)
        parts: list[tuple[str, pd.DataFrame]] = []
        if spec.messy and rng.random() < 0.12 and len(frame) > 10:
            # A second, late batch for the same day lands next to the first one.
            late = rng.random(len(frame)) < 0.1
            parts.append((f"late-{hex_ids(rng, 1, 8)[0]}.ndjson", frame[late]))
            frame = frame[~late]
        if spec.kind == "email" and rng.random() < 0.45:
            # Webhook POST bodies: JSON arrays of up to ~1500 events each.
            hours = (frame["_ts"].to_numpy() % DAY) // 3600
            size = 1500
            for k, start in enumerate(range(0, len(frame), size)):
                chunk = frame.iloc[start : start + size]
                parts.append((f"webhook-{hours[start]:02d}-{k:04d}.json", chunk))
        else:
            ext = "csv" if spec.kind == "csv" else "ndjson"
            parts.append((f"{spec.file}.{ext}", frame))
        rows = files = 0
        for name, part in parts:
            if part.empty:
                continue
            if spec.kind == "csv":
                data = self._csv(spec, part, rng)
            else:
                data = self._json(spec, part, as_array=name.endswith(".json"))
            if rng.random() < spec.gzip_share or self.gzip_all:
                name += ".gz"
                data = gzip.compress(data, compresslevel=1 if self.gzip_all else 6, mtime=0)
            (folder / name).write_bytes(data)
            rows += len(part)
            files += 1
        return rows, files

    def _file_rng(self, spec: SourceSpec, day: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(spec.name.encode()), day])

    def _spoil(self, spec: SourceSpec, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """About one row in 5000 gets a broken timestamp or an unknown event type."""
        bad = np.flatnonzero(rng.random(len(frame)) < self.bad_rate)
        if not len(bad):
            return frame
        frame = frame.copy()
        for i in bad:
            if spec.type_field and rng.random() < 0.5:
                frame[spec.type_field] = frame[spec.type_field].astype(object)
                frame.iat[i, frame.columns.get_loc(spec.type_field)] = "mystery_event"
            elif spec.ts_field:
                frame[spec.ts_field] = frame[spec.ts_field].astype(object)
                frame.iat[i, frame.columns.get_loc(spec.ts_field)] = "2026-13-45T99:61:00Z"
        return frame

    def _csv(self, spec: SourceSpec, frame: pd.DataFrame, rng: np.random.Generator) -> bytes:
        cols = [c for c in spec.columns if c in frame.columns]
        if rng.random() < spec.reorder_share:
            cols = list(rng.permutation(cols))
            frame = frame.assign(**{"Export Batch": f"b{rng.integers(1000, 9999)}"})
            cols.append("Export Batch")  # an extra vendor column only some files have
        text = frame[cols].to_csv(index=False, lineterminator="\n")
        if rng.random() < spec.bom_share:
            text = "\ufeff" + text
        return text.encode("utf-8")

    def _json(self, spec: SourceSpec, frame: pd.DataFrame, as_array: bool) -> bytes:
        cols = [c for c in frame.columns if not c.startswith("_")]
        body = frame[cols]
        lines = np.empty(len(body), dtype=object)
        groups = (
            body.groupby(spec.type_field, sort=True, dropna=False).indices if spec.type_field else {0: None}
        )
        notna = body.notna().to_numpy()
        for _, pos in groups.items():
            # Drop the fields that do not apply to this event type (all null in the group).
            keep = np.flatnonzero(notna.any(axis=0) if pos is None else notna[pos].any(axis=0))
            part = body.iloc[:, keep] if pos is None else body.iloc[pos, keep]
            text = part.to_json(orient="records", lines=True, force_ascii=False).replace("\\/", "/")
            got = text.rstrip("\n").split("\n")
            if pos is None:
                lines[:] = got
            else:
                lines[pos] = got
        if as_array:
            return ("[" + ",\n".join(lines) + "]\n").encode("utf-8")
        return ("\n".join(lines) + "\n").encode("utf-8")
