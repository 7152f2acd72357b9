"""The layers point one way (docs/architecture.md): a test, so that a shortcut fails the build.

    bot/ -> handlers/ -> render/ -> services/ -> nlp/, rules/, db/        rules/ imports nothing else

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy import is
still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "render", "services", "nlp", "rules", "db")
# What each package may import besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    "bot": frozenset({"handlers", "render", "services", "nlp", "rules", "db"}),
    "handlers": frozenset({"render", "services", "nlp", "rules", "db"}),
    "render": frozenset({"services", "nlp", "rules", "db"}),
    "services": frozenset({"nlp", "rules", "db"}),
    "nlp": frozenset({"rules"}),
    "db": frozenset({"rules"}),
    "rules": frozenset(),
}
# Channels and the CLI reach conversations through the one module that registers them.
BOT_TO_HANDLERS = frozenset({"bot/app.py"})


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules() -> list[tuple[str, Path]]:
    return [(pkg, p) for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


@pytest.mark.parametrize(("package", "path"), _modules(), ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else v)
def test_imports_point_down(package: str, path: Path) -> None:
    rel = str(path.relative_to(ROOT))
    wrong = []
    for module in sorted(_imports(path)):
        top = module.split(".")[0]
        if top not in PACKAGES or top == package:
            continue
        if top not in ALLOWED[package]:
            wrong.append(module)
        elif package == "bot" and top == "handlers" and rel not in BOT_TO_HANDLERS:
            wrong.append(f"{module} (only {', '.join(sorted(BOT_TO_HANDLERS))} registers conversations)")
    assert not wrong, f"{rel} imports a higher layer: {wrong}"


def test_the_walk_sees_every_package() -> None:
    """Guard the guard: a renamed folder must not silently drop out of the check."""
    seen = {pkg for pkg, _ in _modules()}
    assert seen == set(PACKAGES)
