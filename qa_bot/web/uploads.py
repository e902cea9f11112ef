"""Where articles added from the page are kept, and the checks they pass first.

An upload is copied under one folder with a cleaned name (no path parts, no hidden names, only
safe characters), so a crafted file name cannot write or read anywhere else. The same name again
replaces the earlier file, which re-ingests it as a changed article rather than adding a twin.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".jsonl")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # 5 MB as Gradio counts it, so its limit and ours agree
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, default: str = "article") -> str:
    """A file name that is only a name: 'a/../../b c.txt' becomes 'b_c.txt'."""
    base = re.split(r"[\\/]", name)[-1]
    stem, suffix = os.path.splitext(base)
    stem = _UNSAFE.sub("_", stem).strip("._-")[:80] or default
    return stem + _UNSAFE.sub("", suffix.lower())


class UploadFolder:
    """The one folder uploaded articles live in (under the index folder by default)."""

    def __init__(self, root: Path, max_bytes: int = MAX_UPLOAD_BYTES, suffixes: tuple[str, ...] = ALLOWED_SUFFIXES):
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        self.suffixes = suffixes

    def accept(self, paths: list[str | Path]) -> tuple[list[Path], list[str]]:
        """Copies the acceptable files in; returns their new paths and one sentence per refusal."""
        accepted: list[Path] = []
        refused: list[str] = []
        for given in paths:
            path = Path(given)
            name = safe_name(path.name)
            suffix = Path(name).suffix.lower()
            if suffix not in self.suffixes:
                refused.append(f"{name} was not added: only {', '.join(self.suffixes)} files can be added.")
                continue
            size = path.stat().st_size if path.is_file() else 0
            if size == 0:
                refused.append(f"{name} was not added: the file is empty.")
                continue
            if size > self.max_bytes:
                refused.append(
                    f"{name} was not added: it is {size / 2**20:.1f} MB and the limit is {self.max_bytes / 2**20:g} MB."
                )
                continue
            self.root.mkdir(parents=True, exist_ok=True)
            target = self.root / name
            shutil.copyfile(path, target)
            accepted.append(target)
        return accepted, refused

    def forget(self, path: str) -> None:
        """Deletes an uploaded copy once its article is removed; files elsewhere are never touched."""
        if not path:
            return
        candidate = Path(path).resolve()
        if candidate.parent == self.root and candidate.is_file():
            candidate.unlink()
