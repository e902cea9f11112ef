"""Runs a gold set through `QABot`: index the corpus, ask every question as a user would, time it."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from qa_bot.errors import InputError
from qa_bot.evaluate.gold import GoldQuestion, corpus_ids, read_questions
from qa_bot.evaluate.split import select_split
from qa_bot.evaluate.metrics import Passage, Prediction, QuestionScore, is_relevant, score_question, summarize
from qa_bot.types import Answer

if TYPE_CHECKING:
    from qa_bot.store import Filters

Ask = Callable[[GoldQuestion], Prediction]


@dataclass(frozen=True)
class QuestionResult:
    gold: GoldQuestion
    prediction: Prediction
    score: QuestionScore

    def to_record(self) -> dict:
        """One line of results.jsonl: enough to see why a question failed without re-running it."""
        g, p, s = self.gold, self.prediction, self.score
        return {
            "id": g.id,
            "type": g.type,
            "question": g.question,
            "history": [dict(t) for t in g.history],
            "asked_on": g.asked_on,
            "answerable": g.answerable,
            "gold_answers": list(g.answers),
            "evidence_ids": list(g.evidence_ids),
            "evidence_text": list(g.evidence_text),
            "answer": p.answer,
            "short_answer": p.short_answer,
            "answer_type": p.answer_type,
            "abstained": p.abstained,
            "standalone_question": p.standalone_question,
            "answerer": p.answerer,
            "fallback_reason": p.fallback_reason,
            "citations": [
                {"doc_id": c.doc_id, "chunk_id": c.chunk_id, "text": c.text, "relevant": is_relevant(c, g)}
                for c in p.cited
            ],
            "retrieved": [
                {"doc_id": r.doc_id, "chunk_id": r.chunk_id, "score": round(r.score, 4), "relevant": is_relevant(r, g)}
                for r in p.retrieved
            ],
            "metrics": {
                "first_relevant_rank": s.first_relevant_rank,
                "answer_contained": s.contained,
                "answer_f1": round(s.f1, 4),
                "exact_match": s.exact,
                "short_answer_f1": round(s.short_f1, 4),
                "short_answer_em": s.short_exact,
                "cited": s.cited,
                "cited_relevant": s.cited_relevant,
                "abstention_correct": s.abstention_correct,
            },
            "failures": list(s.failures),
            "latency_ms": round(p.latency_ms, 1),
        }


@dataclass
class EvalRun:
    """Everything one evaluation produced: the metrics object, each question, and how it was run."""

    metrics: dict
    results: list[QuestionResult]
    meta: dict = field(default_factory=dict)


def prediction_from_answer(question_id: str, answer: Answer, latency_ms: float) -> Prediction:
    return Prediction(
        question_id=question_id,
        answer=answer.text,
        abstained=answer.abstained,
        cited=tuple(Passage(c.doc_id, c.text, c.chunk_id, c.score) for c in answer.citations),
        retrieved=tuple(
            Passage(p.chunk.doc_id, p.chunk.text, p.chunk.chunk_id, p.score) for p in answer.passages
        ),
        latency_ms=latency_ms,
        standalone_question=answer.standalone_question,
        answerer=answer.answerer,
        fallback_reason=answer.fallback_reason,
        short_answer=answer.short_answer.text if answer.short_answer else "",
        answer_type=answer.answer_type,
    )


def score_all(
    questions: Sequence[GoldQuestion], ask: Ask, progress: bool = False, desc: str = "eval"
) -> list[QuestionResult]:
    """Asks each question in turn and scores it; `ask` is the system under test."""
    results = []
    for gold in _bar(questions, progress, desc):
        prediction = ask(gold)
        results.append(QuestionResult(gold, prediction, score_question(gold, prediction)))
    return results


def evaluate(
    corpus: str | Path,
    questions: str | Path,
    *,
    index_dir: str | Path | None = None,
    answerer: str | None = None,
    limit: int | None = None,
    progress: bool | None = None,
    filters: Filters | None = None,
    split: str | None = None,
    **settings,
) -> EvalRun:
    """Indexes `corpus` (into a temporary index unless `index_dir` is given; an unchanged corpus is
    skipped there by ingest's content hashes), then asks every question through `QABot.ask`."""
    from qa_bot.api import QABot

    progress = sys.stderr.isatty() if progress is None else progress
    gold = select_split(read_questions(questions), split)  # fail on a bad line before indexing
    if not gold:
        raise InputError(f"The {split} half of {questions} holds no questions.")
    if limit is not None:
        gold = gold[:limit]
    known = corpus_ids(corpus)
    unknown = sorted({e for q in gold for e in q.evidence_ids} - known)
    started = datetime.now(timezone.utc)
    settings = _keep_off_the_main_collection(index_dir, settings)
    with _index_dir(index_dir) as where:
        bot = QABot(index_dir=where, answerer=answerer, **settings)
        t0 = time.perf_counter()
        report = _ingest(bot, Path(corpus), progress)
        ingest_s = time.perf_counter() - t0
        # the first question loads the models: asked once untimed
        bot.ask(gold[0].question, history=list(gold[0].history), asked_on=gold[0].asked_on, filters=filters)

        def ask(q: GoldQuestion) -> Prediction:
            t = time.perf_counter()
            answer = bot.ask(q.question, history=list(q.history), asked_on=q.asked_on, filters=filters)
            return prediction_from_answer(q.id, answer, (time.perf_counter() - t) * 1000)

        t1 = time.perf_counter()
        results = score_all(gold, ask, progress)
        ask_s = time.perf_counter() - t1
        s = bot.settings
        meta = {
            "system": "qa-bot",
            "corpus": str(corpus),
            "questions": str(questions),
            "index": f"{s.chroma_url} collection {s.collection}" if s.chroma_url else (str(index_dir) if index_dir else "(temporary)"),
            "answerer": (answerer or s.answerer.value),
            "limit": limit,
            "split": split or "all",
            "filters": filters.describe() if filters else "",
            "started": started.isoformat(timespec="seconds"),
            "ingest": report.summary(),
            "ingest_seconds": round(ingest_s, 1),
            "ask_seconds": round(ask_s, 1),
            "settings": {
                "top_k": s.top_k,
                "chunk_words": s.chunk_words,
                "min_evidence": s.min_evidence,
                "precision": bot.embedder.precision.value,
                "tuning": s.tuning.model_dump(),
            },
            "unknown_evidence_ids": unknown[:20],
        }
    # the split and the tuning constants travel with the figures, so a row can be reproduced
    metrics = {**summarize([r.score for r in results]), "split": split or "all", "tuning": meta["settings"]["tuning"]}
    return EvalRun(metrics, results, meta)


EVAL_COLLECTION = "qa_bot_eval"


def _keep_off_the_main_collection(index_dir: str | Path | None, settings: dict) -> dict:
    """On a Chroma server there is no temporary folder to hide in: unless a collection was chosen,
    a gold corpus goes to its own collection, never into the one users ask."""
    from pydantic import ValidationError

    from qa_bot.settings import Settings

    try:
        resolved = Settings().with_overrides(**settings)
    except ValidationError:
        return settings  # QABot reports it in one sentence
    if resolved.chroma_url and not index_dir and resolved.collection == Settings.model_fields["collection"].default:
        return {**settings, "collection": EVAL_COLLECTION}
    return settings


@contextmanager
def _index_dir(index_dir: str | Path | None) -> Iterator[Path]:
    if index_dir:
        yield Path(index_dir)
        return
    with tempfile.TemporaryDirectory(prefix="qa-bot-eval-", ignore_cleanup_errors=True) as tmp:
        yield Path(tmp)


def _ingest(bot, corpus: Path, progress: bool):
    if not progress:
        return bot.ingest([corpus])
    from tqdm import tqdm

    bar = tqdm(unit=" articles", desc="index", file=sys.stderr)

    def update(count: int, doc_id: str) -> None:
        bar.n = count
        bar.refresh()

    try:
        return bot.ingest([corpus], progress=update)
    finally:
        bar.close()


def _bar(items: Sequence, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=" q", file=sys.stderr)
