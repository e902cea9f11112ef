"""The one place that reads language: spaCy's English pipeline, the question profile built from
its parse, and the short answer found in evidence with it."""

from qa_bot.language.nountype import NounTyper
from qa_bot.language.pipeline import nlp, parse
from qa_bot.language.profile import AnswerType, QuestionProfile, analyse
from qa_bot.language.spans import holds_type, is_typed, short_answer

__all__ = [
    "AnswerType", "NounTyper", "QuestionProfile", "analyse", "holds_type", "is_typed", "nlp", "parse",
    "short_answer",
]
