"""The evaluation model's data file: `db/data/evaluation_v<version>.toml`, read once per process.

A new edition is a new file; `current_model()` takes the newest (by version), so stored scores keep
naming the edition they were computed with while a full run moves everyone to the new one.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from rules.evaluation import Model, ModelError, parse_model

DATA_DIR = Path(__file__).resolve().parent / "data"


def model_files() -> list[Path]:
    return sorted(DATA_DIR.glob("evaluation_v*.toml"))


@functools.lru_cache(maxsize=8)
def load_model(path: Path) -> Model:
    """Raises ModelError (naming the file) when the file is not a valid model."""
    try:
        return parse_model(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ModelError) as exc:
        raise ModelError(f"{path.name}: {exc}") from None


def current_model() -> Model:
    models = [load_model(p) for p in model_files()]
    if not models:
        raise ModelError("没有评价模型数据文件")
    return max(models, key=lambda m: tuple(int(x) for x in m.version.split(".")))
