"""The LLM answerer: a language model writes a short answer from numbered passages, and the answer
is kept only when its citations hold; otherwise the extractive answer is given, with the reason.

The model sees only the best evidence sentences of the top passages (short prompts suit small
models, and a sentence that does not bear on the question never reaches the model). What the model
saw under `[n]` is what `[n]` is checked against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from qa_bot.answer.base import AnswerDraft, cite
from qa_bot.answer.extractive import ExtractiveAnswerer
from qa_bot.answer.llms import call_errors
from qa_bot.answer.select import Evidence
from qa_bot.answer.verify import (
    claim_supported,
    coverage,
    markers,
    question_key_terms,
    strip_markers,
    verify,
    yes_no,
)
from qa_bot.language.patterns import CITATION_MARKER
from qa_bot.language.profile import QuestionProfile, analyse
from qa_bot.prompts import load_prompt, render
from qa_bot.settings import Tuning
from qa_bot.text import terms
from qa_bot.types import Citation, ScoredChunk

MAX_ANSWER_CHARS = 300  # longer than this is not the short answer that was asked for

_LEAD_IN = re.compile(r"^\s*(?:answer|short answer|a)\s*[:\-]\s*", re.I)
# where a small model's answer turns into commentary: "-16°C, with power outages compounding ..."
_TRAILING_CLAUSE = re.compile(r",\s+(?:which|with|while|but|and|as|although|though|who|where)\b|;\s")


@dataclass(frozen=True)
class NumberedPassage:
    """One passage as the model sees it: a header and the evidence sentences picked from it."""

    n: int
    sentences: tuple[Evidence, ...]  # in article order

    @property
    def chunk(self):
        return self.sentences[0].passage.chunk

    @property
    def header(self) -> str:
        """Where the passage comes from: questions often name the outlet or the day."""
        chunk = self.chunk
        return ", ".join(x for x in (chunk.source, chunk.published.isoformat() if chunk.published else "") if x)

    @property
    def body(self) -> str:
        return " ".join(e.text for e in self.sentences)

    @property
    def text(self) -> str:
        return f"({self.header}) {self.body}" if self.header else self.body


def number_passages(
    evidence: Sequence[Evidence], min_score: float, yes_no: bool = False, tuning: Tuning | None = None
) -> list[NumberedPassage]:
    """The best evidence sentences, grouped by passage, passages numbered by their best sentence.

    For a wh-question: the best sentence, and a second passage's only when it scores nearly as well
    (and at least `min_score`); sentences that do not bear on the question never reach the model.
    For a yes/no question: the best sentences of the top passages, whatever their score."""
    t = tuning or Tuning()
    max_passages, per_passage = (
        (t.llm_max_passages_yes_no, t.llm_sentences_per_passage_yes_no) if yes_no else (t.llm_max_passages, t.llm_sentences_per_passage)
    )
    floor = 0.0 if yes_no or not evidence else max(min_score, evidence[0].score - t.llm_second_passage_margin)
    picked: dict[str, list[Evidence]] = {}
    for item in evidence:
        if item.score < floor and picked:
            break  # evidence is sorted: the rest scores lower still
        chunk_id = item.passage.chunk.chunk_id
        if chunk_id not in picked and len(picked) == max_passages:
            continue
        if len(picked.setdefault(chunk_id, [])) < per_passage:
            picked[chunk_id].append(item)
    return [
        NumberedPassage(n, tuple(sorted(items, key=lambda e: e.start)))
        for n, items in enumerate(picked.values(), start=1)
    ]


def build_messages(question: str, passages: Sequence[NumberedPassage]) -> list:
    from llama_index.core.base.llms.types import ChatMessage

    shown = "\n".join(f"[{p.n}] {p.text}" for p in passages)
    messages = [ChatMessage(role="system", content=load_prompt("answer_system"))]
    for asked, answered in examples():
        messages += [ChatMessage(role="user", content=asked), ChatMessage(role="assistant", content=answered)]
    messages.append(ChatMessage(role="user", content=render("answer_user", passages=shown, question=question)))
    return messages


def examples() -> list[tuple[str, str]]:
    """Worked examples (prompts/answer_examples.txt: passages and question, `===`, answer, `===`, ...):
    a small model copies the form of an example far more reliably than it follows a description.
    Each example's last line is the question, written to end as answer_user.txt ends."""
    parts = [p.strip() for p in re.split(r"^===\s*$", load_prompt("answer_examples"), flags=re.M)]
    pairs = []
    for asked, answered in zip(parts[0::2], parts[1::2]):
        passages, _, question = asked.rpartition("\n\nQuestion: ")
        body = passages.removeprefix("Passages:\n")
        pairs.append((render("answer_user", passages=body, question=question.strip()), answered))
    return pairs


class LLMAnswerer:
    """Any llama-index LLM behind the Answerer interface, checked by `verify`."""

    name = "llm"

    def __init__(self, llm: Any | Callable[[], Any], min_evidence: float, tuning: Tuning | None = None):
        self._llm = llm if callable(llm) and not hasattr(llm, "chat") else (lambda: llm)
        self.min_evidence = min_evidence
        self.tuning = tuning or Tuning()
        self._extractive = ExtractiveAnswerer(min_evidence)

    def answer(
        self, question: str, passages: list[ScoredChunk], evidence: list[Evidence], asked_on: date,
        profile: QuestionProfile | None = None,
    ) -> AnswerDraft:
        extractive = self._extractive.answer(question, passages, evidence, asked_on)
        if extractive.abstained:  # too little evidence: no model is asked to guess
            return replace(extractive, answerer=self.name)
        is_yes_no = (profile or analyse(question)).yes_no
        shown = number_passages(evidence, self.min_evidence, is_yes_no, self.tuning)
        try:
            reply = self._llm().chat(build_messages(question, shown))
        except call_errors() as exc:
            return _fallback(extractive, f"the language model could not be reached ({type(exc).__name__})")
        text = tidy(reply.message.content or "", question, is_yes_no)
        if not text:
            return _fallback(extractive, "the language model gave no usable answer")
        if not markers(text):
            text = attribute(text, shown, question, is_yes_no, self.tuning.min_claim_coverage)
        by_number = {p.n: p for p in shown}
        verdict = verify(text, {n: p.text for n, p in by_number.items()}, question, is_yes_no, self.tuning)
        if not verdict.ok:
            return _fallback(extractive, verdict.reason)
        final, citations = renumber(text, [by_number[n] for n in verdict.cited], question, is_yes_no)
        return AnswerDraft(final, False, citations, self.name, extractive.evidence_score)


def tidy(raw: str, question: str, is_yes_no: bool) -> str:
    """The model's answer, short: its first line without a lead-in, quotes, a trailing clause or the
    words it echoes from the question; for a yes/no question just the verdict and its markers."""
    line = next((ln.strip() for ln in raw.splitlines() if ln.strip()), "")
    line = _LEAD_IN.sub("", line).strip().strip("\"'“”‘’")
    if len(line) > MAX_ANSWER_CHARS:
        return ""
    cited = "".join(m.group(0) for m in CITATION_MARKER.finditer(line))
    if is_yes_no:
        verdict = yes_no(line)
        return f"{verdict} {cited}".strip() if verdict else ""
    answer = shorten(_TRAILING_CLAUSE.split(strip_markers(line), maxsplit=1)[0], question)
    return f"{answer} {cited}".strip() if answer else ""


def shorten(answer: str, question: str) -> str:
    """The stretch of `answer` from its first to its last word the question does not already hold:
    "The governor of Belgorod is Vyacheslav Gladkov." becomes "Vyacheslav Gladkov"."""
    asked = set(terms(question))
    spans = [m for m in re.finditer(r"\S+", answer) if any(t not in asked for t in terms(m.group()))]
    if not spans:
        return answer.strip()
    return answer[spans[0].start() : spans[-1].end()].strip(" ,.;:!\"'“”‘’")


def attribute(
    text: str, passages: Sequence[NumberedPassage], question: str, is_yes_no: bool,
    min_coverage: float = Tuning.model_fields["min_claim_coverage"].default,
) -> str:
    """Adds the marker the model left out: the best-ranked passage that supports the answer (for
    yes/no, every passage naming what the question asks about). Unsupported answers stay unmarked
    and fail verification."""
    if is_yes_no:
        key = question_key_terms(question)
        cited = [p.n for p in passages if coverage(key, p.text) > 0]
    else:
        cited = [p.n for p in passages if claim_supported(strip_markers(text), p.text, question, min_coverage)][:1]
    return f"{text.rstrip()} {''.join(f'[{n}]' for n in cited)}" if cited else text


def renumber(
    text: str, cited: Sequence[NumberedPassage], question: str, is_yes_no: bool
) -> tuple[str, list[Citation]]:
    """Markers renumbered 1..k in order of first use, each citing the sentence of its passage that
    carries the answer."""
    new_number = {p.n: i for i, p in enumerate(cited, start=1)}

    def swap(match: re.Match) -> str:
        return "".join(f"[{new_number[n]}]" for n in dict.fromkeys(markers(match.group(0))))

    wanted = question_key_terms(question) if is_yes_no else set(terms(strip_markers(text)))
    citations = []
    for passage in cited:
        best = max(passage.sentences, key=lambda e: coverage(wanted, e.text) if wanted else 0.0)
        citations.append(cite(new_number[passage.n], best))
    return CITATION_MARKER.sub(swap, text), citations


def _fallback(extractive: AnswerDraft, reason: str) -> AnswerDraft:
    return replace(extractive, fallback_reason=f"The language model's answer was not used: {reason}.")
