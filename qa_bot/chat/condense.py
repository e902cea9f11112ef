"""Rewrites a follow-up ("And how many were injured?") into a question that stands alone.

Without a model this is done with the two things a follow-up leans on: a pronoun that points at
someone named in the last turn, and a scene ("in the overnight strikes on Kyiv") that the last
question set and the follow-up leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_LEADING_LINK = re.compile(r"^\s*(?:and|but|so|also|then|ok(?:ay)?|what about|how about)\b[\s,]*", re.I)
_PERSON_PRONOUN = re.compile(r"\b(he|she|him|her|his|hers)\b", re.I)
_THING_PRONOUN = re.compile(r"\b(it|its|they|them|their|there|that|this|those|these)\b", re.I)
_NAME = re.compile(r"\b(?:[A-Z][a-z]+\.?\s+)*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+|\b[A-Z][a-z]{2,}\b")
_SCENE = re.compile(r"\b(?:in|on|at|during|after|before|from|for|about|over|against|with)\b\s+(?:the\s+)?[^?]*", re.I)
_WH_WORD = re.compile(r"(?:who(?:m|se)?|what|when|where|which|why|how(?: many| much| long| old| far)?)\b", re.I)
_COMMON_CAPITALISED = frozenset(
    "The A An And But Who What When Where Which Why How Is Are Was Were Did Does Do In On At It He She They".split()
)


def is_follow_up(question: str, history: Sequence[dict]) -> bool:
    if not any(turn.get("role") == "user" for turn in history):
        return False
    return bool(
        _LEADING_LINK.match(question)
        or _PERSON_PRONOUN.search(question)
        or _THING_PRONOUN.search(question)
        or len(question.split()) <= 4
    )


def condense(question: str, history: Sequence[dict] | None) -> str:
    """The standalone form of `question`; unchanged when it is not a follow-up."""
    history = list(history or [])
    question = question.strip()
    if not is_follow_up(question, history):
        return question
    last_user = next(t["content"] for t in reversed(history) if t.get("role") == "user")
    last_reply = next((t["content"] for t in reversed(history) if t.get("role") == "assistant"), "")
    body = _LEADING_LINK.sub("", question).strip()
    body = body[:1].upper() + body[1:]

    person = _person(last_reply) or _person(last_user)
    if person and _PERSON_PRONOUN.search(body):
        body = _PERSON_PRONOUN.sub(lambda m: _possessive(person) if m.group(1).lower() in {"his", "hers"} else person, body, count=1)
        return body

    # "And where?" after "When are the next talks?" asks the same of the same thing
    asked = _WH_WORD.fullmatch(body.rstrip("?. "))
    earlier = _WH_WORD.match(last_user.strip())
    if asked and earlier:
        return f"{asked.group(0).capitalize()}{last_user.strip()[earlier.end():].rstrip('?. ')}?"

    scene = _SCENE.search(last_user)
    tail = scene.group(0).strip().rstrip("?. ") if scene else ""
    if tail and tail.lower() not in body.lower():
        return f"{body.rstrip('?. ')} {tail}?"
    return f"{body.rstrip('?. ')} ({last_user.strip().rstrip('?')})?"


def _person(text: str) -> str | None:
    for match in _NAME.finditer(re.sub(r"\[\d+\]", "", text)):
        name = match.group(0).strip()
        words = [w for w in name.split() if w not in _COMMON_CAPITALISED]
        if words:
            return " ".join(words)
    return None


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"
