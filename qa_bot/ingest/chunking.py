"""Sentence-aware chunking: passages of whole sentences, small enough to cite, with article offsets."""

from __future__ import annotations

from qa_bot.ingest.dates import find_dates
from qa_bot.ingest.sentences import sentence_spans
from qa_bot.types import Article, Chunk


def chunk_article(article: Article, chunk_words: int = 60) -> list[Chunk]:
    """Packs consecutive sentences until a passage reaches about `chunk_words` words.

    A passage never splits a sentence, so a citation can always point at whole sentences; a single
    sentence longer than the budget becomes a passage of its own.
    """
    if chunk_words <= 0:
        raise ValueError(f"chunk_words must be > 0, got {chunk_words}")
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    words = 0
    for start, end in sentence_spans(article.text):
        n = len(article.text[start:end].split())
        if current and words + n > chunk_words:
            groups.append(current)
            current, words = [], 0
        current.append((start, end))
        words += n
    if current:
        groups.append(current)
    return [
        Chunk(
            chunk_id=f"{article.doc_id}#{i:04d}",
            doc_id=article.doc_id,
            text=article.text[group[0][0] : group[-1][1]],
            start=group[0][0],
            end=group[-1][1],
            title=article.title,
            source=article.source,
            published=article.published,
            dates=tuple(find_dates(article.text[group[0][0] : group[-1][1]], article.published)),
        )
        for i, group in enumerate(groups)
    ]


def indexed_text(chunk: Chunk) -> str:
    """What is embedded and searched for a chunk: titles carry the topic a passage may only imply."""
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def indexed_sentence_spans(chunk: Chunk) -> list[tuple[int, int]]:
    """Where each of the chunk's sentences sits in `indexed_text(chunk)`: the spans whose
    in-context vectors ingest caches and the answerer reads."""
    shift = len(chunk.title) + 1 if chunk.title else 0
    return [(shift + s, shift + e) for s, e in sentence_spans(chunk.text)]
