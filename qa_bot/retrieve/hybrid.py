"""Dense (Chroma) plus lexical (BM25) retrieval, fused by reciprocal rank."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date

import numpy as np

from qa_bot.embed import Embedder
from qa_bot.language.profile import QuestionProfile
from qa_bot.retrieve.boosts import boost
from qa_bot.retrieve.fusion import reciprocal_rank_fusion
from qa_bot.settings import Settings
from qa_bot.store.chroma import ChromaStore, Filters
from qa_bot.store.lexical import SyncedLexicalIndex
from qa_bot.types import ScoredChunk


class HybridRetriever:
    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings | None = None):
        settings = settings or Settings()  # read once: the depths, the lexical index and the boosts share it
        if settings.top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {settings.top_k}")
        self.store = store
        self.embedder = embedder
        self.top_k = settings.top_k
        self.candidates = max(settings.candidates, settings.top_k)
        self.rrf_k = settings.rrf_k
        self.lexical = SyncedLexicalIndex(store, settings)
        self.tuning = settings.tuning
        # BM25 needs only the question's words, so it runs while the question is encoded and parsed:
        # SQLite leaves Python's lock while it searches (at 1M chunks ~20 of an ask's ~100 ms); the
        # dense search, once the question is encoded, while it is parsed
        self._background = ThreadPoolExecutor(max_workers=4, thread_name_prefix="qa-bot-search")

    def depth(self, top_k: int | None = None) -> int:
        """How many chunks each side (dense, lexical) returns for fusion."""
        return max(self.candidates, self.top_k if top_k is None else top_k)

    def search_lexical(self, query: str, top_k: int | None = None, filters: Filters | None = None) -> Future | None:
        """Starts the lexical side of `retrieve` in the background; hand the future to `retrieve`.
        None before the index is open: building it whole stays in the caller's thread, where an
        interrupt stops it (a pool thread would hold the process open until the build ended)."""
        if not self.lexical.is_open:
            return None
        depth = self.depth(top_k)
        return self._background.submit(lambda: self.lexical.current().search(query, depth, filters))

    def search_dense(self, query_vector: np.ndarray, top_k: int | None = None, filters: Filters | None = None) -> Future:
        """Starts the dense side of `retrieve` in the background, while the caller parses the
        question (Chroma's search leaves Python's lock too); hand the future to `retrieve`."""
        return self._background.submit(self.store.query, query_vector, self.depth(top_k), filters)

    def retrieve(
        self,
        query: str,
        top_k: int | None = None,
        filters: Filters | None = None,
        query_vector: np.ndarray | None = None,
        asked_on: date | None = None,
        profile: QuestionProfile | None = None,
        lexical: Future | None = None,
        dense: Future | None = None,
    ) -> list[ScoredChunk]:
        """The best `top_k` chunks; `asked_on` lets recent articles and dates ahead of it count, the
        question's `profile` passages holding what it asks for. `lexical` and `dense` are the
        futures of `search_lexical` and `search_dense` for the same question, top_k and filters,
        if started."""
        top_k = self.top_k if top_k is None else top_k
        if top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {top_k}")
        depth = self.depth(top_k)
        if dense is not None:
            dense = dense.result()
        else:
            if query_vector is None:
                query_vector = self.embedder.encode([query])[0]
            dense = self.store.query(query_vector, depth, filters)
        lexical = lexical.result() if lexical is not None else self.lexical.current().search(query, depth, filters)
        fused = reciprocal_rank_fusion([dense, lexical], k=self.rrf_k)
        # chunks of an article are only answerable once it is registered: an ingest that was
        # killed (or another process's, still running) leaves chunks that must not be cited
        registered = self.store.registered(sorted({s.chunk.doc_id for s in fused}))
        fused = [s for s in fused if s.chunk.doc_id in registered]
        return boost(fused, profile, asked_on, self.tuning)[:top_k]
