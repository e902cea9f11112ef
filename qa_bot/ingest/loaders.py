"""Files and JSONL records in, `Article`s out: one loader per format, all streaming."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path

from qa_bot.errors import InputError, quoted
from qa_bot.ingest.documents import DOCX_SUFFIXES, PDF_SUFFIXES, read_docx, read_pdf
from qa_bot.settings import Settings
from qa_bot.types import Article

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
CORPUS_SUFFIXES = {".jsonl", ".jsonl.gz"}
SUPPORTED = sorted(TEXT_SUFFIXES | CORPUS_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES)
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
    pages: tuple[int, ...] = (),
) -> Article:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    title = title.strip() or title_from_text(text)
    if len(title) > 2 * _TITLE_MAX:  # a title is shown with every citation: keep it a title
        title = title_from_text(title[: 2 * _TITLE_MAX])
    return Article(
        doc_id=doc_id,
        title=title,
        text=text,
        source=source,
        url=url,
        published=published,
        path=path,
        content_hash=content_hash(title, text, published, source, url),
        pages=pages,
    )


def title_from_text(text: str) -> str:
    # the first non-blank line, without splitting a big article into all of its lines
    match = re.search(r"\S[^\n]*", text)
    first = match.group().strip() if match else ""
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


_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# control characters a text file may hold: tab, line breaks, form feed
_LAYOUT = {"\t", "\n", "\r", "\x0b", "\x0c"}
_INVISIBLE = str.maketrans("", "", "\u200b\u200c\u200d\u2060\ufeff")


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark announces, if the data starts with one."""
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


def read_bytes(path: Path) -> bytes:
    """A file's bytes; a file that cannot be read is an input error, not a traceback."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or type(exc).__name__}).") from None


def read_text_file(path: Path, max_control_share: float | None = None) -> str:
    """Text of a file: the encoding its byte-order mark names, else UTF-8, else cp1252 (the usual
    legacy encoding of English news; guessing does worse on short texts), else charset detection.
    Binary content is an input error: a NUL anywhere (after decoding) or mostly control characters."""
    data = read_bytes(path)
    encoding = bom_encoding(data)
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise InputError(f"{path} is not a text file (it is not valid {encoding.upper()} after its byte-order mark).") from None
    elif b"\x00" in data:
        raise InputError(f"{path} is not a text file (it contains binary data).")
    else:
        text = _decode_guessing(path, data)
    check_text(text, str(path), max_control_share=max_control_share)
    return text


def _decode_guessing(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise InputError(f"{path} is not a text file (its encoding cannot be recognised).") from None
        return str(best)


def check_text(text: str, where: str, noun: str = "a text file", max_control_share: float | None = None) -> None:
    """Refuses text that is not prose: NULs anywhere, or more than `max_control_share` of its
    characters control codes (random bytes decode to about 12%; real text to none)."""
    if "\x00" in text:
        raise InputError(f"{where} is not {noun} (it contains binary data).")
    if max_control_share is None:
        max_control_share = Settings.model_fields["max_control_share"].default
    sample = text[:1_000_000]  # a share, so a sample of a big file says it
    controls = sum(1 for ch in sample if ch < " " and ch not in _LAYOUT or "\x7f" <= ch <= "\x9f")
    if sample and controls / len(sample) > max_control_share:
        raise InputError(
            f"{where} is not {noun} ({controls / len(sample):.0%} of its characters are control codes)."
        )


def is_blank(text: str) -> bool:
    """Nothing to index: whitespace and invisible characters only."""
    return not text.translate(_INVISIBLE).strip()


_META_LINE = re.compile(r"^(title|date|published|source|url)\s*:\s*(.+)$", re.IGNORECASE)


def load_text(path: Path, doc_id: str, max_control_share: float | None = None) -> Article:
    raw = read_text_file(path, max_control_share)
    meta: dict[str, str] = {}
    body = raw
    if path.suffix.lower() in {".md", ".markdown"}:
        body, meta = _split_front_matter(raw)
        body = _plain_markdown(body)
    else:
        body, meta = _leading_meta_lines(raw)
    if is_blank(body):
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


def load_html(path: Path, doc_id: str, max_control_share: float | None = None) -> Article:
    import trafilatura

    raw = read_text_file(path, max_control_share)
    doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False)
    text = (doc.text or "") if doc is not None else ""
    if is_blank(text):
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


def _jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of a corpus file, streamed. A byte-order mark decides the encoding;
    without one each line is UTF-8, or cp1252/Latin-1 when it is not (a file mixing them exists)."""
    opener = gzip.open if suffix_of(path) == ".jsonl.gz" else open
    try:
        with opener(path, "rb") as raw:
            encoding = bom_encoding(raw.peek(4)[:4] if hasattr(raw, "peek") else b"")
            if encoding:
                with io.TextIOWrapper(raw, encoding=encoding, newline="") as handle:
                    yield from enumerate(handle, 1)
                return
            for lineno, line in enumerate(raw, 1):
                yield lineno, _decode_line(line)
    except OSError as exc:  # unreadable, or a damaged .gz
        raise InputError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not valid {exc.encoding.upper()} text.") from None


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="strict") if _cp1252_ok(line) else line.decode("latin-1")


def _cp1252_ok(line: bytes) -> bool:
    try:
        line.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for every non-blank line; a malformed line is an `InputError` naming it."""
    for lineno, line in _jsonl_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise InputError(f"{path}:{lineno}: not valid JSON ({reason}).") from None
        if not isinstance(record, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object.")
        yield lineno, record


def check_jsonl(path: Path, max_control_share: float | None = None) -> None:
    """Reads a corpus file whole and raises an `InputError` naming the first bad line."""
    first_line: dict[str, int] = {}
    for lineno, record in iter_jsonl(path):
        _check_corpus_record(path, lineno, record, max_control_share)
        doc_id = str(record["id"])
        if doc_id in first_line:
            raise InputError(
                f"{path}:{lineno}: id '{quoted(doc_id)}' is already used on line {first_line[doc_id]}; "
                "ids must be unique within a corpus file."
            )
        first_line[doc_id] = lineno


def load_jsonl(path: Path, checked: bool = False) -> Iterator[Article]:
    """Articles of a corpus file. Every line is checked before the first is yielded (unless the
    caller has run `check_jsonl`), so a broken line rejects the whole file and nothing of it
    reaches the index half-done."""
    if not checked:
        check_jsonl(path)
    for _, record in iter_jsonl(path):
        yield make_article(
            str(record["id"]),
            record["text"],
            title=_field(record.get("title")),
            source=_field(record.get("source")),
            url=_field(record.get("url")),
            published=_safe_date(record.get("published")),
            path=str(path.resolve()),
        )


def _field(value: object) -> str:
    return value if isinstance(value, str) else str(value) if value not in (None, "") else ""


def _safe_date(value: object) -> date | None:
    """A published date that cannot be read is left out, not an error: the text still counts."""
    try:
        return parse_date(value)
    except (ValueError, OverflowError, TypeError):
        return None


def _check_corpus_record(path: Path, lineno: int, record: dict, max_control_share: float | None = None) -> None:
    for key in ("id", "text"):
        if key not in record or record[key] in (None, ""):
            raise InputError(f"{path}:{lineno}: missing required field '{key}'.")
    if not isinstance(record["text"], str):
        raise InputError(f"{path}:{lineno}: field 'text' must be a string.")
    if isinstance(record["id"], (dict, list)):
        raise InputError(f"{path}:{lineno}: field 'id' must be a string or a number.")
    if is_blank(record["text"]):
        raise InputError(f"{path}:{lineno}: field 'text' is blank.")
    check_text(record["text"], f"{path}:{lineno}: field 'text'", noun="text", max_control_share=max_control_share)


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


def load_file(path: Path, doc_id: str, max_control_share: float | None = None) -> Article:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or type(exc).__name__}).") from None
    if size == 0:
        raise InputError(f"{path} is empty.")
    if suffix_of(path) in {".html", ".htm"}:
        return load_html(path, doc_id, max_control_share)
    if suffix_of(path) in PDF_SUFFIXES | DOCX_SUFFIXES:
        return load_document(path, doc_id)
    return load_text(path, doc_id, max_control_share)


def load_document(path: Path, doc_id: str) -> Article:
    """A PDF (its pages kept) or a Word document."""
    read = read_pdf if suffix_of(path) in PDF_SUFFIXES else read_docx
    doc = read(read_bytes(path), str(path))
    return make_article(
        doc_id, doc.text, title=doc.title, source=doc.author, published=doc.published,
        path=str(path.resolve()), pages=doc.pages,
    )


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
    lines = raw.split("\n", 6)  # the header is at most six lines; the rest stays one string
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
