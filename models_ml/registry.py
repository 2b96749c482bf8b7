"""File registry beside the warehouse: models/<version>/{model.txt,metadata.json}, champion.json."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rightsend.config import Settings

CHAMPION_FILE = "champion.json"


@dataclass(frozen=True)
class ModelInfo:
    version: str
    path: Path  # the version folder
    metadata: dict[str, Any]

    @property
    def model_file(self) -> Path:
        return self.path / "model.txt"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save(settings: Settings, version: str, model_text: str, metadata: dict[str, Any]) -> ModelInfo:
    """Write a version folder (overwrites the same version: training is deterministic)."""
    folder = settings.models_dir / version
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_write(folder / "model.txt", model_text)
    _atomic_write(
        folder / "metadata.json", json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n"
    )
    return ModelInfo(version, folder, metadata)


def load(settings: Settings, version: str) -> ModelInfo | None:
    folder = settings.models_dir / version
    meta = folder / "metadata.json"
    if not meta.exists() or not (folder / "model.txt").exists():
        return None
    return ModelInfo(version, folder, json.loads(meta.read_text()))


def champion(settings: Settings) -> ModelInfo | None:
    """The model scoring uses, or None before the first promotion."""
    pointer = settings.models_dir / CHAMPION_FILE
    if not pointer.exists():
        return None
    return load(settings, json.loads(pointer.read_text())["version"])


def promote(settings: Settings, info: ModelInfo, reason: str) -> None:
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    body = {"version": info.version, "run_date": info.metadata.get("run_date"), "reason": reason}
    _atomic_write(settings.models_dir / CHAMPION_FILE, json.dumps(body, indent=2) + "\n")


def versions(settings: Settings) -> list[str]:
    if not settings.models_dir.exists():
        return []
    return sorted(p.name for p in settings.models_dir.iterdir() if (p / "metadata.json").exists())


def load_booster(info: ModelInfo) -> Any:
    import lightgbm as lgb

    return lgb.Booster(model_file=str(info.model_file))
