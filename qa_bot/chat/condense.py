"""Rewrites a follow-up ("And how many were injured?") into a question that stands alone.

Without a model this is done with the two things a follow-up leans on: a pronoun that points at
someone named in the last turn, and a scene ("in the overnight strikes on Kyiv") that the last
question set and the follow-up leaves out. Both are read by the language layer
(`language/discourse.py`, on spaCy's parse); this module only puts the question together.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa_bot.language.discourse import follow_up_cues, named_person, scene, wh_phrase


def is_follow_up(question: str, history: Sequence[dict]) -> bool:
    return _asked_before(history) and follow_up_cues(question).is_follow_up


def _asked_before(history: Sequence[dict]) -> bool:
    return any(turn.get("role") == "user" for turn in history)


def condense(question: str, history: Sequence[dict] | None) -> str:
    """The standalone form of `question`; unchanged when it is not a follow-up."""
    history = list(history or [])
    question = question.strip()
    if not _asked_before(history):  # a first question is not parsed here at all
        return question
    cues = follow_up_cues(question)
    if not cues.is_follow_up or not cues.body:
        return question
    last_user = next(t["content"] for t in reversed(history) if t.get("role") == "user").strip()
    last_reply = next((t["content"] for t in reversed(history) if t.get("role") == "assistant"), "")
    body = cues.body[:1].upper() + cues.body[1:]

    person = named_person(last_reply) or named_person(last_user)
    if person and cues.person_pronoun:
        start, end = cues.person_pronoun
        name = _possessive(person) if cues.possessive else person
        return body[:start] + (name if start else name[:1].upper() + name[1:]) + body[end:]

    # "And where?" after "When are the next talks?" asks the same of the same thing
    earlier = wh_phrase(last_user)
    if cues.wh_only and earlier:
        asked = body.rstrip("?. ")
        return f"{asked[:1].upper()}{asked[1:]}{last_user[earlier[1]:].rstrip('?. ')}?"

    tail = scene(last_user).rstrip("?. ")
    if tail and tail.lower() not in body.lower():
        return f"{body.rstrip('?. ')} {tail}?"
    return f"{body.rstrip('?. ')} ({last_user.rstrip('?')})?"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"
