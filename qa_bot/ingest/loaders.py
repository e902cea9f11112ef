"""Files and JSONL records in, `Article`s out: one loader per format, all streaming."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path

from qa_bot.errors import InputError
from qa_bot.types import Article

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
CORPUS_SUFFIXES = {".jsonl", ".jsonl.gz"}
SUPPORTED = sorted(TEXT_SUFFIXES | CORPUS_SUFFIXES)
_TITLE_MAX = 120


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else path.suffix.lower()


def content_hash(title: str, text: str, published: date | None, source: str, url: str) -> str:
    payload = "\x1f".join([title, text, published.isoformat() if published else "", source, url])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def make_article(
    doc_id: str,
    text: str,
    title: str = "",
    source: str = "",
    url: str = "",
    published: date | None = None,
    path: str = "",
) -> Article:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    title = title.strip() or title_from_text(text)
    return Article(
        doc_id=doc_id,
        title=title,
        text=text,
        source=source,
        url=url,
        published=published,
        path=path,
        content_hash=content_hash(title, text, published, source, url),
    )


def title_from_text(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= _TITLE_MAX:
        return first
    return first[:_TITLE_MAX].rsplit(" ", 1)[0] + "…"


def parse_date(value: object) -> date | None:
    """ISO dates first (the corpus format); free text ("Jan 24, 2026") through dateparser."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    import dateparser  # slow to import; only free-text dates need it

    parsed = dateparser.parse(text, settings={"PREFER_DAY_OF_MONTH": "first"})
    return parsed.date() if parsed else None


def read_text_file(path: Path) -> str:
    """Text of a file, tolerating legacy encodings; a binary file is an input error."""
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise InputError(f"{path} is not a text file (it contains binary data).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # the usual legacy encoding of English news; guessing does worse on short texts
        return data.decode("cp1252")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise InputError(f"{path} is not a text file (its encoding cannot be recognised).")
        return str(best)


_META_LINE = re.compile(r"^(title|date|published|source|url)\s*:\s*(.+)$", re.IGNORECASE)


def load_text(path: Path, doc_id: str) -> Article:
    raw = read_text_file(path)
    meta: dict[str, str] = {}
    body = raw
    if path.suffix.lower() in {".md", ".markdown"}:
        body, meta = _split_front_matter(raw)
        body = _plain_markdown(body)
    else:
        body, meta = _leading_meta_lines(raw)
    if not body.strip():
        raise InputError(f"{path} is empty.")
    return make_article(
        doc_id,
        body,
        title=meta.get("title", ""),
        source=meta.get("source", ""),
        url=meta.get("url", ""),
        published=parse_date(meta.get("published") or meta.get("date")),
        path=str(path.resolve()),
    )


def load_html(path: Path, doc_id: str) -> Article:
    import trafilatura

    raw = read_text_file(path)
    doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False)
    text = (doc.text or "") if doc is not None else ""
    if not text.strip():
        raise InputError(f"{path} has no article text that could be extracted.")
    return make_article(
        doc_id,
        text,
        title=doc.title or "",
        source=doc.sitename or doc.hostname or "",
        url=doc.url or "",
        published=parse_date(doc.date),
        path=str(path.resolve()),
    )


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for every non-blank line; a malformed line is an `InputError` naming it."""
    opener = gzip.open if suffix_of(path) == ".jsonl.gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg}).") from None
            if not isinstance(record, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object.")
            yield lineno, record


def load_jsonl(path: Path) -> Iterator[Article]:
    """Articles of a corpus file. Every line is checked before the first is yielded, so a broken
    line rejects the whole file and nothing of it reaches the index half-done."""
    for lineno, record in iter_jsonl(path):
        _check_corpus_record(path, lineno, record)
    for lineno, record in iter_jsonl(path):
        yield make_article(
            str(record["id"]),
            record["text"],
            title=str(record.get("title") or ""),
            source=str(record.get("source") or ""),
            url=str(record.get("url") or ""),
            published=parse_date(record.get("published")),
            path=str(path.resolve()),
        )


def _check_corpus_record(path: Path, lineno: int, record: dict) -> None:
    for key in ("id", "text"):
        if key not in record or record[key] in (None, ""):
            raise InputError(f"{path}:{lineno}: missing required field '{key}'.")
    if not isinstance(record["text"], str):
        raise InputError(f"{path}:{lineno}: field 'text' must be a string.")


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under each path, folders recursively, in a stable order."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and suffix_of(child) in SUPPORTED and not child.name.startswith("."):
                    yield child
        else:
            yield path


def check_paths(paths: Iterable[Path]) -> list[Path]:
    checked = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path} does not exist.")
        if path.is_file() and suffix_of(path) not in SUPPORTED:
            raise InputError(
                f"{path} is not a supported file type; use one of: {', '.join(SUPPORTED)}."
            )
        checked.append(path)
    return checked


def load_file(path: Path, doc_id: str) -> Article:
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty.")
    if suffix_of(path) in {".html", ".htm"}:
        return load_html(path, doc_id)
    return load_text(path, doc_id)


def _split_front_matter(raw: str) -> tuple[str, dict[str, str]]:
    if not raw.startswith("---"):
        return _leading_meta_lines(raw)
    end = raw.find("\n---", 3)
    if end == -1:
        return raw, {}
    meta = {}
    for line in raw[3:end].splitlines():
        match = _META_LINE.match(line.strip())
        if match:
            meta[match.group(1).lower()] = match.group(2).strip().strip("\"'")
    return raw[end + 4 :].lstrip("\n"), meta


def _leading_meta_lines(raw: str) -> tuple[str, dict[str, str]]:
    """`Title: …` / `Published: …` header lines at the top of a plain-text article."""
    meta: dict[str, str] = {}
    lines = raw.split("\n")
    consumed = 0
    for line in lines[:6]:
        match = _META_LINE.match(line.strip())
        if not match:
            break
        meta[match.group(1).lower()] = match.group(2).strip()
        consumed += 1
    if not consumed:
        return raw, meta
    return "\n".join(lines[consumed:]).lstrip("\n"), meta


def _plain_markdown(text: str) -> str:
    text = re.sub(r"^#{1,6}\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return text
