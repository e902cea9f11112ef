"""Abstention by constraints: a question that names a year, a number or a name asks about that one.
When no cited passage (its text, its article's title or its published date) carries it, the
articles do not say, however close the rest of the passage reads ("Who won Wimbledon in 2019?"
answered from a passage about 2018).

Likewise a question that asks what did *not* happen is not answered by a sentence that says, with
no negation of its own, what did; nor one about the *mild* drought by a sentence about the *severe*
one."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa_bot.language.pipeline import parse
from qa_bot.language.profile import QuestionProfile
from qa_bot.settings import Tuning
from qa_bot.types import Chunk, Citation

_POSSESSIVE = re.compile(r"['’]s$")
_WORD = re.compile(r"[\w’'.-]+")


def unmet_constraints(
    profile: QuestionProfile, citations: Sequence[Citation | Chunk], tuning: Tuning | None = None
) -> list[str]:
    """The question's constraints that none of the cited passages (or candidate passages) carries,
    in the question's order."""
    if not citations:
        return []
    texts = [f"{c.title}\n{c.source}\n{c.text}" for c in citations]
    years = {str(c.published.year) for c in citations if c.published}
    words = {w.lower().strip(".’'") for t in texts for w in _WORD.findall(t)}
    missing = []
    for year in sorted(profile.years):
        if year not in years and not any(re.search(rf"(?<!\d){year}(?!\d)", t) for t in texts):
            missing.append(year)
    for number in sorted(profile.numbers - profile.years):
        if not any(re.search(rf"(?<![\w]){re.escape(number)}(?![\w])", t, re.I) for t in texts):
            missing.append(number)
    # names are looser: a passage may say "the Kremlin" for Putin, "Ukrainian" for Ukraine. The
    # question is off the passages only when none of its names is carried, by a word's first letters
    letters = (tuning or Tuning()).name_stem_letters
    stems = {w[:letters] for w in words}
    names = [e for e in profile.entities if _name_words(e)]
    if names and not any(any(w[:letters] in stems for w in _name_words(e)) for e in names):
        missing.extend(names)
    return missing


def _name_words(entity: str) -> list[str]:
    words = (_POSSESSIVE.sub("", w).lower().strip(".’'") for w in _WORD.findall(entity) if w[:1].isupper())
    return [w for w in words if len(w) > 2]


def polarity_differs(profile: QuestionProfile, sentence: str) -> bool:
    """The question is negated ("which rights are *not* protected?") and the sentence negates
    nothing (spaCy's `neg` dependency on both sides)."""
    return profile.negated and not any(t.dep_ == "neg" for t in parse(sentence))


# the dependencies that say which one of a thing is meant: "the *mild* drought", "the *French*
# border", "the *Seven*-Day War"
_WHICH_ONE = frozenset({"amod", "compound", "nummod"})


def conflicting_modifiers(profile: QuestionProfile, sentence: str) -> list[tuple[str, str]]:
    """(the question's word, the sentence's word) where the sentence speaks of the same thing as
    the question but says another one of it: the question's "mild drought" against the sentence's
    "severe drought", "the French border" against "the Dutch border". A word the sentence uses
    anywhere, or a number its text holds ("2011[update]"), is no conflict."""
    question, doc = parse(profile.text), parse(sentence)
    said = {t.lemma_.lower() for t in doc} | {t.lower_ for t in doc}
    asked = {t.lemma_.lower() for t in question}
    conflicts = []
    for word in question:
        if word.dep_ not in _WHICH_ONE or not _content(word) or not _content(word.head):
            continue
        if word.lemma_.lower() in said or word.lower_ in said or (word.like_num and word.text in sentence):
            continue
        for head in (t for t in doc if t.lemma_.lower() == word.head.lemma_.lower()):
            other = next((c for c in head.children if c.dep_ == word.dep_ and c.pos_ == word.pos_ and _content(c)
                          and c.lemma_.lower() not in asked), None)
            if other is not None:
                conflicts.append((word.text, other.text))
                break
    return conflicts


def _content(token) -> bool:
    return not (token.is_stop or token.is_punct or token.is_space)
