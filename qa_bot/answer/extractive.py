"""The default answerer: quotes the best evidence sentence. It needs no model and cannot invent."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from qa_bot.answer.base import ABSTAIN_TEXT, AnswerDraft, cite
from qa_bot.answer.select import Evidence
from qa_bot.types import ScoredChunk

if TYPE_CHECKING:
    from qa_bot.language.profile import QuestionProfile


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, min_evidence: float):
        self.min_evidence = min_evidence

    def answer(
        self, question: str, passages: list[ScoredChunk], evidence: list[Evidence], asked_on: date,
        profile: QuestionProfile | None = None,
    ) -> AnswerDraft:
        best = evidence[0] if evidence else None
        score = best.support if best else 0.0
        if best is None or score < self.min_evidence:
            return AnswerDraft(ABSTAIN_TEXT, True, [], self.name, score)
        return AnswerDraft(best.text, False, [cite(1, best)], self.name, score)
