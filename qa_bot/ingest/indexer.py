"""Ingest: load → chunk → embed → store, idempotent by content hash, in bounded batches."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from qa_bot.embed import Embedder
from qa_bot.errors import InputError
from qa_bot.ingest.chunking import chunk_article, indexed_sentence_spans, indexed_text
from qa_bot.ingest.loaders import check_paths, iter_files, load_file, load_jsonl, suffix_of
from qa_bot.store.chroma import ChromaStore
from qa_bot.types import Article, Chunk, IngestReport

Progress = Callable[[int, str], None]  # (articles seen so far, current doc_id)

# chunks embedded and written together: one encode call sorts them by length, so bigger batches
# pad less; 512 chunks of ~100 words are a few MB, so memory stays bounded on any corpus size
_BATCH_CHUNKS = 512


class Indexer:
    def __init__(self, store: ChromaStore, embedder: Embedder, chunk_words: int):
        self.store = store
        self.embedder = embedder
        self.chunk_words = chunk_words
        self.chunking = f"sentences-{chunk_words}w"
        self._writing: Future | None = None  # the previous batch's Chroma write, overlapping this encode

    def ingest(self, paths: Sequence[Path], sync: bool = False, progress: Progress | None = None) -> IngestReport:
        """Indexes every article under `paths`; with `sync`, drops indexed articles whose file is gone."""
        roots = check_paths([Path(p) for p in paths])
        report = IngestReport()
        seen: set[str] = set()
        pending: list[tuple[Article, list[Chunk]]] = []
        pending_chunks = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-write") as writer:
            try:
                for count, article in enumerate(self._articles(roots, report), 1):
                    if article.doc_id in seen:
                        article = _rename(article)
                    seen.add(article.doc_id)
                    if progress:
                        progress(count, article.doc_id)
                    chunks = chunk_article(article, self.chunk_words)
                    pending.append((article, chunks))
                    pending_chunks += len(chunks)
                    if pending_chunks >= _BATCH_CHUNKS:
                        self._flush(pending, report, seen, writer)
                        pending, pending_chunks = [], 0
                self._flush(pending, report, seen, writer)
            finally:
                self._wait_for_write(report)
        if sync:
            self._sync(roots, seen, report)
        report.total_articles = self.store.count_articles()
        report.total_chunks = self.store.count()
        return report

    def _articles(self, roots: Sequence[Path], report: IngestReport) -> Iterator[Article]:
        for path in iter_files(roots):
            if suffix_of(path) in {".jsonl", ".jsonl.gz"}:
                yield from load_jsonl(path)
                continue
            try:
                yield load_file(path, path.stem)
            except InputError as exc:
                if path in roots:  # a file named on purpose must load; one found in a folder is skipped
                    raise
                report.skipped.append(str(exc))

    def _flush(
        self,
        pending: list[tuple[Article, list[Chunk]]],
        report: IngestReport,
        seen: set[str],
        writer: ThreadPoolExecutor,
    ) -> None:
        if not pending:
            return
        known = self.store.get_articles([a.doc_id for a, _ in pending])
        todo: list[tuple[Article, list[Chunk]]] = []
        for article, chunks in pending:
            record = known.get(article.doc_id)
            if record and article.path and record.path and record.path != article.path:
                seen.discard(article.doc_id)
                article = _rename(article)
                chunks = chunk_article(article, self.chunk_words)
                seen.add(article.doc_id)
                record = self.store.get_articles([article.doc_id]).get(article.doc_id)
            if record and record.content_hash == article.content_hash and record.chunking == self.chunking:
                report.unchanged.append(article.doc_id)
                continue
            (report.updated if record else report.added).append(article.doc_id)
            todo.append((article, chunks))
        if not todo:
            return
        every = [c for _, chunks in todo for c in chunks]
        # one forward pass per chunk also leaves each sentence's in-context vector in the cache
        vectors = self.embedder.encode(
            [indexed_text(c) for c in every], [indexed_sentence_spans(c) for c in every]
        )
        items, offset = [], 0
        for article, chunks in todo:
            items.append((article, chunks, vectors[offset : offset + len(chunks)]))
            offset += len(chunks)
        # Chroma writes this batch while the next one is embedded; at most one write is in flight,
        # so memory holds two batches at most and articles are registered in input order
        self._wait_for_write(report)
        self._writing = writer.submit(self.store.write_articles, items, self.chunking)

    def _wait_for_write(self, report: IngestReport) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            report.chunks_written += writing.result()  # a failed write raises here, in the caller

    def _sync(self, roots: Sequence[Path], seen: set[str], report: IngestReport) -> None:
        resolved = [r.resolve() for r in roots]
        gone = [
            record.doc_id
            for record in self.store.articles()
            if record.doc_id not in seen and record.path and _under(Path(record.path), resolved)
        ]
        self.store.delete_articles(gone)
        report.deleted.extend(gone)


def _under(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _rename(article: Article) -> Article:
    """Two files with one name in different folders get distinct, still stable, ids."""
    digest = hashlib.sha1(article.path.encode("utf-8")).hexdigest()[:8]
    return replace(article, doc_id=f"{article.doc_id}-{digest}")
