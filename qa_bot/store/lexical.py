"""Keeps the FTS5 lexical index in step with the Chroma collection, a few rows per write.

This process's own writes and deletes update it directly (ChromaStore tells its listeners); writes
by other processes (two bots on one `chroma run`) are caught up from the collection's change log:
the records past the last one applied name the articles touched, and each is re-read from the
registry and Chroma only if the version indexed differs. The whole index is built from the
collection only when its file is missing, of an old format, or damaged."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from qa_bot.settings import Settings
from qa_bot.store.chroma import Change, Filters
from qa_bot.store.fts import IndexFormatError, LexicalIndex
from qa_bot.types import ScoredChunk

log = logging.getLogger(__name__)


class LiveLexicalIndex:
    """What retrieval and evidence selection read: BM25 search returning the collection's chunks."""

    def __init__(self, index: LexicalIndex, store, on_damage):
        self._index = index
        self._store = store
        self._on_damage = on_damage

    def __len__(self) -> int:
        return len(self._index)

    def idf(self, term: str) -> float:
        return self._index.idf(term)

    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        try:
            hits = self._index.search_ids(query, top_k, filters)
        except sqlite3.OperationalError as exc:  # busy or locked: this question goes on with Chroma alone
            log.warning("lexical search skipped: %s", exc)
            return []
        except (IndexFormatError, sqlite3.DatabaseError) as exc:
            self._on_damage(exc)  # rebuilt at the next question; this one is answered from Chroma alone
            return []
        if not hits:
            return []
        # the passages themselves come from Chroma, the source of truth: the FTS file holds only terms
        chunks = {c.chunk_id: c for c in self._store.get_chunks([cid for cid, _ in hits])}
        ranked = [(chunks[cid], score) for cid, score in hits if cid in chunks]
        return [ScoredChunk(chunk=c, score=score, lexical_rank=rank) for rank, (c, score) in enumerate(ranked)]


class SyncedLexicalIndex:
    """The lexical index of one store's collection, opened (or built, once) on first use."""

    def __init__(self, store, settings: Settings | None = None):
        self._store = store
        settings = settings or Settings()
        self._window_us = int(settings.lexical_log_window_s * 1_000_000)
        self._max_postings = settings.lexical_max_postings
        self._mmap_bytes = settings.lexical_mmap_mb * 2**20
        self._lock = threading.RLock()
        self._index: LexicalIndex | None = None
        self._generation: str | None = None
        self._live: LiveLexicalIndex | None = None
        self.rebuilds = 0  # whole builds from the collection by this process (tests and benchmarks read it)
        if hasattr(store, "add_listener"):
            store.add_listener(self._on_change)

    @property
    def is_open(self) -> bool:
        """Whether the file is open; until then the first use may build it whole (minutes at 1M)."""
        return self._index is not None

    def current(self) -> LiveLexicalIndex:
        generation = self._store.generation()
        with self._lock:
            index = self._open()
            if generation != self._generation:
                # another process may have written this very file (server mode keeps it in the
                # shared cache folder): counts and document frequencies read before are stale
                index.forget_counts()
                if index.meta("generation") != generation:
                    if self._missed_pruned_records(index):
                        index = self._build_again(index)
                    else:
                        self._catch_up(index, generation)
                self._generation = generation
            self._live = LiveLexicalIndex(index, self._store, self._damaged)
            return self._live

    def latest(self) -> LiveLexicalIndex:
        """The index as the last `current()` left it, without reading the generation again (~0.8 ms
        at 100k chunks): for what the same question reads after its search. `current()` when no
        index is open."""
        with self._lock:
            if self._live is not None and self._index is not None:
                return self._live
        return self.current()

    # ---- keeping up ----------------------------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        """This process wrote or deleted: index those articles now, so the next question finds them.
        What is in Chroma stays there if this fails: the change is in the log, and the next question
        (the generation moved) catches up from it."""
        with self._lock:
            try:
                index = self._open()
                whole = change.complete
                rest = [d for d in change.doc_ids if d not in whole]
                if whole:
                    index.replace(list(whole), [c for _, chunks in whole.values() for c in chunks],
                                  {d: version for d, (version, _) in whole.items()})
                if rest:
                    self._reconcile(index, rest)
                if change.doc_ids:  # its log record need not be applied again by the catch-up
                    self._mark_applied(index, [change.seq])
            except (OSError, sqlite3.Error) as exc:
                log.warning("the lexical index will catch up with this write at the next question: %s", exc)

    def _catch_up(self, index: LexicalIndex, generation: str) -> None:
        """Applies the change log records written since the last one applied (and a window before
        it, since writers' records may land out of order); re-applying one is harmless."""
        last = int(index.meta("seq", "0"))
        records = self._store.changes_since(last - self._window_us)
        applied = self._applied(index)
        fresh = [(seq, doc_ids) for seq, doc_ids in records if seq not in applied]
        touched = list(dict.fromkeys(d for _, doc_ids in fresh for d in doc_ids))
        if touched:
            self._reconcile(index, touched)
        newest = max([last, *(seq for seq, _ in records)])
        index.set_meta(seq=newest, generation=generation)
        self._mark_applied(index, [seq for seq, _ in fresh])

    def _missed_pruned_records(self, index: LexicalIndex) -> bool:
        """True when the log lost records this index never applied (it was behind for longer than
        the log keeps them): catching up would miss those articles."""
        pruned_through = getattr(self._store, "log_pruned_through", None)
        return pruned_through is not None and pruned_through() > int(index.meta("seq", "0"))

    def _build_again(self, index: LexicalIndex) -> LexicalIndex:
        log.info("the lexical index is further behind than the change log keeps; building it again")
        index.close()
        self._index = self._build(self._path())
        return self._index

    @staticmethod
    def _applied(index: LexicalIndex) -> set[int]:
        """The log records inside the window already applied: re-reading the window after every
        write would otherwise reconcile each of its articles again (~45 ms a question at 1M)."""
        try:
            return set(json.loads(index.meta("applied", "[]")))
        except (ValueError, TypeError):
            return set()

    def _mark_applied(self, index: LexicalIndex, seqs: list[int]) -> None:
        if not seqs:
            return
        known = self._applied(index) | set(seqs)
        floor = max([int(index.meta("seq", "0")), *known]) - 2 * self._window_us
        index.set_meta(applied=json.dumps(sorted(s for s in known if s > floor)))

    def _reconcile(self, index: LexicalIndex, doc_ids: Sequence[str]) -> None:
        """Makes the index hold these articles as the registry does: indexed at the registered
        version, or not at all when unregistered (deleted, or still being written)."""
        for i in range(0, len(doc_ids), 500):  # a long backlog in bounded requests
            batch = list(doc_ids[i : i + 500])
            registered = self._store.get_articles(batch)
            have = index.versions(batch)
            stale = [d for d in batch if d in registered and have.get(d) != registered[d].version]
            gone = [d for d in batch if d not in registered and d in have]
            if stale or gone:
                chunks = self._store.chunks_of(stale) if stale else []
                index.replace(stale + gone, chunks, {d: registered[d].version for d in stale})

    # ---- opening and building ------------------------------------------------------------------
    def _path(self) -> Path | None:
        getter = getattr(self._store, "lexical_cache_path", None)
        return getter() if getter else None

    def _open(self) -> LexicalIndex:
        if self._index is not None:
            return self._index
        path = self._path()
        if path is not None:
            try:
                self._index = self._file(path)
                return self._index
            except IndexFormatError as exc:
                if path.exists():
                    log.info("rebuilding the lexical index: %s", exc)
        self._index = self._build(path)
        return self._index

    def _file(self, path: Path | None, create: bool = False, bulk: bool = False) -> LexicalIndex:
        """The file at `path` (in memory for None) opened with this index's settings."""
        return LexicalIndex(path, create, bulk, max_postings=self._max_postings, mmap_bytes=self._mmap_bytes)

    def _build(self, path: Path | None) -> LexicalIndex:
        """The whole index from the collection, written to a new file and renamed into place, so a
        reader in another process sees the old file or the new one, never half of one. Where no
        file can be written (a full disk, a read-only folder) it is built in memory instead."""
        self.rebuilds += 1
        since = time.time_ns() // 1000  # changes from now on are caught up from the log
        generation = self._store.generation()
        if path is not None:
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp.unlink(missing_ok=True)
                index = self._file(tmp, create=True, bulk=True)
                try:
                    self._fill(index, since, generation)
                finally:
                    index.close()
                os.replace(tmp, path)
                for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    stale.unlink(missing_ok=True)  # of the file replaced: they must not apply to this one
                legacy = path.with_name(path.name.replace("_lexical.fts5", "_lexical.pkl"))
                legacy.unlink(missing_ok=True)  # the BM25 snapshot of earlier versions
                return self._file(path)
            except (OSError, sqlite3.DatabaseError, IndexFormatError) as exc:
                log.info("lexical index kept in memory, %s cannot be written: %s", path, exc)
                tmp.unlink(missing_ok=True)
        index = self._file(None, create=True)
        self._fill(index, since, generation)
        return index

    def _fill(self, index: LexicalIndex, since: int, generation: str) -> None:
        versions = {r.doc_id: r.version for r in self._store.articles()}
        batch: list = []
        for chunk in self._store.iter_chunks():
            batch.append(chunk)
            if len(batch) >= 5000:
                self._add_batch(index, batch, versions)
                batch = []
        self._add_batch(index, batch, versions)
        index.set_meta(seq=since - self._window_us, generation=generation)

    @staticmethod
    def _add_batch(index: LexicalIndex, chunks: list, versions: dict[str, str]) -> None:
        docs = list(dict.fromkeys(c.doc_id for c in chunks))
        index.replace([], chunks, {d: versions.get(d, "") for d in docs})

    def _damaged(self, exc: Exception) -> None:
        """A file that fails while read (damaged on disk) is set aside and built again next time."""
        log.warning("the lexical index is damaged and will be rebuilt: %s", exc)
        with self._lock:
            if self._index is not None:
                path = self._index.path
                self._index.close()
                self._index = None
                self._generation = None
                self._live = None
                if path is not None:
                    path.unlink(missing_ok=True)
