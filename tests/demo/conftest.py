from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from rightsend.demo import DemoTruth, generate

END = "2026-11-20"


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def read_source(root: Path, source: str) -> pd.DataFrame:
    """All rows of a source as the contract describes them, with _dt and _file."""
    frames = []
    for path in sorted((root / source).glob("dt=*/*")):
        text = read_bytes(path).decode("utf-8-sig")
        if ".csv" in path.name:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        elif text.lstrip().startswith("["):
            frame = pd.DataFrame(json.loads(text))
        else:
            frame = pd.DataFrame([json.loads(line) for line in text.splitlines() if line.strip()])
        frame["_dt"] = path.parent.name[3:]
        frame["_file"] = path.name
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoTruth]:
    root = tmp_path_factory.mktemp("demo")
    truth = generate(
        root / "landing", customers=300, days=30, end_date=END, seed=11, truth_path=root / "truth.csv"
    )
    return root / "landing", truth


@pytest.fixture(scope="session")
def read():
    """read(root, source) -> every row of a source (see read_source)."""
    return read_source
