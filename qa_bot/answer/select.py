"""Scores every sentence of the retrieved passages as evidence for the question.

A sentence is good evidence when it means what the question asks (cosine), shares the question's
rare words (IDF-weighted coverage) and holds the kind of thing asked for (a date for "when").
The best score doubles as the answerability signal: below a threshold the bot abstains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from qa_bot.embed import Embedder
from qa_bot.ingest.sentences import sentence_spans
from qa_bot.ingest.dates import find_dates
from qa_bot.retrieve.question import QuestionType, classify, matches_type, temporal_direction
from qa_bot.text import terms
from qa_bot.types import ScoredChunk

# Words of the question that say what is asked rather than what about.
# Temporal qualifiers ("next", "latest") are resolved against dates, not matched as words.
_QUESTION_FRAME = frozenset(
    terms("name happen happened mention mentioned say said according article report kind type")
    + terms("next upcoming last latest recent recently previous current")
)

W_DENSE, W_LEXICAL, W_TYPE = 0.45, 0.45, 0.10
W_TEMPORAL = 0.15
_NEEDS_MATCH = frozenset({QuestionType.WHEN, QuestionType.HOW_MANY})


@dataclass(frozen=True)
class Evidence:
    passage: ScoredChunk
    passage_rank: int
    start: int  # sentence offsets into the article text
    end: int
    text: str
    dense: float
    lexical: float
    type_match: bool
    score: float


def select_evidence(
    question: str,
    question_vector: np.ndarray,
    passages: Sequence[ScoredChunk],
    embedder: Embedder,
    idf: Callable[[str], float],
    asked_on: date | None = None,
) -> list[Evidence]:
    """Every sentence of every passage, best evidence first."""
    kind = classify(question)
    direction = temporal_direction(question)
    q_terms = {t for t in terms(question) if t not in _QUESTION_FRAME}
    q_weight = sum(idf(t) for t in q_terms) or 1.0
    unseen = idf("\x00")  # the weight of a word no indexed passage contains
    # the question's most specific word, when not one indexed passage uses it: likely another topic
    off_topic = any(idf(t) >= unseen for t in q_terms)
    candidates: list[tuple[int, ScoredChunk, int, int, str]] = []
    for rank, passage in enumerate(passages):
        chunk = passage.chunk
        for s, e in sentence_spans(chunk.text):
            candidates.append((rank, passage, chunk.start + s, chunk.start + e, chunk.text[s:e]))
    if not candidates:
        return []
    vectors = embedder.encode([c[4] for c in candidates])
    cosines = vectors @ question_vector
    evidence = []
    for (rank, passage, start, end, text), cosine in zip(candidates, cosines):
        s_terms = set(terms(text)) | set(terms(passage.chunk.title))
        lexical = sum(idf(t) for t in q_terms & s_terms) / q_weight if q_terms else 0.0
        typed = kind is not QuestionType.OTHER and matches_type(kind, text)
        score = W_DENSE * float(cosine) + W_LEXICAL * lexical + W_TYPE * typed
        if off_topic:
            score *= 0.8
        if kind in _NEEDS_MATCH and not typed:
            score *= 0.6  # "when" without a date, "how many" without a number, cannot be the answer
        if direction and asked_on:
            score += W_TEMPORAL * _temporal_fit(direction, find_dates(text, passage.chunk.published or asked_on), asked_on)
        evidence.append(Evidence(passage, rank, start, end, text, float(cosine), lexical, typed, score))
    evidence.sort(key=lambda e: (-e.score, e.passage_rank, e.start))
    return evidence


def rerank_by_evidence(passages: Sequence[ScoredChunk], evidence: Sequence[Evidence]) -> list[ScoredChunk]:
    """Passages ordered by their best sentence: the passage holding the answer should come first."""
    best: dict[str, float] = {}
    for item in evidence:
        cid = item.passage.chunk.chunk_id
        best[cid] = max(best.get(cid, float("-inf")), item.score)
    order = sorted(range(len(passages)), key=lambda i: (-best.get(passages[i].chunk.chunk_id, float("-inf")), i))
    return [passages[i] for i in order]


def _temporal_fit(direction: int, dates: list[date], asked_on: date) -> float:
    """1 for the date nearest `asked_on` on the asked side ("next": after, "last": before), less
    the further it lies; 0 when the sentence has no date on that side."""
    side = [d for d in dates if (d >= asked_on if direction > 0 else d <= asked_on)]
    if not side:
        return 0.0
    gap = min(abs((d - asked_on).days) for d in side)
    return 1.0 / (1.0 + gap / 30.0)
