"""Sentence boundaries as character spans, so every cited sentence can be located in its article."""

from __future__ import annotations

import re

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
