"""From evidence sentences to an Answer with citations."""

from qa_bot.answer.base import ABSTAIN_TEXT, Answerer, AnswerDraft
from qa_bot.answer.extractive import ExtractiveAnswerer
from qa_bot.answer.select import Evidence, rerank_by_evidence, select_evidence

__all__ = ["ABSTAIN_TEXT", "AnswerDraft", "Answerer", "Evidence", "ExtractiveAnswerer", "rerank_by_evidence", "select_evidence"]
