"""Fits `Tuning.span_weights`, the scores that pick the short answer among a sentence's candidate
phrases, on the `tune` halves of the dev sets, and reports the fit on both halves.

For each answerable question the training sentence is the one of its gold articles that holds a
gold answer and shares the most words with the question (retrieval plays no part). Each candidate
phrase is scored by its token F1 with the gold; the fit is a conditional logit (one softmax over a
sentence's candidates) towards those scores, with an L2 penalty. It prints the weights as a
QA_BOT_TUNING value and one JSON line: the mean F1 of the short answer `short_answer` itself gives
on that sentence (so what is reported is what the pipeline does), per set and half, for no
weights (the first phrase), the tree alone (the phrase nearest the question's words in the parse,
what picked the short answer before the fit), the weights in Settings, the fitted weights and the
best phrase there was.

    .venv/bin/python benchmarks/fit_short_answers.py [--sets squad2 realtimeqa seed] [--l2 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(1, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from quality import EVAL, corpus_of  # noqa: E402

from qa_bot.embed import Embedder  # noqa: E402
from qa_bot.evaluate.gold import read_questions  # noqa: E402
from qa_bot.evaluate.metrics import contains_answer, token_f1  # noqa: E402
from qa_bot.evaluate.split import half  # noqa: E402
from qa_bot.ingest.loaders import iter_jsonl  # noqa: E402
from qa_bot.ingest.sentences import sentence_spans  # noqa: E402
from qa_bot.language import AnswerType, NounTyper, analyse, short_answer  # noqa: E402
from qa_bot.language.spans import SPAN_FEATURES, candidate_table  # noqa: E402
from qa_bot.settings import Settings, Tuning  # noqa: E402

_WORD = re.compile(r"\w+")
FOLDS = 5  # cross-validation inside tune, to choose the penalty


def _corpus(name: str) -> dict[str, str]:
    return {str(r["id"]): r["text"] for _, r in iter_jsonl(corpus_of(name))}


def _sentence(question, corpus: dict[str, str]) -> str | None:
    """The gold article sentence that holds a gold answer and shares the most words with the question."""
    docs = [corpus[i] for i in question.evidence_ids if i in corpus] or list(corpus.values())
    asked = {w.lower() for w in _WORD.findall(question.question)}
    best, best_overlap = None, -1
    for text in docs:
        for s, e in sentence_spans(text):
            sentence = text[s:e]
            if not any(contains_answer(sentence, g) for g in question.answers):
                continue
            overlap = len(asked & {w.lower() for w in _WORD.findall(sentence)})
            overlap += 5 * any(t and t.lower() in sentence.lower() for t in question.evidence_text)
            if overlap > best_overlap:
                best, best_overlap = sentence, overlap
    return best


def examples(name: str, typer: NounTyper) -> list[dict]:
    """One row per usable question: its half, the candidates' features and F1s, and what `short_answer` reads."""
    corpus = _corpus(name)
    rows = []
    for q in read_questions(EVAL / name / "questions.jsonl"):
        if not q.answerable or q.history or not q.answers:
            continue
        profile = analyse(q.question, typer)
        if profile.answer_type is AnswerType.YES_NO:
            continue
        sentence = _sentence(q, corpus)
        if sentence is None:
            continue
        texts, features = candidate_table(profile, sentence)
        if not texts:
            continue
        f1 = np.array([max(token_f1(t, g) for g in q.answers) for t in texts])
        rows.append({"set": name, "half": half(q.id), "x": features, "f1": f1, "profile": profile,
                     "sentence": sentence, "answers": q.answers})
    return rows


def fit(rows: list[dict], l2: float) -> np.ndarray:
    """Conditional logit towards each sentence's F1 distribution over its candidates."""
    data = [(r["x"], r["f1"] / r["f1"].sum()) for r in rows if r["f1"].sum() > 0 and len(r["f1"]) > 1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = l2 * float(w @ w), 2 * l2 * w
        for x, target in data:
            z = x @ w
            z = z - z.max()
            p = np.exp(z) / np.exp(z).sum()
            total -= float(target @ np.log(p + 1e-12))
            grad = grad + x.T @ (p - target)
        return total / len(data), grad / len(data)

    result = minimize(loss, np.zeros(data[0][0].shape[1]), jac=True, method="L-BFGS-B")
    return result.x


def picked(rows: list[dict], w: np.ndarray, typer: NounTyper | None) -> float:
    """Mean F1 of the short answer the weights give, by the pipeline's own `short_answer` (with the
    embedding model's kin check when `typer` is given)."""
    if not rows:
        return float("nan")
    tuning = Tuning(span_weights=dict(zip(SPAN_FEATURES, map(float, w))))
    kin = typer.kin if typer is not None else None
    total = 0.0
    for r in rows:
        answer = short_answer(r["profile"], r["sentence"], kin, tuning)
        total += max(token_f1(answer.text if answer else r["sentence"], g) for g in r["answers"])
    return total / len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["squad2", "realtimeqa", "seed"])
    # Cross-validation on gold sentences prefers weaker penalties (0.03: 0.569 against 0.546 at 1.0),
    # but end to end, on the tune halves, 0.03 loses multihop questions the fit never sees (short F1
    # 0.248 against 0.254): so 1.0 is kept, and other values are tried with --l2 and cross-validated
    parser.add_argument("--l2", type=float, nargs="+", default=[1.0],
                        help="penalties to try; the one best in 5-fold cross-validation on tune is kept")
    args = parser.parse_args()
    s = Settings()
    t = s.tuning
    embedder = Embedder(s.embed_model, s.precision, s.embed_batch_size, s.cache_dir)
    typer = NounTyper.from_tuning(embedder.encode, t)
    rows = [r for name in args.sets for r in examples(name, typer)]
    tune = [r for r in rows if r["half"] == "tune"]
    # 5 folds: with 2, which penalty won moved with the split more than with the penalty
    folds = [[r for k, r in enumerate(tune) if k % FOLDS == f] for f in range(FOLDS)]
    cv = {
        l2: round(sum(
            picked(folds[f], fit([r for g in range(FOLDS) if g != f for r in folds[g]], l2), typer) * len(folds[f])
            for f in range(FOLDS)
        ) / len(tune), 4)
        for l2 in args.l2
    }
    l2 = max(cv, key=cv.get)
    w = fit(tune, l2)
    weights = {name: round(float(v), 3) for name, v in zip(SPAN_FEATURES, w)}
    report = {}
    for name in args.sets:
        for part in ("tune", "check"):
            sub = [r for r in rows if r["set"] == name and r["half"] == part]
            report[f"{name}/{part}"] = {
                "n": len(sub),
                "first": round(picked(sub, np.zeros(len(SPAN_FEATURES)), None), 3),
                "tree": round(picked(sub, np.array([float(k == "tree_first") for k in SPAN_FEATURES]), typer), 3),
                "current": round(picked(sub, np.array([t.span_weights.get(k, 0.0) for k in SPAN_FEATURES]), typer), 3),
                "fitted": round(picked(sub, w, typer), 3),
                "best": round(float(np.mean([r["f1"].max() for r in sub])) if sub else float("nan"), 3),
            }
    print("QA_BOT_TUNING=" + json.dumps({"span_weights": weights}), file=sys.stderr)
    print(json.dumps({"benchmark": "fit_short_answers", "l2": l2, "cross_validated": cv, "weights": weights, "f1": report}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
