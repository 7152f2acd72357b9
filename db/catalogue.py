"""The catalogue data files: `db/data/catalogue_v<version>.toml` (national) and
`db/data/catalogue_local_<division>.toml` (a province's or city's supplement), read once per process.

A new national edition is a new file; `current_catalogue()` takes the newest by version and merges
every local file whose region covers the configured one (`set_region`, called by start-up with
`region.division_code`; the packaged 610900 otherwise). Records keep the edition they were
collected under (`Catalogue.edition`), so a later edition never rewrites what an earlier one said.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from rules.catalogue import Catalogue, CatalogueError, applies_to, merge_local, parse_catalogue

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_REGION = "610900"
_region = [DEFAULT_REGION]


def set_region(division_code: str) -> None:
    """The region whose local supplement applies in this process (settings `region.division_code`)."""
    _region[0] = division_code


def current_region() -> str:
    return _region[0]


def national_files(data_dir: Path = DATA_DIR) -> list[Path]:
    return sorted(data_dir.glob("catalogue_v*.toml"))


def local_files(data_dir: Path = DATA_DIR) -> list[Path]:
    return sorted(data_dir.glob("catalogue_local_*.toml"))


def _read(path: Path) -> dict:  # type: ignore[type-arg]
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path.name}：{exc}") from None


@functools.lru_cache(maxsize=8)
def load_catalogue(division_code: str, data_dir: Path = DATA_DIR) -> Catalogue:
    """The newest national edition with the local supplements covering `division_code`.
    Raises CatalogueError (naming the file) for a file that is not valid catalogue data."""
    editions = [parse_catalogue(_read(p), p.name) for p in national_files(data_dir)]
    if not editions:
        raise CatalogueError("没有全国失信惩戒目录数据文件")
    catalogue = max(editions, key=lambda c: tuple(int(x) for x in c.version.split(".")))
    for path in local_files(data_dir):
        raw = _read(path)
        if applies_to(str(raw.get("region", "")), division_code):
            catalogue = merge_local(catalogue, raw, path.name)
    return catalogue


def current_catalogue() -> Catalogue:
    return load_catalogue(_region[0])


def current_edition() -> str:
    """The catalogue edition a record collected now is kept under (credit_records.catalogue_edition)."""
    return current_catalogue().edition
