"""Where the console leaves the documents and photos the bot sends: files a demo user can open.

In Telegram a PDF or chart arrives in the chat; in the terminal it would go nowhere, so every file
the bot sends is written under one folder (`var/console/` unless `--save-dir` says otherwise) and
its path is shown next to the message. A name the bot gives twice (two charts of the same month)
gets a numbered suffix instead of overwriting the earlier file.
"""

from __future__ import annotations

import re
from pathlib import Path

DEFAULT_DIR = Path("var/console")
# Characters no file system takes in a name (and path separators, so a name cannot climb out).
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def safe_name(name: str | None) -> str:
    """The file's own name with anything unsafe replaced; "文件" when nothing is left."""
    cleaned = UNSAFE.sub("_", (name or "").strip()).strip(". ")
    return cleaned or "文件"


class FileSaver:
    """Writes each file into `folder` (created on first use) and returns where it went."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, name: str | None, content: bytes) -> Path:
        """Path of the new file (absolute, so it can be pasted into a viewer); raises OSError when
        the folder cannot be written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        base = Path(safe_name(name))
        target = self.folder / base
        n = 2
        while target.exists():
            target = self.folder / f"{base.stem}-{n}{base.suffix}"
            n += 1
        target.write_bytes(content)
        return target.resolve()
