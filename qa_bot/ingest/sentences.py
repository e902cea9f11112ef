"""Sentence boundaries as character spans, so every cited sentence can be located in its article."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Words that end with a period without ending a sentence ("Gov. Gladkov", "Feb. 1", "U.S. forces").
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "gov", "sen", "rep", "lt", "col",
    "capt", "adm", "sgt", "maj", "cpl", "pres", "rev", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "no", "vs", "etc", "inc", "corp", "ltd", "co", "mt",
    "ft", "e.g", "i.e", "u.s", "u.k", "u.n", "a.m", "p.m", "approx", "dept", "est", "fig", "op",
}

_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-Ý])")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]*[\"'”’)\]]*$")


def _is_abbreviation(text: str, end: int) -> bool:
    match = _WORD_BEFORE.search(text, max(0, end - 20), end)
    if not match:
        return False
    word = match.group(1).rstrip(".").lower()
    if word in _ABBREVIATIONS:
        return True
    # a lone initial ("John F. Kennedy") or a dotted acronym ("U.S.")
    return len(word) == 1 and word.isalpha() or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans [start, end) of the sentences in text[start:end], trimmed of surrounding whitespace.

    Line breaks always end a sentence: news text puts headlines, bylines and paragraphs on their own
    lines, and none of them should run into the next.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        line_start = start + line.start()
        line_end = start + line.end()
        cursor = line_start
        for boundary in _BOUNDARY.finditer(text, line_start, line_end):
            cut = boundary.end()
            punct_end = boundary.start() + len(boundary.group().rstrip())
            if _is_abbreviation(text, punct_end):
                continue
            _append(text, spans, cursor, punct_end)
            cursor = cut
        _append(text, spans, cursor, line_end)
    return spans


def _append(text: str, spans: list[tuple[int, int]], start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


_WORD = re.compile(r"\S+")


def bounded_spans(
    text: str, spans: Iterable[tuple[int, int]], max_words: int, max_chars: int, piece_words: int
) -> Iterator[tuple[int, int]]:
    """The spans, with any longer than `max_words` words or `max_chars` characters cut into pieces.

    Punctuation is not something an article owes us: a 5 MB line without a full stop is one
    "sentence". Pieces end at word boundaries and hold at most `piece_words` words and `max_chars`
    characters; a single "word" longer than `max_chars` is cut inside. Offsets stay those of `text`.
    """
    for start, end in spans:
        if end - start <= max_chars and _fewer_words_than(text, start, end, max_words + 1):
            yield start, end
        else:
            yield from _pieces(text, start, end, min(piece_words, max_words), max_chars)


def _fewer_words_than(text: str, start: int, end: int, limit: int) -> bool:
    for n, _ in enumerate(_WORD.finditer(text, start, end), 1):
        if n >= limit:
            return False
    return True


def _pieces(text: str, start: int, end: int, words: int, chars: int) -> Iterator[tuple[int, int]]:
    piece_start = piece_end = -1
    n = 0
    for match in _WORD.finditer(text, start, end):
        word_start, word_end = match.span()
        if piece_start >= 0 and (n == words or word_end - piece_start > chars):
            yield piece_start, piece_end
            piece_start, n = -1, 0
        while word_end - word_start > chars:  # one "word" bigger than a piece
            yield word_start, word_start + chars
            word_start += chars
        if piece_start < 0:
            piece_start = word_start
        piece_end = word_end
        n += 1
    if piece_start >= 0:
        yield piece_start, piece_end
