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
from typing import TYPE_CHECKING

from qa_bot.language.pipeline import parse
from qa_bot.language.profile import QuestionProfile, content_word, says_something
from qa_bot.settings import Tuning
from qa_bot.types import Chunk, Citation

if TYPE_CHECKING:
    from spacy.tokens import Token

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
# border", "the *Seven*-Day War"; and the object of a preposition on it: "the transfer *of heat*"
_WHICH_ONE = frozenset({"amod", "compound", "nummod"})


def conflicting_modifiers(profile: QuestionProfile, sentence: str) -> list[tuple[str, str]]:
    """(the question's word, the sentence's word) where the sentence speaks of the same thing as
    the question but says another one of it: the question's "mild drought" against the sentence's
    "severe drought", "the transfer of cold" against "the transfer of heat". The two words must be
    of one part of speech ("the Amazon *drainage* basin" and "the *Amazonas* Basin" are not
    alternatives). A word the sentence uses anywhere, or a number its text holds ("2011[update]"),
    is no conflict."""
    question, doc = parse(profile.text), parse(sentence)
    said = {t.lemma_.lower() for t in doc} | {t.lower_ for t in doc}
    asked = {t.lemma_.lower() for t in question}
    conflicts = []
    for word in question:
        slot = _slot(word)
        if slot is None or word.lemma_.lower() in said or word.lower_ in said or (word.like_num and word.text in sentence):
            continue
        head, relation = slot
        other = next((o for t in doc if t.lemma_.lower() == head.lemma_.lower() for o in _filling(t, relation)
                      if _alternatives(word, o) and o.lemma_.lower() not in asked), None)
        if other is not None:
            conflicts.append((word.text, other.text))
    return conflicts


def _alternatives(word: Token, other: Token) -> bool:
    """Two words that could stand in each other's place: of one part of speech, or both numbers
    ("the *Seven*-Day War" and "the *Six*-Day War", "its *second* level" and "its *first* level"),
    written alike: "one-cent" and "1-cent" may name one number."""
    if word.like_num and other.like_num:
        return _has_digit(word) == _has_digit(other)
    return other.pos_ == word.pos_


def _has_digit(word: Token) -> bool:
    return any(ch.isdigit() for ch in word.text)


def _slot(word: Token) -> tuple[Token, str] | None:
    """The word it says which one of, and how: its dependency, or "prep:" and the preposition."""
    if not says_something(word):
        return None
    if word.dep_ in _WHICH_ONE:
        head, relation = word.head, word.dep_
    elif word.dep_ == "pobj" and word.head.dep_ == "prep":
        head, relation = word.head.head, f"prep:{word.head.lower_}"
    else:
        return None
    return (head, relation) if content_word(head) else None


def _filling(token: Token, relation: str) -> list[Token]:
    """The content words that fill `relation` on `token` (see `_slot`)."""
    if relation.startswith("prep:"):
        preposition = relation[len("prep:"):]
        found = [g for c in token.children if c.dep_ == "prep" and c.lower_ == preposition
                 for g in c.children if g.dep_ == "pobj"]
    else:
        found = [c for c in token.children if c.dep_ == relation]
    return [t for t in found if says_something(t)]
