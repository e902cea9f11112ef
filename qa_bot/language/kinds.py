"""Whether a passage or sentence holds the kind of thing a question asks for: a date for "when", a
number for "how many", a name for "who"/"where", a cause for "why". Retrieval boosts and evidence
selection ask it of every candidate passage and sentence, so it reads the surface: spaCy's parse of
the ~60 sentences of one question costs more than the rest of the ask (docs/BENCHMARKS.md)."""

from __future__ import annotations

import re

from qa_bot.ingest.dates import MONTH_NAME
from qa_bot.language.profile import AnswerType

_MONTHS = rf"{MONTH_NAME}\.?"
# a day and month, a year from 1000 to 2099 or its decade ("the 1970s"), a century, an era
_DATE = re.compile(
    rf"\b{_MONTHS}\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTHS}\b|\b(?:1\d|20)\d{{2}}s?\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)[- ]century\b|\b\d+\s?(?:BC|BCE|AD|CE)\b"
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|tomorrow|today|tonight)\b",
    re.I,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?|billions?)\b",
    re.I,
)
_CAUSE = re.compile(
    r"\b(?:because|due to|caused|causes|attribut\w+|blam\w+|result(?:ed|s)? (?:of|from)|as a result|owing to"
    r"|led to|thanks to|reasons?|so that|in order to|therefore|hence)\b",
    re.I,
)
# a capitalised word past a sentence's first: a name, for the surface
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")

_PATTERN = {
    AnswerType.DATE: _DATE,
    AnswerType.QUANTITY: _NUMBER,
    AnswerType.CAUSE: _CAUSE,
    AnswerType.PERSON: _NAME,
    AnswerType.ORGANISATION: _NAME,
    AnswerType.PLACE: _NAME,
}
# the kinds that rarely answer without one: "when" without a date, "how many" without a number,
# "why" without a cause (a name, for "who", may be a pronoun or a description)
NEEDS_MATCH = frozenset({AnswerType.DATE, AnswerType.QUANTITY, AnswerType.CAUSE})


def holds_kind(kind: AnswerType, text: str) -> bool:
    """Whether `text` holds the kind of thing asked for; always False for a thing, a manner or yes/no."""
    pattern = _PATTERN.get(kind)
    return bool(pattern and pattern.search(text))


_NEGATION = re.compile(r"\b(?:not|never|no|none|without|neither|nor)\b|n't\b", re.I)


def says_no(text: str) -> bool:
    """Whether a candidate sentence negates anything, read on the surface for the same reason."""
    return bool(_NEGATION.search(text))
