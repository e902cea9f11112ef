"""BM25 over the same chunks Chroma holds, rebuilt from the collection so it never drifts from it,
and saved beside the index keyed by the collection's generation so a new process need not rebuild."""

from __future__ import annotations

import logging
import math
import os
import pickle
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path

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
            # the source is searchable by name ("reported by TechCrunch"), though not embedded
            tokenized = [terms(f"{indexed_text(c)}\n{c.source}") or [""] for c in self.chunks]
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


log = logging.getLogger(__name__)
# a snapshot written by other code (another Chunk layout, or tokens made differently: bump the
# number whenever what is indexed per chunk changes) is not loaded
_FORMAT = (2, tuple(f.name for f in fields(Chunk)))


class SyncedLexicalIndex:
    """Keeps a LexicalIndex in step with the Chroma collection, which other processes may write to
    (two bots sharing one Chroma server): it is rebuilt whenever the collection's generation moves.

    The collection is the source of truth; the file at `store.lexical_cache_path()` is only a
    snapshot tagged with the generation it was built from, so a fresh process (a cold `qa-bot ask`)
    loads it instead of reading and tokenizing every chunk again, and ignores it once stale."""

    def __init__(self, store):
        self._store = store
        self._index: LexicalIndex | None = None
        self._generation: str | None = None

    def current(self) -> LexicalIndex:
        generation = self._store.generation()
        if self._index is None or generation != self._generation:
            path = self._cache_path()
            index = _load(path, generation) if path else None
            if index is None:
                index = LexicalIndex(self._store.iter_chunks())
                # a writer may have moved the generation while we read: tag what we saw before
                if path and self._store.generation() == generation:
                    _save(path, generation, index)
            self._index, self._generation = index, generation
        return self._index

    def _cache_path(self) -> Path | None:
        getter = getattr(self._store, "lexical_cache_path", None)
        return getter() if getter else None


def _load(path: Path, generation: str) -> LexicalIndex | None:
    try:
        with path.open("rb") as f:
            header = pickle.load(f)
            if header != (_FORMAT, generation):
                return None
            return pickle.load(f)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError) as exc:
        log.info("ignoring unreadable lexical cache %s: %s", path, exc)
        return None


def _save(path: Path, generation: str, index: LexicalIndex) -> None:
    """Atomic replace, so a concurrent reader sees the old snapshot or the new one, never half."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # one per writer
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as f:
            pickle.dump((_FORMAT, generation), f, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only index still answers; it just rebuilds next time
        log.info("could not save lexical cache %s: %s", path, exc)
        tmp.unlink(missing_ok=True)
