"""The scoring, as pure functions: one prediction against one gold question, then the averages.

Nothing here runs a model, so the numbers can be checked by hand (tests/test_evaluate_metrics.py).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from qa_bot.evaluate.gold import GoldQuestion
from qa_bot.language.patterns import CITATION_MARKER

# The keys `qa-bot eval --json` prints, in the order people read them.
RETRIEVAL_KEYS = ("evidence_hit@1", "evidence_hit@5", "mrr")
ANSWER_KEYS = ("answer_contained", "answer_f1", "exact_match", "short_answer_f1", "short_answer_em")
CITATION_KEYS = ("citation_precision", "citation_recall")
ABSTENTION_KEYS = ("abstention_accuracy", "false_abstention_rate")
LATENCY_KEYS = ("latency_ms_p50", "latency_ms_p95")
COUNT_KEYS = ("n", "n_answerable")
METRIC_KEYS = RETRIEVAL_KEYS + ANSWER_KEYS + CITATION_KEYS + ABSTENTION_KEYS + LATENCY_KEYS + COUNT_KEYS
LOWER_IS_BETTER = frozenset({"false_abstention_rate", "latency_ms_p50", "latency_ms_p95"})


@dataclass(frozen=True)
class Passage:
    """A retrieved or cited passage, reduced to what relevance needs."""

    doc_id: str
    text: str
    chunk_id: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class Prediction:
    """What a system said for one question; qa-bot and the llama-index baseline both produce these."""

    question_id: str
    answer: str
    abstained: bool
    cited: tuple[Passage, ...] = ()
    retrieved: tuple[Passage, ...] = ()  # best first
    latency_ms: float = 0.0
    standalone_question: str = ""
    answerer: str = ""
    fallback_reason: str = ""
    short_answer: str = ""  # the few words that answer; "" when the answer has none
    answer_type: str = ""  # the kind of answer the question asked for ("date", "person", …)


@dataclass(frozen=True)
class QuestionScore:
    """The per-question facts the averages are made of (one line of results.jsonl)."""

    question_id: str
    type: str
    answerable: bool
    scored_retrieval: bool  # answerable with evidence: retrieval metrics count it
    first_relevant_rank: int | None  # 1-based rank of the first relevant retrieved passage
    contained: bool
    f1: float
    exact: bool
    cited: int  # distinct passages cited
    cited_relevant: int
    abstained: bool
    latency_ms: float
    failures: tuple[str, ...] = field(default_factory=tuple)
    short_f1: float = 0.0  # of the short answer, or of the answer text when there is none
    short_exact: bool = False
    answer_type: str = ""

    @property
    def abstention_correct(self) -> bool:
        return self.abstained == (not self.answerable)

    def to_dict(self) -> dict:
        return {**asdict(self), "failures": list(self.failures)}


# ---- text ------------------------------------------------------------------------------------
_DASHES = dict.fromkeys(map(ord, "\u2212\u2010\u2011\u2012\u2013\u2014\u2015\ufe63\uff0d"), "-")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SPACE = re.compile(r"\s+")


def _is_punctuation(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")




def normalize_answer(text: str) -> str:
    """SQuAD's normalisation (lower case, no punctuation, no a/an/the, single spaces), except that
    the hyphen, the Unicode minus and the dashes separate words, so "−16°C" and "-16°C" agree and
    "Abu Dhabi" is found in "Abu Dhabi-based". Citation markers ("[1]") are not part of the answer."""
    text = CITATION_MARKER.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).lower()
    text = "".join(" " if ch == "-" else ("" if _is_punctuation(ch) else ch) for ch in text)
    text = _ARTICLES.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1: harmonic mean of token precision and recall, bag-of-words."""
    pred, ref = _tokens(prediction), _tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(gold)


def contains_answer(prediction: str, gold: str) -> bool:
    """The normalised gold answer appears in the normalised prediction as whole words
    ("23" is not found in "1230")."""
    ref = normalize_answer(gold)
    return bool(ref) and f" {ref} " in f" {normalize_answer(prediction)} "


def _plain(text: str) -> str:
    """For evidence matching: case, curly quotes, dashes and runs of spaces do not matter."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return _SPACE.sub(" ", text).strip().lower()


def is_relevant(passage: Passage, gold: GoldQuestion) -> bool:
    """A passage is relevant when it contains one of the gold evidence texts, or, when the gold set
    gives none, when it comes from one of the evidence documents."""
    if gold.evidence_text:
        body = _plain(passage.text)
        return any(_plain(e) in body for e in gold.evidence_text)
    return passage.doc_id in gold.evidence_ids


# ---- one question ----------------------------------------------------------------------------
def _distinct(passages: Iterable[Passage]) -> list[Passage]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in passages:
        key = (p.doc_id, p.chunk_id or p.text)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def score_question(gold: GoldQuestion, pred: Prediction) -> QuestionScore:
    """Scores one prediction. An abstention scores 0 on every answer metric of an answerable question."""
    scored_retrieval = gold.answerable and gold.has_evidence
    rank = None
    if scored_retrieval:
        rank = next((i for i, p in enumerate(pred.retrieved, 1) if is_relevant(p, gold)), None)
    answered = gold.answerable and not pred.abstained
    contained = answered and any(contains_answer(pred.answer, a) for a in gold.answers)
    f1 = max((token_f1(pred.answer, a) for a in gold.answers), default=0.0) if answered else 0.0
    exact = answered and any(exact_match(pred.answer, a) for a in gold.answers)
    short = pred.short_answer or pred.answer
    short_f1 = max((token_f1(short, a) for a in gold.answers), default=0.0) if answered else 0.0
    short_exact = answered and any(exact_match(short, a) for a in gold.answers)
    cited = _distinct(pred.cited)
    cited_relevant = sum(is_relevant(p, gold) for p in cited) if gold.answerable else 0

    failures = []
    if gold.answerable and pred.abstained:
        failures.append("false abstention")
    elif gold.answerable and not contained:
        failures.append("wrong answer")
    if not gold.answerable and not pred.abstained:
        failures.append("missed abstention")
    if gold.answerable and not pred.abstained and gold.has_evidence and cited_relevant == 0:
        failures.append("no relevant citation")
    if scored_retrieval and (rank is None or rank > 5):
        failures.append("evidence not in top 5")
    return QuestionScore(
        question_id=gold.id,
        type=gold.type,
        answerable=gold.answerable,
        scored_retrieval=scored_retrieval,
        first_relevant_rank=rank,
        contained=contained,
        f1=f1,
        exact=exact,
        cited=len(cited),
        cited_relevant=cited_relevant,
        abstained=pred.abstained,
        latency_ms=pred.latency_ms,
        failures=tuple(failures),
        short_f1=short_f1,
        short_exact=short_exact,
        answer_type=pred.answer_type,
    )


# ---- averages --------------------------------------------------------------------------------
def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def aggregate(scores: Sequence[QuestionScore]) -> dict:
    """The headline metrics. A metric whose denominator is empty is None (printed as null), not 0:
    "no answerable questions" is not "every answer wrong"."""
    answerable = [s for s in scores if s.answerable]
    retrieval = [s for s in scores if s.scored_retrieval]
    ranks = [s.first_relevant_rank for s in retrieval]
    cited_total = sum(s.cited for s in answerable)
    out = {
        "evidence_hit@1": _mean([float(r is not None and r <= 1) for r in ranks]),
        "evidence_hit@5": _mean([float(r is not None and r <= 5) for r in ranks]),
        "mrr": _mean([1.0 / r if r else 0.0 for r in ranks]),
        "answer_contained": _mean([float(s.contained) for s in answerable]),
        "answer_f1": _mean([s.f1 for s in answerable]),
        "exact_match": _mean([float(s.exact) for s in answerable]),
        "short_answer_f1": _mean([s.short_f1 for s in answerable]),
        "short_answer_em": _mean([float(s.short_exact) for s in answerable]),
        "citation_precision": sum(s.cited_relevant for s in answerable) / cited_total if cited_total else None,
        "citation_recall": _mean([float(s.cited_relevant > 0) for s in answerable]),
        "abstention_accuracy": _mean([float(s.abstention_correct) for s in scores]),
        "false_abstention_rate": _mean([float(s.abstained) for s in answerable]),
        "latency_ms_p50": percentile([s.latency_ms for s in scores], 50),
        "latency_ms_p95": percentile([s.latency_ms for s in scores], 95),
        "n": len(scores),
        "n_answerable": len(answerable),
    }
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def summarize(scores: Sequence[QuestionScore]) -> dict:
    """`aggregate` over everything plus the same per question type, under `by_type`, and the short
    answers per answer type asked for (the profile's: "date", "person", …) under `by_answer_type`."""
    types = sorted({s.type for s in scores})
    kinds = sorted({s.answer_type for s in scores if s.answerable and s.answer_type})
    by_kind = {}
    for kind in kinds:
        rows = [s for s in scores if s.answerable and s.answer_type == kind]
        by_kind[kind] = {
            "n": len(rows),
            "short_answer_f1": round(_mean([s.short_f1 for s in rows]), 4),
            "short_answer_em": round(_mean([float(s.short_exact) for s in rows]), 4),
        }
    return {
        **aggregate(scores),
        "by_type": {t: aggregate([s for s in scores if s.type == t]) for t in types},
        "by_answer_type": by_kind,
    }
