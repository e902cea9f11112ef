"""Question-aware boosts applied to the fused ranking before it is cut: a "when" question prefers
passages with dates, "how many" numbers, "who" names; and, when the day of the question is known,
articles published shortly before it (news questions are about the news of their week)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from qa_bot.retrieve.question import QuestionType, classify, matches_type, temporal_direction
from qa_bot.types import ScoredChunk

TYPE_BOOST = 0.15  # relative bonus for a passage holding the kind of thing asked for
RECENCY_BOOST = 0.3  # relative bonus for an article published the day the question is asked
RECENCY_HALF_LIFE_DAYS = 7.0


def recency(published: date | None, asked_on: date | None) -> float:
    """1 for an article from the day of the question, ½ a week before, 0 for later or undated ones."""
    if published is None or asked_on is None:
        return 0.0
    age = (asked_on - published).days
    if age < 0:
        return 0.0
    return 0.5 ** (age / RECENCY_HALF_LIFE_DAYS)


def boost(
    ranked: Sequence[ScoredChunk], question: str, asked_on: date | None = None, kind: QuestionType | None = None
) -> list[ScoredChunk]:
    """A new ranking; the inputs are not modified. `kind` is the question's, from its profile."""
    kind = classify(question) if kind is None else kind
    direction = temporal_direction(question)
    boosted = []
    for item in ranked:
        factor = 1.0
        if kind is not QuestionType.OTHER and matches_type(kind, item.chunk.text):
            factor += TYPE_BOOST
        if direction and asked_on and _dated_on_side(item.chunk.dates, direction, asked_on):
            factor += TYPE_BOOST  # "next talks": a date still ahead of the question
        factor += RECENCY_BOOST * recency(item.chunk.published, asked_on)
        boosted.append(replace(item, score=item.score * factor))
    return sorted(boosted, key=lambda s: -s.score)


def _dated_on_side(dates: Sequence[date], direction: int, asked_on: date) -> bool:
    return any(d >= asked_on if direction > 0 else d <= asked_on for d in dates)
