"""`QABot`: the one pipeline. The CLI, the web app and the evaluator all go through it."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from qa_bot.answer import ExtractiveAnswerer, rerank_by_evidence, select_evidence
from qa_bot.answer.base import ABSTAIN_TEXT, AnswerDraft, Answerer
from qa_bot.answer.select import constraints_first
from qa_bot.chat import condense
from qa_bot.chat.history import bounded_history
from qa_bot.embed import Embedder
from qa_bot.errors import EmptyIndexError, InputError
from qa_bot.ingest.fetch import Fetcher, is_url
from qa_bot.ingest.indexer import Indexer, Progress
from qa_bot.ingest.web import WebSources
from qa_bot.language import NounTyper, QuestionProfile, analyse, holds_type, is_typed, short_answer
from qa_bot.language.constraints import conflicting_modifiers, polarity_differs, unmet_constraints
from qa_bot.retrieve import HybridRetriever
from qa_bot.settings import AnswererKind, Settings
from qa_bot.store import ArticleRecord, ChromaStore, Filters
from qa_bot.types import Answer, IngestReport, plural

log = logging.getLogger(__name__)


def _quiet(message: str) -> None:
    """The progress listener of callers that show none."""


class QABot:
    """Question answering over the articles in one index.

    >>> bot = QABot(index_dir="index")
    >>> bot.ingest(["seeds/"])
    >>> bot.ask("When are the next talks?").text
    """

    def __init__(self, index_dir: str | Path | None = None, *, settings: Settings | None = None, **overrides):
        try:
            base = settings or Settings()
            self.settings = base.with_overrides(index_dir=Path(index_dir) if index_dir else None, **overrides)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InputError(f"Invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}.") from None
        s = self.settings
        self.store = ChromaStore(
            s.index_dir, s.collection, s.chroma_url, cache_dir=s.cache_dir, registry_text_max_chars=s.registry_text_max_chars,
            change_log_keep_days=s.lexical_log_keep_days,
        )
        self.embedder = Embedder(
            s.embed_model, s.precision, s.embed_batch_size, s.cache_dir,
            onnx_batch_tokens=s.onnx_batch_tokens, onnx_max_texts=s.onnx_max_texts,
        )
        self.retriever = HybridRetriever(self.store, self.embedder, s)
        self.store.check_embedding_model(self.embedder.model_id)
        fetcher = Fetcher(s.fetch_timeout, int(s.fetch_max_mb * 2**20), s.fetch_max_redirects, s.fetch_host_delay)
        self._indexer = Indexer(
            self.store, self.embedder, s.chunk_words, s.max_chunk_words, s.max_chunk_chars, s.ingest_batch_chunks,
            web=WebSources(fetcher), max_control_share=s.max_control_share,
        )
        self._answerers: dict[AnswererKind, Answerer] = {
            AnswererKind.EXTRACTIVE: ExtractiveAnswerer(s.min_evidence)
        }
        self._noun_typer = NounTyper.from_tuning(self.embedder.encode, s.tuning)
        self._lock = threading.Lock()
        self._llm_lock = threading.RLock()  # builds the LLM and its answerer once, on first use
        self._llm = None

    # ---- articles ----------------------------------------------------------------------
    def ingest(
        self, paths: Sequence[str | Path], sync: bool = False, progress: Progress | None = None, public_only: bool = False
    ) -> IngestReport:
        """Adds new and changed articles; unchanged ones are skipped, so running it twice adds nothing.
        Paths may be files, folders, article or feed URLs; `public_only` refuses addresses in a
        private network (for addresses a web client gave)."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        if not paths:
            raise InputError("Give at least one file or folder to ingest.")
        with self._lock:
            report = self._indexer.ingest(
                [p if is_url(p) else Path(p) for p in paths], sync=sync, progress=progress, public_only=public_only
            )
            self._make_onnx_twin()
            return report

    def _make_onnx_twin(self) -> None:
        """Once per model and cache: lets a new process answer without importing torch."""
        try:
            self.embedder.export_onnx()
        except Exception as error:  # an optimisation only: answering falls back to torch
            log.warning("could not export the embedding model to ONNX (%s); questions will load torch", error)

    def articles(self) -> list[ArticleRecord]:
        return self.store.articles()

    def article(self, doc_id: str) -> tuple[ArticleRecord, str] | None:
        """An indexed article's record and whole text (what the page's reader shows), or None."""
        if not isinstance(doc_id, str) or not doc_id:
            return None
        record = self.store.get_articles([doc_id]).get(doc_id)
        text = self.store.article_text(doc_id) if record else None
        return (record, text) if record and text is not None else None

    def remove(self, doc_ids: Sequence[str]) -> None:
        with self._lock:
            self.store.delete_articles(list(doc_ids))

    def count_chunks(self) -> int:
        return self.store.count()

    # ---- questions ---------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[dict] | None = None,
        asked_on: date | str | None = None,
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        answerer: AnswererKind | str | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answers from the indexed articles, or abstains when they do not say. Every request is
        held to the settings' budget (question length, history, top_k) before any work is done.
        `on_progress` hears each step as a short sentence, for surfaces that show the work."""
        s = self.settings
        progress = on_progress or _quiet
        question = _check_question(question, s.max_question_chars)
        history = bounded_history(history, s.max_history_turns, s.max_history_chars)
        top_k = _check_top_k(top_k, s.top_k, s.max_top_k)
        when = _as_date(asked_on)
        # before loading the model: an empty index is answered at once. Articles, not chunks, are
        # counted: a count of 100k chunks costs ~7 ms, of their articles under 1 ms
        articles = self.store.count_articles()
        if articles == 0:
            raise EmptyIndexError("The index is empty; add articles first with `qa-bot ingest PATH`.")
        progress(f"Searching {plural(articles, 'article')}…")
        answerer_kind = _answerer_kind(answerer, s.answerer)
        standalone = self._condense(question, history, answerer_kind)
        if len(standalone) > s.max_question_chars:  # a rewrite quotes earlier turns: keep it in budget
            standalone = standalone[: s.max_question_chars].rsplit(" ", 1)[0]
        pool_size = max(top_k, s.tuning.evidence_pool)
        lexical_hits = self.retriever.search_lexical(standalone, pool_size, filters)  # meanwhile:
        question_vector = self.embedder.encode([standalone])[0]
        dense_hits = self.retriever.search_dense(question_vector, pool_size, filters)  # meanwhile:
        profile = analyse(standalone, self._noun_typer)  # the one reading of the question, for every step
        pool = self.retriever.retrieve(
            standalone,
            top_k=pool_size,
            filters=filters,
            query_vector=question_vector,
            asked_on=when,
            profile=profile,
            lexical=lexical_hits,
            dense=dense_hits,
        )
        progress(f"Reading {plural(len(pool), 'passage')}…")
        lexical = self.retriever.lexical.latest()  # the index this question's search just read
        evidence = select_evidence(profile, question_vector, pool, self.embedder, lexical.idf, when, s.tuning)
        if self._checks_constraints(profile):
            evidence = constraints_first(profile, evidence, s.tuning)
        passages = rerank_by_evidence(pool, evidence)[:top_k]
        if answerer_kind is AnswererKind.LLM:
            progress("Writing the answer with the language model, then checking its citations…")
        else:
            progress("Choosing the sentences to cite…")
        draft = self._answerer(answerer_kind, progress).answer(standalone, passages, evidence, when, profile)
        draft = self._check_constraints(profile, draft)
        short = (
            short_answer(profile, draft.citations[0].sentence, self._noun_typer.kin, s.tuning)
            if draft.citations and not draft.abstained else None
        )
        return Answer(
            text=draft.text,
            abstained=draft.abstained,
            citations=draft.citations,
            question=question,
            standalone_question=standalone,
            passages=passages,
            answerer=draft.answerer,
            fallback_reason=draft.fallback_reason,
            evidence_score=draft.evidence_score,
            short_answer=short,
            answer_type=profile.answer_type.value,
            direction=profile.direction,
        )

    def _checks_constraints(self, profile: QuestionProfile) -> bool:
        tuning = self.settings.tuning
        return tuning.constraint_abstention and len(profile.lemmas) <= tuning.constraint_max_terms

    def _check_constraints(self, profile: QuestionProfile, draft: AnswerDraft) -> AnswerDraft:
        """An answer whose cited passages miss a year, number or name the question asks about is no
        answer; nor one to a negated question from a sentence that negates nothing, unless its
        evidence is strong; nor, when so tuned, one to a typed question whose sentence holds nothing
        of that type."""
        if draft.abstained:
            return draft
        tuning = self.settings.tuning
        constrained = self._checks_constraints(profile)
        missing = unmet_constraints(profile, draft.citations, tuning) if constrained else []
        if constrained and tuning.modifier_abstention and draft.citations:
            missing += [q for q, _ in conflicting_modifiers(profile, draft.citations[0].sentence)]
        untyped = (
            draft.evidence_score < tuning.type_abstention_below and is_typed(profile.answer_type) and draft.citations
            and not holds_type(profile, draft.citations[0].sentence)
        )
        opposite = (
            draft.evidence_score < tuning.polarity_min_support and draft.citations
            and polarity_differs(profile, draft.citations[0].sentence)
        )
        if not missing and not untyped and not opposite:
            return draft
        return AnswerDraft(ABSTAIN_TEXT, True, [], draft.answerer, draft.evidence_score)

    def stream(
        self,
        question: str,
        history: Sequence[dict] | None = None,
        asked_on: date | str | None = None,
        **options,
    ) -> Iterator[str | Answer]:
        """Text pieces as they become available, then the final `Answer` (whose text is what counts:
        an LLM draft whose citations fail the check is replaced by the extractive answer)."""
        answer = self.ask(question, history=history, asked_on=asked_on, **options)
        if answer.short_answer:  # shown first everywhere, so streamed first
            yield answer.short_answer.text + "\n\n"
        for piece in re.findall(r"\S+\s*", answer.text):
            yield piece
        yield answer

    def available_answerers(self) -> list[str]:
        """The answerers this install can use: extractive always; llm when the configured backend's
        packages (and model file or server settings) are present. Nothing is loaded to find out."""
        from qa_bot.answer.llms import backend_available

        kinds = [AnswererKind.EXTRACTIVE.value]
        if backend_available(self.settings):
            kinds.append(AnswererKind.LLM.value)
        return kinds

    def _answerer(self, kind: AnswererKind, progress: Callable[[str], None] = _quiet) -> Answerer:
        if kind is AnswererKind.LLM and kind not in self._answerers:
            with self._llm_lock:
                if kind not in self._answerers:
                    progress("Loading the language model (the first time takes about 20 s)…")
                    # imported here so extractive-only use never loads transformers
                    from qa_bot.answer.llm import LLMAnswerer

                    self._answerers[kind] = LLMAnswerer(self._language_model, self.settings.min_evidence, self.settings.tuning)
        if kind not in self._answerers:
            raise InputError(f"The '{kind.value}' answerer is not available yet.")
        return self._answerers[kind]

    def _language_model(self):
        """The configured llama-index LLM, built on first use (its weights load on its first call)."""
        with self._llm_lock:
            if self._llm is None:
                from qa_bot.answer.llms import make_llm

                self._llm = make_llm(self.settings)
        return self._llm

    def _condense(self, question: str, history: Sequence[dict] | None, kind: AnswererKind) -> str:
        """Rule-based, or by the language model when the llm answerer is asked (rules as fallback)."""
        if kind is AnswererKind.LLM and history:
            from qa_bot.chat.llm_condense import condense_with_llm

            return condense_with_llm(self._language_model(), question, history, self.settings.tuning)
        return condense(question, history)


def _check_question(question: str, max_chars: int) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("The question is empty; ask something about the articles.")
    question = question.strip()
    if len(question) > max_chars:
        raise InputError(f"The question is {len(question):,} characters long; keep it under {max_chars:,}.")
    return question


def _check_top_k(top_k: object, default: int, most: int) -> int:
    if top_k is None:
        return min(default, most)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= most:
        try:
            shown = repr(top_k)
        except ValueError:  # an integer too long to print
            shown = "a number too large"
        shown = shown if len(shown) <= 40 else shown[:40] + "…"
        raise InputError(f"top_k must be a whole number from 1 to {most}, got {shown}.")
    return top_k


def _answerer_kind(value: object, default: AnswererKind) -> AnswererKind:
    if value is None or value == "":
        return default
    if isinstance(value, AnswererKind):
        return value
    if isinstance(value, str):
        return AnswererKind.from_str(value)
    raise InputError(f"answerer must be one of: {', '.join(k.value for k in AnswererKind)}.")


def _as_date(value: date | str | None) -> date:
    if value is None or value == "":
        return date.today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise InputError(f"asked_on must be a date like 2026-01-25, got '{shown}'.") from None
