"""Articles from the web: an article's URL, an RSS/Atom feed (each entry's link fetched), or a list
of them (`.opml`, or a `.urls` file with one address a line). Entries already indexed are skipped
by URL before anything is fetched; a feed that has not changed since the last poll costs one
conditional request. A broken entry is one skipped line and the rest goes on."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

from qa_bot.errors import InputError
from qa_bot.ingest.documents import read_docx, read_pdf
from qa_bot.ingest.fetch import Fetched, Fetcher, is_url
from qa_bot.types import Article

LIST_SUFFIXES = {".opml", ".urls"}
_FEED_TYPES = ("rss", "atom", "xml")
_SLUG = re.compile(r"[^a-z0-9]+")


def url_doc_id(url: str) -> str:
    """A stable, readable id for the article at `url`: its host and path, and a hash to keep it unique."""
    parts = urlsplit(url)
    slug = _SLUG.sub("-", f"{parts.hostname or ''}{parts.path}".lower()).strip("-")[:60]
    return f"{slug}-{hashlib.sha1(url.encode('utf-8')).hexdigest()[:8]}"


def read_source_list(path: Path) -> list[str]:
    """The addresses in an OPML file (its outlines' xmlUrl) or a `.urls` file (one a line, # comments)."""
    if path.suffix.lower() == ".opml":
        try:
            root = ElementTree.parse(path).getroot()
        except ElementTree.ParseError as exc:
            raise InputError(f"{path} is not a readable OPML file ({exc}).") from None
        return [o.get("xmlUrl") for o in root.iter("outline") if is_url(o.get("xmlUrl"))]
    lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    urls = [line for line in lines if line and not line.startswith("#")]
    bad = [line for line in urls if not is_url(line)]
    if bad:
        raise InputError(f"{path}: '{bad[0][:60]}' is not an http(s) address.")
    return urls


@dataclass(frozen=True)
class FeedEntry:
    link: str
    title: str
    published: str


def looks_like_feed(fetched: Fetched) -> bool:
    kind = fetched.content_type.lower()
    if "html" in kind:
        return False
    if any(word in kind for word in _FEED_TYPES):
        return True
    head = fetched.body[:1024].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in fetched.body[:4096].lower() or b"<feed" in fetched.body[:4096].lower())


def feed_entries(body: bytes, where: str) -> list[FeedEntry]:
    import feedparser

    parsed = feedparser.parse(body)
    if not parsed.entries and parsed.get("bozo"):
        raise InputError(f"{where} is not a readable RSS or Atom feed.")
    entries = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if is_url(link):
            entries.append(FeedEntry(link, entry.get("title") or "", entry.get("published") or entry.get("updated") or ""))
    return entries


def article_from(fetched: Fetched, entry: FeedEntry | None = None) -> Article:
    """The article in a fetched page, PDF or Word document; the URL is kept as its `url`."""
    from qa_bot.ingest.loaders import make_article, parse_date

    url = fetched.url
    kind = fetched.content_type.lower()
    suffix = Path(urlsplit(url).path).suffix.lower()
    doc_id = url_doc_id(url)
    site = urlsplit(url).hostname or ""
    fallback_title = entry.title if entry else ""
    fallback_date = parse_date(entry.published) if entry and entry.published else None
    if "pdf" in kind or suffix == ".pdf":
        doc = read_pdf(fetched.body, url)
        return make_article(doc_id, doc.text, title=doc.title or fallback_title, source=site, url=url,
                            published=doc.published or fallback_date, path=url, pages=doc.pages)
    if "wordprocessingml" in kind or suffix == ".docx":
        doc = read_docx(fetched.body, url)
        return make_article(doc_id, doc.text, title=doc.title or fallback_title, source=site, url=url,
                            published=doc.published or fallback_date, path=url)
    import trafilatura

    html = fetched.body.decode(_charset(kind) or "utf-8", errors="replace")
    page = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    text = (page.text or "") if page is not None else ""
    if not text.strip():
        raise InputError(f"{url} has no article text that could be extracted.")
    return make_article(
        doc_id, text, title=(page.title or fallback_title), source=page.sitename or site, url=url,
        published=parse_date(page.date) or fallback_date, path=url,
    )


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=([\w-]+)", content_type)
    return match.group(1) if match else None


@dataclass
class WebSources:
    """Reads URLs into articles; kept across the polls of `ingest --follow` for the feeds' validators."""

    fetcher: Fetcher = field(default_factory=Fetcher)
    validators: dict[str, tuple[str, str]] = field(default_factory=dict)  # feed URL -> (ETag, Last-Modified)

    def articles(
        self, url: str, known_urls: set[str], skip: Callable[[str], None], public_only: bool = False
    ) -> Iterator[Article]:
        """The article at `url`, or the new entries of the feed at `url`; what fails is passed to `skip`."""
        etag, modified = self.validators.get(url, ("", ""))
        fetched = self.fetcher.get(url, etag, modified, public_only)  # the address itself must answer
        if fetched.status == 304:
            return
        if not looks_like_feed(fetched):
            yield article_from(fetched)
            return
        self.validators[url] = (fetched.etag, fetched.last_modified)
        for entry in feed_entries(fetched.body, url):
            if entry.link in known_urls:
                continue
            try:
                yield article_from(self.fetcher.get(entry.link, public_only=public_only), entry)
            except InputError as exc:
                skip(str(exc))
