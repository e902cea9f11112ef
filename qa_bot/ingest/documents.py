"""PDF and Word documents as plain text: a PDF's pages are kept apart (where each page starts in
the text), so a passage never runs across two pages and a citation can name its page."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date

from qa_bot.errors import InputError

PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
PAGE_BREAK = "\n\n"


@dataclass(frozen=True)
class Document:
    title: str
    text: str
    pages: tuple[int, ...] = ()  # where page 1, 2, … starts in `text`; empty when not paged
    published: date | None = None
    author: str = ""


def read_pdf(data: bytes, where: str) -> Document:
    """Text per page (pypdf's layout-free extraction), joined with blank lines."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{where} is an encrypted PDF; save it without a password first.")
        texts = [_tidy(page.extract_text() or "") for page in reader.pages]
        meta = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{where} is not a readable PDF ({type(exc).__name__}).") from None
    pages, parts, offset = [], [], 0
    for text in texts:
        pages.append(offset)
        parts.append(text)
        offset += len(text) + len(PAGE_BREAK)
    body = PAGE_BREAK.join(parts)
    if not body.strip():
        raise InputError(f"{where} has no text to read (a scanned PDF needs OCR first).")
    title = (getattr(meta, "title", None) or "") if meta else ""
    created = getattr(meta, "creation_date", None) if meta else None
    return Document(str(title).strip(), body, tuple(pages), created.date() if created else None)


def read_docx(data: bytes, where: str) -> Document:
    """Paragraphs and table cells in document order; the core properties give title and date."""
    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise InputError(f"{where} is not a readable Word document ({type(exc).__name__}).") from None
    lines = [p.text.strip() for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    body = "\n".join(line for line in lines if line)
    if not body.strip():
        raise InputError(f"{where} has no text to read.")
    props = document.core_properties
    published = (props.created or props.modified)
    return Document((props.title or "").strip(), body, (), published.date() if published else None, props.author or "")


def _tidy(text: str) -> str:
    """A PDF line break inside a sentence is layout, not a sentence end: lines are joined unless
    the line before ends a sentence or is short (a heading)."""
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        if out and out[-1] and not out[-1].endswith((".", "!", "?", ":", "”", '"')) and len(out[-1]) > 40:
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return "\n".join(out).strip()
