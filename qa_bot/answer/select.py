"""Scores every sentence of the retrieved passages as evidence for the question.

A sentence is good evidence when it means what the question asks (cosine), shares the question's
rare words (IDF-weighted coverage, the sentence before it counting for part) and holds the kind of
thing asked for (a date for "when", a number for "how many", a cause for "why"). The best score doubles as the
answerability signal: below a threshold the bot abstains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from qa_bot.embed import Embedder
from qa_bot.ingest.chunking import indexed_sentence_spans, indexed_text
from qa_bot.ingest.dates import find_dates
from qa_bot.ingest.sentences import sentence_spans
from qa_bot.language.constraints import unmet_constraints
from qa_bot.language.kinds import NEEDS_MATCH, holds_kind, says_no
from qa_bot.language.profile import AnswerType, QuestionProfile
from qa_bot.settings import Tuning
from qa_bot.text import terms
from qa_bot.types import ScoredChunk

# Words that say what is asked rather than what about; temporal qualifiers ("next", "latest") are
# resolved against dates instead of matched as words.
_QUESTION_FRAME = frozenset(
    terms("name happen happened mention mentioned say said according article report kind type")
    + terms("next upcoming last latest recent recently previous current")
)

# the weights and factors of the sentence score are Tuning constants (qa_bot/settings.py)


@dataclass(frozen=True)
class Evidence:
    passage: ScoredChunk
    passage_rank: int
    start: int  # sentence offsets into the article text
    end: int
    text: str
    dense: float
    lexical: float
    type_match: bool
    score: float  # for ranking sentences and passages
    support: float  # how well the sentence alone answers the question: the abstention signal


@dataclass(frozen=True)
class EvidenceQuery:
    """What the sentence scorer needs to know of a question, worked out once from its words and its
    `QuestionProfile` (the kind asked for, "next"/"latest", the words naming the kind)."""

    kind: AnswerType
    direction: int
    required: frozenset[str]  # content words evidence should contain
    optional: frozenset[str]  # answer-type words ("which *port*"): welcome, not required
    off_topic: bool
    numbers: frozenset[str]  # numerals in the question ("22nd", "1757"): evidence must share them
    negated: bool  # "what is *not* prevented…": evidence that does not negate answers another question
    weights: Mapping[str, float] = field(compare=False)  # the idf of each of its words, read once

    @classmethod
    def of(cls, profile: QuestionProfile, idf: Callable[[str], float]) -> "EvidenceQuery":
        # "how many": words that ask, not what about
        asking = set(terms(profile.wh))
        content = {t for t in terms(profile.text) if t not in _QUESTION_FRAME and t not in asking}
        optional = frozenset(terms(profile.kind_words)) & content
        required = frozenset(content - optional) or frozenset(content)
        unseen = idf("\x00")  # the weight of a word no indexed passage contains
        return cls(
            kind=profile.answer_type,
            direction=profile.direction,
            required=required,
            optional=optional,
            # a thing the index never names: not a verb or an adjective, which a rewording changes
            # ("where did the talks *take place*"), nor one of the words that ask
            off_topic=any(idf(t) >= unseen for t in required & set(terms(" ".join(profile.nouns)))),
            numbers=frozenset(t for t in content if any(ch.isdigit() for ch in t)),
            negated=profile.negated,
            weights={t: idf(t) for t in required | optional},
        )

    def coverage(self, words: set[str]) -> float:
        """IDF-weighted share of the question's words found; answer-type words only when present."""
        if not self.required:
            return 0.0
        weight = self.weights
        found = self.required & words
        bonus = self.optional & words
        total = sum(weight[t] for t in self.required | bonus)
        return sum(weight[t] for t in found | bonus) / total if total else 0.0


def select_evidence(
    profile: QuestionProfile,
    question_vector: np.ndarray,
    passages: Sequence[ScoredChunk],
    embedder: Embedder,
    idf: Callable[[str], float],
    asked_on: date | None = None,
    tuning: Tuning | None = None,
) -> list[Evidence]:
    """Every sentence of every passage, best evidence first, for the question `profile` reads."""
    t = tuning or Tuning()
    query = EvidenceQuery.of(profile, idf)
    candidates = _sentences(passages)
    if not candidates:
        return []
    texts = [indexed_text(p.chunk) for p in passages]
    # each sentence as its passage reads it; ingest cached these, so no model call here
    cosines = np.concatenate(
        embedder.span_vectors(texts, [indexed_sentence_spans(p.chunk) for p in passages])
    ) @ question_vector
    # passage vectors were embedded at ingest, so these are cache hits, not model calls
    on_topic = dict(zip((p.chunk.chunk_id for p in passages), embedder.encode(texts) @ question_vector))
    top_fused = max(p.score for p in passages) or 1.0
    # "latest" dates a "when"; "next" points at a dated event whatever is asked of it ("where are the
    # next talks?"), but outside "when" questions only when the evidence dates one still ahead
    temporal = bool(asked_on and (query.direction > 0 or (query.direction and query.kind is AnswerType.DATE)))
    dates = [find_dates(c.text, c.passage.chunk.published or asked_on) if temporal else [] for c in candidates]
    anchor = _temporal_anchor(query.direction, [d for ds in dates for d in ds], asked_on)
    if anchor and asked_on and query.kind is not AnswerType.DATE and anchor < asked_on:
        anchor = None
    # then a sentence naming no date is marked down, as "when" and "how many" questions already do
    upcoming = bool(anchor and query.kind not in NEEDS_MATCH)

    def judge(c: _Sentence, cosine: float, sentence_dates: list[date]) -> Evidence:
        passage = c.passage
        words = c.words
        own = query.coverage(words)
        lexical = (1 - t.context_share) * own + t.context_share * query.coverage(words | c.previous)
        typed = holds_kind(query.kind, c.text)
        score = t.w_dense * cosine + t.w_lexical * lexical + t.w_type * typed
        if query.off_topic:
            score *= t.off_topic
        if query.kind in NEEDS_MATCH and not typed:
            score *= t.type_mismatch
        if anchor:
            score += t.w_temporal * _temporal_fit(sentence_dates, anchor)
        if upcoming and not sentence_dates:
            score *= t.undated_mismatch  # "where are the *next* talks?": the evidence dates the event
        if query.numbers - words - c.previous:
            score *= t.number_mismatch
        if query.negated and not says_no(c.text):
            score *= t.negation_mismatch
        # ranking also trusts retrieval; whether to answer at all rests on the evidence itself
        rank_score = score + t.w_retrieval * passage.score / top_fused
        support = _support(score, float(on_topic[passage.chunk.chunk_id]), len(query.required), t)
        return Evidence(passage, c.rank, c.start, c.end, c.text, cosine, lexical, typed, rank_score, support)

    def order(items: list[int], scored: dict[int, Evidence]) -> list[int]:
        return sorted(items, key=lambda i: (-scored[i].score, scored[i].passage_rank, scored[i].start))

    scored = {i: judge(c, float(cos), ds) for i, (c, cos, ds) in enumerate(zip(candidates, cosines, dates))}
    ranked = order(list(scored), scored)
    # The in-context vectors shortlist; the few best sentences are then read on their own, which
    # tells apart sentences of one passage better (their in-context vectors share its topic).
    # Only those within reach of the first: one far behind is not read again (3.1 reads a question
    # instead of 5 on the dev sets, no dev figure changed).
    top = scored[ranked[0]].score
    shortlist = [i for i in ranked[: t.rescore] if scored[i].score >= top - t.rescore_margin]
    alone = embedder.encode([candidates[i].text for i in shortlist]) @ question_vector
    scored.update({i: judge(candidates[i], float(cos), dates[i]) for i, cos in zip(shortlist, alone)})
    evidence = [scored[i] for i in order(shortlist, scored) + ranked[len(shortlist) :]]
    return evidence


@dataclass
class _Sentence:
    rank: int  # of its passage
    passage: ScoredChunk
    start: int  # offsets into the article text
    end: int
    text: str
    own: set[str]  # its terms
    title: set[str]  # its passage title's terms, computed once per passage
    previous: set[str] = field(default_factory=set)  # terms of the sentence just before it

    @property
    def words(self) -> set[str]:
        return self.own | self.title


def _sentences(passages: Sequence[ScoredChunk]) -> list[_Sentence]:
    """Every sentence of the passages, each with the words of the sentence before it.

    The sentence before may sit in another retrieved passage of the same article; an answer
    sentence often leaves its topic to the one before it ("Russian officials attributed the
    disruptions to…" after "…blackouts in the Arctic…")."""
    rows: list[_Sentence] = []
    for rank, passage in enumerate(passages):
        chunk = passage.chunk
        title = set(terms(chunk.title))
        for s, e in sentence_spans(chunk.text):
            text = chunk.text[s:e]
            rows.append(_Sentence(rank, passage, chunk.start + s, chunk.start + e, text, set(terms(text)), title))
    by_doc: dict[str, list[_Sentence]] = {}
    for row in rows:
        by_doc.setdefault(row.passage.chunk.doc_id, []).append(row)
    for doc_rows in by_doc.values():
        doc_rows.sort(key=lambda r: r.start)
        for before, row in zip(doc_rows, doc_rows[1:]):
            if 0 <= row.start - before.end <= 3:  # adjacent in the article, whatever passage holds it
                row.previous = before.own
    return rows


def constraints_first(profile: QuestionProfile, evidence: list[Evidence], tuning: Tuning | None = None) -> list[Evidence]:
    """A year, number or name the question asks about is a hard condition, so the evidence whose
    passage carries them comes first: "the Urals city that lost power" is answered from the sentence
    on Perm, in the Urals, not refused because a sentence on Belgorod read closer. When no passage
    carries them the order stays, and the check after answering refuses."""
    if not evidence or not profile.constraints:
        return evidence
    unmet: dict[str, bool] = {}
    for item in evidence:
        chunk = item.passage.chunk
        if chunk.chunk_id not in unmet:
            unmet[chunk.chunk_id] = bool(unmet_constraints(profile, [chunk], tuning))
    if not unmet[evidence[0].passage.chunk.chunk_id] or all(unmet.values()):
        return evidence
    return [e for e in evidence if not unmet[e.passage.chunk.chunk_id]] + [
        e for e in evidence if unmet[e.passage.chunk.chunk_id]
    ]


def rerank_by_evidence(passages: Sequence[ScoredChunk], evidence: Sequence[Evidence]) -> list[ScoredChunk]:
    """Passages ordered by their best sentence, the passage of the first evidence (the answer's:
    it may come first for carrying what the question names, not for its score) ahead of all."""
    best: dict[str, float] = {}
    for item in evidence:
        cid = item.passage.chunk.chunk_id
        best[cid] = max(best.get(cid, float("-inf")), item.score)
    if evidence:
        best[evidence[0].passage.chunk.chunk_id] = float("inf")
    order = sorted(range(len(passages)), key=lambda i: (-best.get(passages[i].chunk.chunk_id, float("-inf")), i))
    return [passages[i] for i in order]


def _support(score: float, passage_cosine: float, n_terms: int, tuning: Tuning) -> float:
    """The sentence's score on the scale the abstention threshold reads.

    Long, many-part questions ("which company, reported by TechCrunch, …") are never covered by one
    sentence, so their score is scaled up past `long_question_terms` words. A passage that is off the
    question's topic as a whole only answers through a sentence that is strong on its own. Fitted
    on the dev splits (seed, squad2, multihop_rag); see docs/BENCHMARKS.md.
    """
    support = score / min(1.0, tuning.long_question_terms / max(n_terms, 1))
    if passage_cosine < tuning.min_passage_cosine:
        support = min(support, score * tuning.off_passage_scale)
    return support


def _temporal_anchor(direction: int, dates: list[date], asked_on: date | None) -> date | None:
    """The date a "next"/"latest" question points at among those the evidence mentions: the first
    one after the day of asking (or, when every one is past, the latest), and for "latest" the last
    one before it (or the earliest still to come)."""
    if not direction or not dates or asked_on is None:
        return None
    after = [d for d in dates if d >= asked_on]
    before = [d for d in dates if d <= asked_on]
    if direction > 0:
        return min(after) if after else max(before)
    return max(before) if before else min(after)


def _temporal_fit(dates: list[date], anchor: date) -> float:
    """1 for a sentence naming the anchor date, less the further its nearest date lies."""
    if not dates:
        return 0.0
    gap = min(abs((d - anchor).days) for d in dates)
    return 1.0 / (1.0 + gap / 7.0)
