"""The short answer: the span of the evidence sentence that answers, of the kind the question asks
for (a person, a date, a number, …) and not already named by the question.

Candidates come from spaCy's entities, noun chunks and adjectives. Each is scored on what the
parse says of it: how near it lies, in the dependency tree, to the words the sentence shares with
the question (the sentence says "killed one person and injured 23 others", and "23" hangs off
"injured"), its role, its label, its length. The weights are fitted, not chosen by hand
(benchmarks/fit_short_answers.py, on the tune halves), and the best-scored phrase answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

from qa_bot.language.pipeline import parse
from qa_bot.language.profile import AnswerType, QuestionProfile, preposition_of, role_of, says_something
from qa_bot.settings import Tuning
from qa_bot.types import ShortAnswer

NUMBER_LABELS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
DATE_LABELS = frozenset({"DATE", "TIME"})
# the entity labels of each answer type; a named entity of another label is a second choice (the
# small model calls "Severomorsk" a product and "Belgorod" an organisation)
_LABELS: dict[AnswerType, frozenset[str]] = {
    AnswerType.PERSON: frozenset({"PERSON"}),
    AnswerType.ORGANISATION: frozenset({"ORG", "NORP"}),
    AnswerType.PLACE: frozenset({"GPE", "LOC", "FAC"}),
    AnswerType.DATE: DATE_LABELS,
    AnswerType.QUANTITY: NUMBER_LABELS,
}
_NAMED = frozenset({"PERSON", "ORG", "NORP", "GPE", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"})
_SIGNS = frozenset("-−–+$£€¥~")


# (asked noun, phrases best first) -> the index of the one to answer with
Kin = Callable[[str, Sequence[str]], int]


@dataclass(frozen=True)
class _Candidate:
    start: int  # token indices, end exclusive
    end: int
    tier: int  # 0: of the asked type; 1: a second choice


def short_answer(
    profile: QuestionProfile, sentence: str, kin: Kin | None = None, tuning: Tuning | None = None
) -> ShortAnswer | None:
    """The span of `sentence` that answers `profile`'s question, or None when none fits. `kin`
    (`NounTyper.kin` in the pipeline) may prefer, for a "which/what X" question, a phrase that the
    embedding model puts much nearer X than the parse's first choice."""
    if profile.answer_type is AnswerType.YES_NO or not sentence.strip():
        return None
    t = tuning or Tuning()
    doc = parse(sentence)
    candidates, features = _scored_candidates(doc, profile)
    if not candidates:
        return None
    weights = np.array([t.span_weights.get(name, 0.0) for name in SPAN_FEATURES])
    scores = features @ weights
    # best score first; a tie goes to the earlier phrase
    ranked = [candidates[i] for i in sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i].start))]
    best = ranked[kin(profile.head, [doc[c.start : c.end].text for c in ranked])] if kin is not None and profile.head else ranked[0]
    start, end = _answer_span(doc, sentence, best)
    if start >= end:
        return None
    return ShortAnswer(sentence[start:end], start, end, profile.answer_type.value)


def _answer_span(doc: Doc, sentence: str, c: _Candidate) -> tuple[int, int]:
    """The character span a candidate answers with: completed by its "of" phrase, trimmed."""
    span = _with_of_phrase(doc, doc[c.start : c.end])
    return _trim(sentence, span.start_char, span.end_char)


# what a candidate phrase is scored on; the weights (`Tuning.span_weights`) are fitted on the tune
# halves by benchmarks/fit_short_answers.py. Steps and lengths are capped and scaled to 0..1.
SPAN_FEATURES = (
    "second_label",  # an entity of another label than the asked one, or a name the recogniser missed
    "any_phrase",  # a plain noun phrase where a name was asked for
    "holds_head",  # holds the asked noun ("deep religious *convictions*" for "what conviction")
    "head_steps",  # tree steps to the asked noun
    "by_head",  # at most two steps from it ("the suburbs of Moscow, including *Khimki*")
    "verb_steps",  # ... to the question's verbs found in the sentence
    "anchor_steps",  # ... to any question word found in the sentence
    "gap",  # words between it and the nearest question word
    "role_mismatch",  # a subject where the question asks an object, or the reverse
    "subject",
    "object",
    "length",
    "named_share",  # share of its content words the question already says
    "before_verb",  # it comes before the question's verb in the sentence
    "proper",  # headed by a proper noun
    "entity",  # a named entity, a date or a number
    "apposition",  # an apposition, or what one renames ("X, the capital, …")
    "tree_first",  # the first by the tree alone: nearest the asked noun, then the question's verbs, then its words
    "same_prep",  # the object of the preposition the question asks with ("*in* 1995" for "*in* what year")
)
_MAX_STEPS = 8
_MAX_GAP = 20
_MAX_LENGTH = 12


def _scored_candidates(doc: Doc, profile: QuestionProfile) -> tuple[list[_Candidate], np.ndarray]:
    """The candidates that could answer, and their features."""
    asked = _asked_words(profile)
    heads = [t for t in doc if t.lemma_.lower() in profile.heads]
    candidates = _eligible(doc, profile, asked, heads)
    return candidates, _features(doc, candidates, profile, asked, heads)


def _features(
    doc: Doc, candidates: Sequence[_Candidate], profile: QuestionProfile, asked: set[str], heads: list[Token]
) -> np.ndarray:
    """One row of `SPAN_FEATURES` per candidate."""
    anchors = [t for t in doc if t.lemma_.lower() in profile.lemmas or t.lower_ in profile.lemmas]
    verbs = [t for t in anchors if t.lemma_.lower() in profile.verbs]
    entity_tokens = {i for e in doc.ents for i in range(e.start, e.end)}
    rows, tree_keys = [], []
    for c in candidates:
        span = doc[c.start : c.end]
        root = span.root
        role = role_of(root)
        mismatch = bool(profile.role) and role != profile.role
        holds_head = any(c.start <= h.i < c.end for h in heads)
        head, verb, anchor, gap = (_distance(doc, c, heads), _distance(doc, c, verbs), _distance(doc, c, anchors),
                                   _gap(c, anchors))
        # the parse alone: a phrase holding the asked noun or nearest it, then nearest the question's
        # verbs (a second-choice label or the wrong role a step further), then its words
        tree_keys.append((0 if holds_head else head, verb + mismatch + (c.tier > 0), anchor, gap))
        content = _content_tokens(span)
        named = sum(_said(t, asked) for t in content)
        rows.append([
            float(c.tier == 1),
            float(c.tier >= 2),
            float(holds_head),
            min(head, _MAX_STEPS) / _MAX_STEPS,
            float(bool(heads) and head <= 2),
            min(verb, _MAX_STEPS) / _MAX_STEPS,
            min(anchor, _MAX_STEPS) / _MAX_STEPS,
            min(gap, _MAX_GAP) / _MAX_GAP,
            float(mismatch),
            float(role == "subj"),
            float(role == "obj"),
            min(len(span), _MAX_LENGTH) / _MAX_LENGTH,
            named / len(content) if content else 0.0,
            float(bool(verbs) and c.end <= min(v.i for v in verbs)),
            float(root.pos_ == "PROPN"),
            float(root.i in entity_tokens or any(t.like_num for t in span)),
            float(root.dep_ == "appos" or any(ch.dep_ == "appos" for ch in root.children)),
            0.0,  # tree_first, below
            float(bool(profile.asked_prep) and preposition_of(root) == profile.asked_prep),
        ])
    if rows:
        rows[min(range(len(rows)), key=tree_keys.__getitem__)][SPAN_FEATURES.index("tree_first")] = 1.0
    return np.array(rows, dtype=np.float64).reshape(len(candidates), len(SPAN_FEATURES))


def candidate_table(profile: QuestionProfile, sentence: str) -> tuple[list[str], np.ndarray]:
    """The candidate phrases of `sentence` for `profile` and their features: what the fit of
    `Tuning.span_weights` learns from."""
    doc = parse(sentence)
    candidates, features = _scored_candidates(doc, profile)
    texts = [sentence[start:end] for start, end in (_answer_span(doc, sentence, c) for c in candidates)]
    return texts, features


def is_typed(kind: AnswerType) -> bool:
    """Whether the type names a kind of span (an entity, a date, a number) the evidence must hold."""
    return kind in _LABELS


def holds_type(profile: QuestionProfile, sentence: str) -> bool:
    """Whether the sentence holds a span of the asked type itself (not a second choice) that the
    question does not name."""
    doc = parse(sentence)
    asked = _asked_words(profile)
    return any(c.tier == 0 and not _named_by_question(doc, c, asked) for c in _candidates(doc, profile.answer_type))


def _eligible(doc: Doc, profile: QuestionProfile, asked: set[str], heads: list[Token]) -> list[_Candidate]:
    """The candidates that could answer: not named by the question (`asked`), not a modifier of the
    asked noun (`heads`, its tokens in the sentence), not bare punctuation."""
    seen: set[tuple[int, int]] = set()
    out = []
    for c in sorted(_candidates(doc, profile.answer_type, bool(profile.head)), key=lambda c: c.tier):
        if (c.start, c.end) in seen or _named_by_question(doc, c, asked) or _modifies(doc, c, heads):
            continue
        if any(ch.isalnum() for ch in doc[c.start : c.end].text):
            seen.add((c.start, c.end))  # a phrase found twice (an entity and a noun chunk) counts once, at its best tier
            out.append(c)
    return sorted(out, key=lambda c: c.start)


def _candidates(doc: Doc, kind: AnswerType, wh_det: bool = False) -> list[_Candidate]:
    if kind in _LABELS:
        wanted = _LABELS[kind]
        out = [_Candidate(e.start, e.end, 0) for e in doc.ents if e.label_ in wanted]
        if kind is AnswerType.QUANTITY:
            out += _loose_numbers(doc)
            # "how long": a duration the recogniser files as a date or time ("45 minutes")
            out += [_Candidate(e.start, e.end, 1) for e in doc.ents
                    if e.label_ in DATE_LABELS and any(t.like_num for t in e)]
        elif kind is not AnswerType.DATE:
            out += [_Candidate(e.start, e.end, 1) for e in doc.ents if e.label_ in _NAMED and e.label_ not in wanted]
            # names the recogniser missed ("Angelique Kerber"): noun phrases headed by a proper noun
            in_entity = {i for e in doc.ents for i in range(e.start, e.end)}
            out += [_Candidate(c.start, c.end, 1) for c in doc.noun_chunks
                    if c.root.pos_ == "PROPN" and c.root.i not in in_entity]
            # "who made up 19%?" "international students": any noun phrase, last
            out += [_Candidate(c.start, c.end, 2) for c in doc.noun_chunks
                    if c.root.pos_ == "NOUN" and c.root.i not in in_entity]
        return out
    if kind is AnswerType.CAUSE:
        return _reasons(doc) + [_Candidate(c.start, c.end, 1) for c in doc.noun_chunks if c.root.pos_ != "PRON"]
    if kind is AnswerType.MANNER:
        return [_adjective(t) for t in doc if t.pos_ == "ADJ" and t.dep_ != "conj"]
    # a thing, a cause, or anything untyped: a noun phrase; for "which X" a name first
    chunks = [c for c in doc.noun_chunks if c.root.pos_ != "PRON"]
    if not wh_det:
        return [_Candidate(c.start, c.end, 0) for c in chunks]
    names = [_Candidate(e.start, e.end, 0) for e in doc.ents if e.label_ in _NAMED]
    return names + [_Candidate(c.start, c.end, 0 if c.root.pos_ == "PROPN" else 1) for c in chunks]


def _reasons(doc: Doc) -> list[_Candidate]:
    """Clauses that give a reason or purpose: "because …", "due to …", "to clean them"."""
    out = []
    for t in doc:
        if t.dep_ == "mark" and t.lower_ in ("because", "since", "as"):
            clause = t.head
            out.append(_Candidate(t.i, clause.right_edge.i + 1, 0))
        elif t.dep_ == "pcomp" and t.head.lower_ in ("due", "because", "owing"):
            out.append(_Candidate(t.i + 1, t.right_edge.i + 1, 0))
        elif t.pos_ == "VERB" and t.dep_ in ("advcl", "xcomp") and any(c.dep_ == "aux" and c.lower_ == "to" for c in t.children):
            out.append(_Candidate(t.left_edge.i, t.right_edge.i + 1, 0))
    return out


def _adjective(t: Token) -> _Candidate:
    """An adjective with its adverbs and the adjectives joined to it: "remarkably constructive",
    "positive and constructive"."""
    start = min([t.i] + [c.i for c in t.lefts if c.dep_ == "advmod"])
    end = t.i
    node = t
    while True:
        conj = [c for c in node.rights if c.dep_ == "conj" and c.pos_ == "ADJ"]
        if not conj:
            break
        node = conj[0]
        end = node.i
    return _Candidate(start, end + 1, 0)


def _loose_numbers(doc: Doc) -> list[_Candidate]:
    """Numerals the entity recogniser left out ("-16°C"), with their sign and unit written on."""
    taken = {i for e in doc.ents for i in range(e.start, e.end) if e.label_ in NUMBER_LABELS | DATE_LABELS}
    out = []
    for t in doc:
        if t.i in taken or not (t.like_num or any(ch.isdigit() for ch in t.text)):
            continue
        start, end = t.i, t.i + 1
        if start > 0 and doc[start - 1].text in _SIGNS and not doc[start - 1].whitespace_:
            start -= 1
        while end < len(doc) and not doc[end - 1].whitespace_ and not doc[end].is_punct:
            end += 1
        while end < len(doc) and not doc[end - 1].whitespace_ and doc[end].text in ("°", "%"):
            end += 1
            while end < len(doc) and not doc[end - 1].whitespace_ and doc[end].is_alpha:
                end += 1
        out.append(_Candidate(start, end, 0))
    return out


def _asked_words(profile: QuestionProfile) -> set[str]:
    words = set(profile.lemmas)
    for entity in profile.entities:
        words.update(w.lower() for w in entity.split())
    return words | set(profile.years) | set(profile.numbers)


def _named_by_question(doc: Doc, c: _Candidate, asked: set[str]) -> bool:
    """Every content word of the candidate is already in the question: it answers nothing."""
    words = _content_tokens(doc[c.start : c.end])
    return not words or all(_said(t, asked) for t in words)


def _content_tokens(span) -> list[Token]:
    """The words of a phrase that say something: numbers count, stop words and punctuation do not."""
    return [t for t in span if says_something(t)]


def _said(token: Token, asked: set[str]) -> bool:
    return token.lemma_.lower() in asked or token.lower_ in asked


def _modifies(doc: Doc, c: _Candidate, heads: list[Token]) -> bool:
    """A modifier of the asked-about noun ("the *Azov Sea* port", "the *Fleet's* base") describes
    it; it does not name it."""
    root = doc[c.start : c.end].root
    return root.dep_ in ("compound", "poss", "amod") and any(root.head.i == h.i for h in heads)


def _distance(doc: Doc, c: _Candidate, anchors: list[Token]) -> int:
    """Dependency-tree steps from the candidate's root to the nearest word shared with the question."""
    if not anchors:
        return 0
    root = doc[c.start : c.end].root
    up = {root.i: 0}
    node, steps = root, 0
    while node.head.i != node.i:
        node, steps = node.head, steps + 1
        up[node.i] = steps
    best = 1_000
    for anchor in anchors:
        if c.start <= anchor.i < c.end:
            continue
        node, steps = anchor, 0
        while node.i not in up and node.head.i != node.i:
            node, steps = node.head, steps + 1
        if node.i in up:
            best = min(best, steps + up[node.i])
        else:  # another sentence root: far
            best = min(best, steps + len(up) + 1)
    return best


def _with_of_phrase(doc: Doc, span):
    """A noun phrase with the "of …" that completes it: "the concept *of message switching*", not
    the clauses and prepositional phrases the parser hangs off its last noun ("… *during his research*")."""
    of = next((c for c in span.root.rights if c.dep_ == "prep" and c.lower_ == "of" and c.i >= span.end), None)
    if of is None or span.root.ent_type_:
        return span
    end = of.i + 1
    while end <= of.right_edge.i and not (doc[end].dep_ in _OPENS_PHRASE and doc[end].lower_ != "of"):
        end += 1
    return doc[span.start : end] if end > of.i + 1 else span


# dependencies that open another phrase after a noun phrase ("… *during* his research", "…, *which*");
# a nested "of" still completes it ("the name *of* the border *of* …")
_OPENS_PHRASE = frozenset({"prep", "punct", "relcl", "advcl", "cc", "mark", "appos", "agent"})


def _gap(c: _Candidate, anchors: list[Token]) -> int:
    """Words between the candidate and the nearest word shared with the question."""
    return min((max(c.start - a.i, a.i - c.end + 1, 0) for a in anchors), default=c.start)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Without the quotes, commas and spaces a span's edges often carry."""
    strip = " \t\n,;:.'\"‘’“”()—–"
    while start < end and text[start] in strip:
        start += 1
    while end > start and text[end - 1] in strip:
        end -= 1
    return start, end


