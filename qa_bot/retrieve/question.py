"""What kind of answer a question wants, so evidence of that kind can be preferred."""

from __future__ import annotations

import re
from enum import Enum

from qa_bot.ingest.dates import MONTH_NAME


class QuestionType(str, Enum):
    WHEN = "when"
    WHO = "who"
    WHERE = "where"
    WHY = "why"
    HOW_MANY = "how_many"
    YES_NO = "yes_no"
    OTHER = "other"


# "how many", "how long", …: asks for a quantity, and names no word the evidence must share
HOW_QUANTITY = r"\bhow (?:many|much|old|long|far|cold|hot|high|large|big|tall)\b"

_PATTERNS: list[tuple[QuestionType, re.Pattern]] = [
    # asks for a cause: "and why …", "what did officials blame the outages on", "what caused …"
    (QuestionType.WHY, re.compile(r"\bwhy\b|^\s*what (?:did|do|does|was|were|is|are) .{0,80}\bblamed? (?:\w+ ){0,6}?on\W*$|^\s*what (?:caused|causes|led to)\b|\bwhat (?:was|is|were|are) the (?:reasons?|causes?)\b|\bfor what reasons?\b", re.I)),
    (QuestionType.HOW_MANY, re.compile(rf"{HOW_QUANTITY}|\b(what|which) (number|percentage|amount|temperature|year)\b", re.I)),
    (QuestionType.WHEN, re.compile(r"\bwhen\b|\b(what|which) (date|day|month|time)\b|\bon what date\b", re.I)),
    (QuestionType.WHO, re.compile(r"\bwho(m|se)?\b|\b(what|which) (person|people|company|organi[sz]ation|agency|team|group|country)\b", re.I)),
    (QuestionType.WHERE, re.compile(r"\bwhere\b|\b(what|which|in which) (city|place|country|region|location|port|base|state)\b", re.I)),
    (QuestionType.YES_NO, re.compile(r"^\s*(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\b", re.I)),
]


# The wh-word a question opens with says what it asks, whatever follows ("Who can enforce it
# *when* states provide less?" asks for a who); without one, the first pattern found decides.
_OPENING = re.compile(rf"^\s*(why|when|whom?|whose|where)\b|^\s*({HOW_QUANTITY})", re.I)
_OPENING_KIND = {
    "why": QuestionType.WHY, "how": QuestionType.HOW_MANY, "when": QuestionType.WHEN,
    "who": QuestionType.WHO, "whom": QuestionType.WHO, "whose": QuestionType.WHO, "where": QuestionType.WHERE,
}


_FROM_ANSWER_TYPE = {
    "person": QuestionType.WHO, "organisation": QuestionType.WHO, "place": QuestionType.WHERE,
    "date": QuestionType.WHEN, "quantity": QuestionType.HOW_MANY, "cause": QuestionType.WHY,
    "yes_no": QuestionType.YES_NO,
}


def kind_of(answer_type: str) -> QuestionType:
    """The evidence kind for the language profile's answer type ("date" wants a dated sentence)."""
    return _FROM_ANSWER_TYPE.get(answer_type, QuestionType.OTHER)


def classify(question: str) -> QuestionType:
    opening = _OPENING.match(question)
    if opening:
        return _OPENING_KIND[(opening.group(1) or "how").lower()]
    for kind, pattern in _PATTERNS:
        if pattern.search(question):
            return kind
    return QuestionType.OTHER


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
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def matches_type(kind: QuestionType, sentence: str) -> bool:
    """Whether a sentence holds the kind of thing the question asks for."""
    if kind is QuestionType.WHEN:
        return bool(_DATE.search(sentence))
    if kind is QuestionType.HOW_MANY:
        return bool(_NUMBER.search(sentence))
    if kind in (QuestionType.WHO, QuestionType.WHERE):
        return bool(_NAME.search(sentence))
    if kind is QuestionType.WHY:
        return bool(_CAUSE.search(sentence))
    return False


_FUTURE = re.compile(r"\b(next|upcoming|forthcoming)\b", re.I)
_PAST = re.compile(r"\b(last|latest|most recent)\b", re.I)


def temporal_direction(question: str) -> int:
    """+1 when the question looks ahead of the day it is asked ("next talks"), -1 when it looks
    back ("latest figures"), 0 otherwise."""
    if _FUTURE.search(question):
        return 1
    if _PAST.search(question):
        return -1
    return 0


_ANSWER_TYPE = re.compile(
    r"^\s*(?:in |on |at |from |for |to |by )?(?:which|what|whose)\s+(?!(?:is|are|was|were|did|does|do|has|have|had)\b)((?:[a-z-]+\s+){0,2}?[a-z-]+)\s+"
    r"(?=(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should|of|in|on|at)\b)",
    re.I,
)


def answer_type_words(question: str) -> str:
    """The words that name what kind of thing is asked for ("which *news outlet* did…"): the answer
    need not repeat them, so evidence is not required to contain them."""
    match = _ANSWER_TYPE.match(question)
    return match.group(1) if match else ""
