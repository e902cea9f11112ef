"""Question-aware boosts applied to the fused ranking before it is cut: a "when" question prefers
passages with dates, "how many" numbers, "who" names; and, when the day of the question is known,
articles published shortly before it (news questions are about the news of their week)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from qa_bot.language.kinds import holds_kind
from qa_bot.language.profile import QuestionProfile
from qa_bot.settings import Tuning
from qa_bot.types import ScoredChunk


def recency(
    published: date | None, asked_on: date | None,
    half_life_days: float = Tuning.model_fields["recency_half_life_days"].default,
) -> float:
    """1 for an article from the day of the question, ½ a half-life before, 0 for later or undated ones."""
    if published is None or asked_on is None:
        return 0.0
    age = (asked_on - published).days
    if age < 0:
        return 0.0
    return 0.5 ** (age / half_life_days)


def boost(
    ranked: Sequence[ScoredChunk], profile: QuestionProfile | None = None, asked_on: date | None = None,
    tuning: Tuning | None = None,
) -> list[ScoredChunk]:
    """A new ranking; the inputs are not modified. Without the question's profile only recency counts."""
    tuning = tuning or Tuning()
    direction = profile.direction if profile else 0
    boosted = []
    for item in ranked:
        factor = 1.0
        if profile and holds_kind(profile.answer_type, item.chunk.text):
            factor += tuning.type_boost
        if direction and asked_on and _dated_on_side(item.chunk.dates, direction, asked_on):
            factor += tuning.type_boost  # "next talks": a date still ahead of the question
        factor += tuning.recency_boost * recency(item.chunk.published, asked_on, tuning.recency_half_life_days)
        boosted.append(replace(item, score=item.score * factor))
    return sorted(boosted, key=lambda s: -s.score)


def _dated_on_side(dates: Sequence[date], direction: int, asked_on: date) -> bool:
    return any(d >= asked_on if direction > 0 else d <= asked_on for d in dates)
