"""Sentence-aware chunking: passages of whole sentences, small enough to cite, with article offsets."""

from __future__ import annotations

from bisect import bisect_right

from collections.abc import Iterator

from qa_bot.ingest.dates import find_dates
from qa_bot.ingest.sentences import bounded_spans, sentence_spans
from qa_bot.settings import Settings
from qa_bot.types import Article, Chunk


def chunk_article(
    article: Article, chunk_words: int = 60, max_words: int | None = None, max_chars: int | None = None
) -> list[Chunk]:
    """All of `iter_chunks`; use that for an article too big to hold its chunks at once."""
    return list(iter_chunks(article, chunk_words, max_words, max_chars))


def iter_chunks(
    article: Article, chunk_words: int = 60, max_words: int | None = None, max_chars: int | None = None
) -> Iterator[Chunk]:
    """Packs consecutive sentences until a passage reaches about `chunk_words` words.

    A passage never splits a sentence of ordinary length, so a citation can point at whole
    sentences; a sentence up to `max_words` words becomes a passage of its own. Past that ceiling
    (or `max_chars` characters) the text has no usable sentence ends and is cut at word boundaries
    into passages of `chunk_words`. The ceilings default to the settings' `max_chunk_*`.
    """
    if chunk_words <= 0:
        raise ValueError(f"chunk_words must be > 0, got {chunk_words}")
    defaults = Settings.model_fields
    max_words = max_words or defaults["max_chunk_words"].default
    max_chars = max_chars or defaults["max_chunk_chars"].default
    budget = min(chunk_words, max_words)
    text = article.text
    current: list[tuple[int, int]] = []
    words = 0
    index = 0
    for start, end in bounded_spans(text, sentence_spans(text), max_words, max_chars, budget):
        n = len(text[start:end].split())
        new_page = bool(article.pages) and bisect_right(article.pages, start) != bisect_right(article.pages, current[0][0]) if current else False
        if current and (words + n > budget or end - current[0][0] > max_chars or new_page):
            yield _chunk(article, index, current[0][0], current[-1][1])
            index += 1
            current, words = [], 0
        current.append((start, end))
        words += n
    if current:
        yield _chunk(article, index, current[0][0], current[-1][1])


def _chunk(article: Article, index: int, start: int, end: int) -> Chunk:
    text = article.text[start:end]
    return Chunk(
        chunk_id=f"{article.doc_id}#{index:04d}",
        doc_id=article.doc_id,
        text=text,
        start=start,
        end=end,
        title=article.title,
        source=article.source,
        published=article.published,
        dates=tuple(find_dates(text, article.published)),
        page=bisect_right(article.pages, start) if article.pages else None,
    )


def indexed_text(chunk: Chunk) -> str:
    """What is embedded and searched for a chunk: titles carry the topic a passage may only imply."""
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def indexed_sentence_spans(chunk: Chunk) -> list[tuple[int, int]]:
    """Where each of the chunk's sentences sits in `indexed_text(chunk)`: the spans whose
    in-context vectors ingest caches and the answerer reads."""
    shift = len(chunk.title) + 1 if chunk.title else 0
    return [(shift + s, shift + e) for s, e in sentence_spans(chunk.text)]
