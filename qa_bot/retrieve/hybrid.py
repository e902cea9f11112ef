"""Dense (Chroma) plus lexical (BM25) retrieval, fused by reciprocal rank."""

from __future__ import annotations

from datetime import date

import numpy as np

from qa_bot.embed import Embedder
from qa_bot.retrieve.boosts import boost
from qa_bot.language.profile import QuestionProfile
from qa_bot.settings import Settings
from qa_bot.retrieve.fusion import reciprocal_rank_fusion
from qa_bot.store.chroma import ChromaStore, Filters
from qa_bot.store.lexical import SyncedLexicalIndex
from qa_bot.types import ScoredChunk


class HybridRetriever:
    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        top_k: int = 5,
        candidates: int = 30,
        rrf_k: int = 60,
        settings: Settings | None = None,
    ):
        if top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {top_k}")
        self.store = store
        self.embedder = embedder
        self.top_k = top_k
        self.candidates = max(candidates, top_k)
        self.rrf_k = rrf_k
        settings = settings or Settings()  # read once: the lexical index and the boosts share it
        self.lexical = SyncedLexicalIndex(store, settings)
        self.tuning = settings.tuning

    def retrieve(
        self,
        query: str,
        top_k: int | None = None,
        filters: Filters | None = None,
        query_vector: np.ndarray | None = None,
        asked_on: date | None = None,
        profile: QuestionProfile | None = None,
    ) -> list[ScoredChunk]:
        """The best `top_k` chunks; `asked_on` lets recent articles and dates ahead of it count, the
        question's `profile` passages holding what it asks for."""
        top_k = self.top_k if top_k is None else top_k
        if top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {top_k}")
        depth = max(self.candidates, top_k)
        if query_vector is None:
            query_vector = self.embedder.encode([query])[0]
        dense = self.store.query(query_vector, depth, filters)
        lexical = self.lexical.current().search(query, depth, filters)
        fused = reciprocal_rank_fusion([dense, lexical], k=self.rrf_k)
        # chunks of an article are only answerable once it is registered: an ingest that was
        # killed (or another process's, still running) leaves chunks that must not be cited
        registered = self.store.registered(sorted({s.chunk.doc_id for s in fused}))
        fused = [s for s in fused if s.chunk.doc_id in registered]
        return boost(fused, profile, asked_on, self.tuning)[:top_k]
