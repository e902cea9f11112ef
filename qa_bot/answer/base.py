"""What every answerer takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from qa_bot.answer.select import Evidence
from qa_bot.types import Citation, ScoredChunk

if TYPE_CHECKING:
    from qa_bot.language.profile import QuestionProfile

ABSTAIN_TEXT = "The indexed articles do not answer this question."


@dataclass(frozen=True)
class AnswerDraft:
    """An answerer's output before QABot wraps it with the question and retrieval context."""

    text: str
    abstained: bool
    citations: list[Citation]
    answerer: str
    evidence_score: float
    fallback_reason: str = ""


class Answerer(Protocol):
    name: str

    def answer(
        self, question: str, passages: list[ScoredChunk], evidence: list[Evidence], asked_on: date,
        profile: QuestionProfile | None = None,
    ) -> AnswerDraft: ...


def cite(n: int, evidence: Evidence) -> Citation:
    chunk = evidence.passage.chunk
    return Citation(
        n=n,
        doc_id=chunk.doc_id,
        title=chunk.title,
        text=chunk.text,
        start=evidence.start,
        end=evidence.end,
        score=evidence.score,
        chunk_id=chunk.chunk_id,
        passage_start=chunk.start,
        source=chunk.source,
        published=chunk.published,
        page=chunk.page,
    )
