"""`db`, `nlp`, `bot`, `rules` and `handlers` are generic names: prove they are this checkout's."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["bot", "handlers", "nlp", "db", "rules", "bench"])
def test_package_resolves_to_this_checkout(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == ROOT / name


def test_pyproject_lists_every_package() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        str(p.parent.relative_to(ROOT)).replace("/", ".")
        for p in ROOT.glob("*/**/__init__.py")
        if not any(part.startswith(".") or part in {"tests", "build"} for part in p.relative_to(ROOT).parts)
    }
    assert on_disk <= listed, f"missing from pyproject: {sorted(on_disk - listed)}"


def test_console_script_is_declared() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["creditbot"] == "bot.cli:main"
