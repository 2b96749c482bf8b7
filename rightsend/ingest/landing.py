"""Find landed files (<landing>/<source>/dt=YYYY-MM-DD/<name>.<ext>[.gz]) and spot changed ones."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rightsend.ingest.source import Source
from rightsend.ingest.sources import SOURCES


@dataclass(frozen=True)
class LandedFile:
    path: Path
    rel: str  # path under the landing dir: the file's identity in ops.manifest
    source: Source
    dt: str

    @property
    def gzipped(self) -> bool:
        return self.path.name.endswith(".gz")

    @property
    def extension(self) -> str:
        name = self.path.name.removesuffix(".gz")
        return Path(name).suffix.lower()


def _dt(folder: str) -> str | None:
    if not folder.startswith("dt="):
        return None
    try:
        return date.fromisoformat(folder[3:]).isoformat()
    except ValueError:
        return None


def discover(landing: Path, run_date: str) -> list[LandedFile]:
    """Every file of the nine sources with dt <= run_date, oldest delivery first.

    Order is dt, then source (customers before the events that mention them), then name,
    so "latest" in the contract's sense follows load order."""
    order = {name: i for i, name in enumerate(SOURCES)}
    found: list[LandedFile] = []
    for name, source in SOURCES.items():
        base = landing / name
        if not base.is_dir():
            continue
        for folder in base.iterdir():
            dt = _dt(folder.name)
            if dt is None or dt > run_date or not folder.is_dir():
                continue
            for path in folder.iterdir():
                # hidden and marker files (.DS_Store, _SUCCESS) are not data
                if path.is_file() and not path.name.startswith((".", "_")):
                    found.append(LandedFile(path, path.relative_to(landing).as_posix(), source, dt))
    found.sort(key=lambda f: (f.dt, order[f.source.name], f.path.name))
    return found


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
