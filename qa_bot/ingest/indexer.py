"""Ingest: load → chunk → embed → store, idempotent by content hash, in bounded batches."""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from qa_bot.embed import Embedder
from qa_bot.errors import InputError, QABotError, ServerGoneError, StoreError
from qa_bot.ingest.chunking import chunk_article, indexed_sentence_spans, indexed_text
from qa_bot.ingest.fetch import is_url
from qa_bot.ingest.loaders import check_jsonl, check_paths, iter_files, load_file, load_jsonl, suffix_of
from qa_bot.ingest.web import LIST_SUFFIXES, WebSources, read_source_list
from qa_bot.settings import Settings
from qa_bot.store.chroma import ArticlePart, ChromaStore
from qa_bot.types import Article, Chunk, IngestReport

Progress = Callable[[int, str], None]  # (articles seen so far, what is being done: a doc_id)


class Indexer:
    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        chunk_words: int,
        max_chunk_words: int | None = None,
        max_chunk_chars: int | None = None,
        batch_chunks: int | None = None,
        web: WebSources | None = None,
        max_control_share: float | None = None,
    ):
        defaults = Settings.model_fields
        self.web = web or WebSources()  # kept across polls: it remembers feeds' ETag/Last-Modified
        self.store = store
        self.embedder = embedder
        self.chunk_words = chunk_words
        self.max_words = max_chunk_words or defaults["max_chunk_words"].default
        self.max_chars = max_chunk_chars or defaults["max_chunk_chars"].default
        # chunks embedded and written together: one encode call sorts them by length, so bigger
        # batches pad less; a batch (texts, vectors, nodes) is a few MB whatever the article's size
        self.batch_chunks = batch_chunks or defaults["ingest_batch_chunks"].default
        # 0 is a real setting here (no control codes at all), so only None means the default
        self.max_control_share = defaults["max_control_share"].default if max_control_share is None else max_control_share
        self.chunking = f"sentences-{chunk_words}w-max{self.max_words}w{self.max_chars}c"
        self._writing: Future | None = None  # the previous batch's Chroma write, overlapping this encode

    def ingest(
        self, paths: Sequence[Path | str], sync: bool = False, progress: Progress | None = None, public_only: bool = False
    ) -> IngestReport:
        """Indexes every article under `paths` (files, folders, article or feed URLs, and `.opml` /
        `.urls` lists of them); with `sync`, drops indexed articles whose file is gone. With
        `public_only`, addresses must be on the public internet (a web client named them)."""
        urls = [str(p) for p in paths if is_url(p)]
        files = [Path(p) for p in paths if not is_url(p)]
        for listed in [p for p in files if p.suffix.lower() in LIST_SUFFIXES and p.is_file()]:
            urls += read_source_list(listed)
            files.remove(listed)
        roots = check_paths(files)
        report = IngestReport()
        if self.store.read_only:  # the disk is full: say so before any work
            full = OSError(errno.ENOSPC, "no space left")
            raise self.store.explain(full, _index_bytes_for(roots)) or StoreError(self.store.read_only)
        try:
            self._ingest(roots, urls, sync, progress, report, public_only)
        except ServerGoneError as exc:  # a read between writes met it: the ingest's sentence says what to do
            raise self.store.explain(exc, _index_bytes_for(roots)) or exc from None
        except QABotError:
            raise
        except Exception as exc:  # only failures the store recognises become a sentence
            explained = self.store.explain(exc, _index_bytes_for(roots))
            if explained is None:
                raise
            raise explained from None
        return report

    def _ingest(
        self, roots: Sequence[Path], urls: Sequence[str], sync: bool, progress: Progress | None, report: IngestReport,
        public_only: bool = False,
    ) -> None:
        seen: set[str] = set()
        pending: list[tuple[Article, list[Chunk]]] = []
        pending_chunks = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-write") as writer:
            try:
                for count, article in enumerate(self._articles(roots, urls, report, public_only), 1):
                    if article.doc_id in seen:
                        article = _rename(article)
                    seen.add(article.doc_id)
                    if progress:
                        progress(count, article.doc_id)
                    chunks = self._chunks(article)
                    pending.append((article, chunks))
                    pending_chunks += len(chunks)
                    if pending_chunks >= self.batch_chunks:
                        self._flush(pending, report, seen, writer, _ChunkProgress(progress, count))
                        pending, pending_chunks = [], 0
                self._flush(pending, report, seen, writer, _ChunkProgress(progress, len(seen)))
            except BaseException:
                self._wait_for_write(report, quiet=True)  # the first error is the one to report
                raise
            self._wait_for_write(report)
        if sync:
            self._sync(roots, seen, report)
        report.total_articles = self.store.count_articles()
        report.total_chunks = self.store.count()

    def _chunks(self, article: Article) -> list[Chunk]:
        return chunk_article(article, self.chunk_words, self.max_words, self.max_chars)

    def _articles(
        self, roots: Sequence[Path], urls: Sequence[str], report: IngestReport, public_only: bool = False
    ) -> Iterator[Article]:
        yield from self._file_articles(roots, report)
        if urls:
            known = {record.url for record in self.store.articles() if record.url}
            for url in urls:  # an address named on purpose must answer; a feed's entry may fail
                yield from self.web.articles(url, known, report.skipped.append, public_only)

    def _file_articles(self, roots: Sequence[Path], report: IngestReport) -> Iterator[Article]:
        for path in iter_files(roots):
            try:
                if suffix_of(path) in {".jsonl", ".jsonl.gz"}:
                    check_jsonl(path, self.max_control_share)  # whole, before any of it is yielded
                    articles: Iterable[Article] = load_jsonl(path, checked=True)
                else:
                    articles = [load_file(path, path.stem, self.max_control_share)]
            except InputError as exc:
                if path in roots:  # a file named on purpose must load; one found in a folder is skipped
                    raise
                report.skipped.append(str(exc))
                continue
            yield from articles

    def _flush(
        self,
        pending: list[tuple[Article, list[Chunk]]],
        report: IngestReport,
        seen: set[str],
        writer: ThreadPoolExecutor,
        progress: "_ChunkProgress",
    ) -> None:
        if not pending:
            return
        known = self.store.get_articles([a.doc_id for a, _ in pending])
        todo: list[tuple[Article, list[Chunk]]] = []
        for article, chunks in pending:
            record = known.get(article.doc_id)
            # another file of the same name is another article; the same text read from another
            # place (a folder moved, a corpus copied) is the same article, not a second copy
            if (
                record and article.path and record.path and record.path != article.path
                and record.content_hash != article.content_hash
            ):
                seen.discard(article.doc_id)
                article = _rename(article)
                chunks = self._chunks(article)
                seen.add(article.doc_id)
                record = self.store.get_articles([article.doc_id]).get(article.doc_id)
            if record and record.content_hash == article.content_hash and record.chunking == self.chunking:
                report.unchanged.append(article.doc_id)
                continue
            (report.updated if record else report.added).append(article.doc_id)
            todo.append((article, chunks))
        batch: list[tuple[Article, list[Chunk], bool, bool, int]] = []
        size = 0
        for article, chunks in todo:
            # a big article is cut into parts, so no batch holds more than `batch_chunks` chunks
            for i in range(0, max(len(chunks), 1), self.batch_chunks):
                part = chunks[i : i + self.batch_chunks]
                if size and size + len(part) > self.batch_chunks:
                    self._write(batch, report, writer, progress)
                    batch, size = [], 0
                batch.append((article, part, i == 0, i + self.batch_chunks >= len(chunks), len(chunks)))
                size += len(part)
        self._write(batch, report, writer, progress)

    def _write(
        self,
        batch: list[tuple[Article, list[Chunk], bool, bool, int]],
        report: IngestReport,
        writer: ThreadPoolExecutor,
        progress: "_ChunkProgress",
    ) -> None:
        if not batch:
            return
        every = [c for _, chunks, *_ in batch for c in chunks]
        # one forward pass per chunk also leaves each sentence's in-context vector in the cache
        vectors = self.embedder.encode(
            [indexed_text(c) for c in every], [indexed_sentence_spans(c) for c in every]
        )
        parts, offset = [], 0
        for article, chunks, first, last, total in batch:
            parts.append(ArticlePart(article, chunks, vectors[offset : offset + len(chunks)], first, last, total))
            offset += len(chunks)
        # Chroma writes this batch while the next one is embedded; at most one write is in flight,
        # so memory holds two batches at most and articles are registered in input order
        self._wait_for_write(report)
        self._writing = writer.submit(self.store.write_parts, parts, self.chunking)
        progress.advance(parts)

    def _wait_for_write(self, report: IngestReport, quiet: bool = False) -> None:
        """Waits for the write in flight; its failure is raised here, in the caller (unless
        another error is already on its way out)."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            try:
                report.chunks_written += writing.result()
            except Exception:
                if not quiet:
                    raise

    def _sync(self, roots: Sequence[Path], seen: set[str], report: IngestReport) -> None:
        resolved = [r.resolve() for r in roots]
        gone = [
            record.doc_id
            for record in self.store.articles()
            if record.doc_id not in seen and record.path and _under(Path(record.path), resolved)
        ]
        self.store.delete_articles(gone)
        report.deleted.extend(gone)


# index bytes per byte of article text: 1 MB of text made 22-24 MB of index while the registry
# kept the whole text, 13-14 MB since for a big article (benchmarks/big_article.py); the higher
# figure is kept, so the sentence does not ask for too little
_INDEX_BYTES_PER_TEXT_BYTE = 25


def _index_bytes_for(roots: Sequence[Path]) -> int:
    """About how much disk an ingest of these files takes, to say how much a full disk lacks."""
    total = 0
    for path in iter_files(roots):
        try:
            size = path.stat().st_size
        except OSError:
            continue
        total += size * (4 if path.name.lower().endswith(".gz") else 1)
    return total * _INDEX_BYTES_PER_TEXT_BYTE


def _under(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _rename(article: Article) -> Article:
    """Two files with one name and other texts, in different folders, get distinct, still stable, ids."""
    digest = hashlib.sha1(article.path.encode("utf-8")).hexdigest()[:8]
    return replace(article, doc_id=f"{article.doc_id}-{digest}")


class _ChunkProgress:
    """Reports the chunks of a big article as they are embedded: one article can take minutes."""

    def __init__(self, progress: Progress | None, count: int):
        self._progress = progress
        self._count = count
        self._done: dict[str, int] = {}

    def advance(self, parts: Sequence[ArticlePart]) -> None:
        if not self._progress:
            return
        for part in parts:
            if part.first and part.last:  # a whole article: the article count says it
                continue
            doc_id = part.article.doc_id
            self._done[doc_id] = self._done.get(doc_id, 0) + len(part.chunks)
            self._progress(self._count, f"{self._done[doc_id]:,}/{part.n_chunks:,} chunks of {doc_id}")
