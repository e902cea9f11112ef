"""Where articles added from the page are kept, and the checks they pass first.

A client names the files to add by path, so a path is only trusted when this server received that
very file through its own upload route since it started (Gradio records them) and it still lies,
a plain file, in the incoming folder. Anything else, such as `/etc/passwd` typed into a request,
is refused before it is opened. An accepted upload is copied under one folder with a cleaned
name (no path parts, no hidden names, only safe characters); the same name again replaces the
earlier file, which re-ingests it as a changed article rather than adding a twin. Received files
are deleted from the incoming folder once handled, accepted or not.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".jsonl", ".pdf", ".docx")
INCOMING = ".incoming"  # Gradio's upload folder, inside the uploads folder
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, default: str = "article") -> str:
    """A file name that is only a name: 'a/../../b c.txt' becomes 'b_c.txt'."""
    base = re.split(r"[\\/]", name)[-1]
    stem, suffix = os.path.splitext(base)
    stem = _UNSAFE.sub("_", stem).strip("._-")[:80] or default
    return stem + _UNSAFE.sub("", suffix.lower())


class PartNames:
    """The file names of a multipart/form-data body, read from each part's headers as the body
    streams past, so that a file of a type that cannot be added is refused before its first byte
    is stored. Only part headers are read: a name written inside a file's content is not one."""

    # quoted, bare, or RFC 5987's filename*=UTF-8''…: each one a part gives is checked
    _FILENAME = re.compile(rb'filename\*?=(?:"([^"\r\n]*)"|([^;\r\n]*))', re.IGNORECASE)
    MAX_HEADERS = 16 * 1024  # a part's headers are a few hundred bytes; more is not a real upload

    def __init__(self, content_type: str):
        match = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
        self.marker = b"--" + match.group(1).encode("latin-1") if match else b""
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[str]:
        """The names of the parts whose headers ended in `chunk` (or before it, unread)."""
        if not self.marker:
            return []
        data = self._buffer + chunk
        names: list[str] = []
        start = 0
        while True:
            at = data.find(self.marker, start)
            if at < 0:  # a marker may straddle two chunks: keep what could be its beginning
                self._buffer = data[max(start, len(data) - len(self.marker)) :]
                return names
            end = data.find(b"\r\n\r\n", at)
            if end < 0:
                if len(data) - at > self.MAX_HEADERS:
                    raise ValueError("A part of the upload has no end to its headers.")
                self._buffer = data[at:]
                return names
            for found in self._FILENAME.finditer(data, at, end):
                names.append((found.group(1) or found.group(2) or b"").strip().decode("utf-8", "replace"))
            start = end + 4


def _megabytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def folder_bytes(root: Path) -> int:
    """Bytes of the regular files under `root` (links are not followed)."""
    total = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue  # removed meanwhile
    return total


class UploadFolder:
    """The one folder uploaded articles live in (under the index folder by default), with the
    incoming folder Gradio writes uploads to inside it."""

    def __init__(
        self,
        root: Path,
        max_bytes: int,
        quota_bytes: int,
        suffixes: tuple[str, ...] = ALLOWED_SUFFIXES,
        received: Callable[[Path], bool] = lambda path: False,
    ):
        self.root = Path(root).resolve()
        self.incoming = self.root / INCOMING
        self.max_bytes = max_bytes
        self.quota_bytes = quota_bytes
        self.suffixes = suffixes
        self.received = received  # set by the app: did this server's upload route write this file?

    def refusal_of_name(self, name: str) -> str | None:
        """The sentence that refuses a file of this name, or None when its type can be added."""
        shown = safe_name(name)
        if Path(shown).suffix.lower() in self.suffixes:
            return None
        return f"{shown} was not added: only {', '.join(self.suffixes)} files can be added."

    def used_bytes(self) -> int:
        return folder_bytes(self.root) if self.root.exists() else 0

    def room_for(self, incoming_bytes: int) -> str | None:
        """None when `incoming_bytes` more fit in the quota, else the sentence that says why not."""
        used = self.used_bytes()
        if used + incoming_bytes <= self.quota_bytes:
            return None
        return (
            f"The uploads folder is full ({_megabytes(used)} of {_megabytes(self.quota_bytes)}); "
            "remove articles before adding more."
        )

    def is_incoming(self, given: str | Path) -> bool:
        """True only for a plain file this server's upload route received, still in the incoming folder."""
        path = Path(given)
        if not path.is_absolute() or path.is_symlink() or not self.received(path):
            return False
        resolved = path.resolve()
        return resolved.parent != self.incoming and self.incoming in resolved.parents and resolved.is_file()

    def accept(self, paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
        """Copies the acceptable uploads in; returns their new paths and one sentence per refusal.
        A path this server did not receive is refused without being opened."""
        accepted: list[Path] = []
        refused: list[str] = []
        for given in paths:
            name = safe_name(Path(str(given)).name)
            if not self.is_incoming(given):
                refused.append(f"{name} was not added: only files uploaded through this page can be added.")
                continue
            path = Path(given)
            try:
                wrong_type = self.refusal_of_name(name)
                if wrong_type:
                    refused.append(wrong_type)
                    continue
                size = path.stat().st_size
                if size == 0:
                    refused.append(f"{name} was not added: the file is empty.")
                    continue
                if size > self.max_bytes:
                    refused.append(
                        f"{name} was not added: it is {_megabytes(size)} and the limit is "
                        f"{self.max_bytes / 2**20:g} MB."
                    )
                    continue
                target = self.root / name
                replaced = target.stat().st_size if target.is_file() else 0
                # the upload itself already counts in the folder; only the copy adds to it
                full = self.room_for(size - replaced)
                if full:
                    refused.append(f"{name} was not added: {full[0].lower()}{full[1:]}")
                    continue
                shutil.copyfile(path, target)
                accepted.append(target)
            finally:
                self.discard(path)
        return accepted, refused

    def discard(self, path: Path) -> None:
        """Removes a received upload and its folder from the incoming folder once handled."""
        try:
            path.unlink(missing_ok=True)
            if path.parent != self.incoming and self.incoming in path.parent.parents:
                path.parent.rmdir()
        except OSError:
            pass  # not empty (another upload in it) or already gone: the sweep takes it later

    def sweep(self, older_than: float) -> None:
        """Deletes received files nobody added within `older_than` seconds (uploads left behind)."""
        if not self.incoming.is_dir():
            return
        cutoff = time.time() - older_than
        for dirpath, dirnames, names in os.walk(self.incoming, topdown=False):
            for name in names:
                path = Path(dirpath) / name
                try:
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                except OSError:
                    continue
            if Path(dirpath) != self.incoming:
                try:
                    Path(dirpath).rmdir()
                except OSError:
                    pass

    def reset(self) -> None:
        """A new server starts with an empty incoming folder: nothing received before it is trusted."""
        shutil.rmtree(self.incoming, ignore_errors=True)
        self.incoming.mkdir(parents=True, exist_ok=True)

    def forget(self, path: str) -> None:
        """Deletes an uploaded copy once its article is removed; files elsewhere are never touched."""
        if not path:
            return
        candidate = Path(path).resolve()
        if candidate.parent == self.root and candidate.is_file():
            candidate.unlink()
