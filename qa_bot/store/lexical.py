"""BM25 over the same chunks Chroma holds, rebuilt from the collection so it never drifts from it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

from qa_bot.ingest.chunking import indexed_text
from qa_bot.store.chroma import Filters
from qa_bot.text import terms
from qa_bot.types import Chunk, ScoredChunk


class LexicalIndex:
    def __init__(self, chunks: Iterable[Chunk]):
        import bm25s

        self.chunks: list[Chunk] = list(chunks)
        self._bm25 = None
        self._doc_freq: Counter[str] = Counter()
        if self.chunks:
            tokenized = [terms(indexed_text(c)) or [""] for c in self.chunks]
            for tokens in tokenized:
                self._doc_freq.update(set(tokens))
            self._bm25 = bm25s.BM25()
            self._bm25.index(tokenized, show_progress=False)

    def __len__(self) -> int:
        return len(self.chunks)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; a word the corpus never uses weighs the most."""
        n = len(self.chunks)
        return math.log((n + 1) / (self._doc_freq.get(term, 0) + 0.5))

    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        if self._bm25 is None:
            return []
        tokens = [t for t in terms(query) if t in self._bm25.vocab_dict]
        if not tokens:
            return []
        mask = None
        if filters:
            mask = np.fromiter((filters.accepts(c) for c in self.chunks), dtype=np.float32, count=len(self.chunks))
        scores = self._bm25.get_scores(tokens, weight_mask=mask)
        k = min(top_k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [
            ScoredChunk(chunk=self.chunks[i], score=float(scores[i]), lexical_rank=rank)
            for rank, i in enumerate(top)
            if scores[i] > 0
        ]


class SyncedLexicalIndex:
    """Keeps a LexicalIndex in step with the Chroma collection, which other processes may write to
    (two bots sharing one Chroma server): it is rebuilt whenever the collection's generation moves."""

    def __init__(self, store):
        self._store = store
        self._index: LexicalIndex | None = None
        self._generation: tuple[int, str] | None = None

    def current(self) -> LexicalIndex:
        generation = self._store.generation()
        if self._index is None or generation != self._generation:
            self._index = LexicalIndex(self._store.iter_chunks())
            self._generation = generation
        return self._index
