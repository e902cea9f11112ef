"""The one place that talks to Chroma: chunks through llama-index's ChromaVectorStore, plus a small
registry of indexed articles whose entry is written last, so an article is only "done" once all
of its chunks are in."""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from qa_bot.errors import EmptyIndexError, QABotError, ServerGoneError, StoreError
from qa_bot.settings import Settings
from qa_bot.types import Article, Chunk, ScoredChunk

logging.getLogger("chromadb.telemetry").setLevel(logging.CRITICAL)
log = logging.getLogger(__name__)

_PAGE = 2000  # rows per Chroma get(); bounded memory when scanning a large collection
_WRITE_BATCH = 2000


@dataclass(frozen=True)
class ArticleRecord:
    """What the registry knows of an indexed article."""

    doc_id: str
    title: str
    source: str
    url: str
    published: date | None
    path: str
    content_hash: str
    n_chunks: int
    chunking: str = ""  # how its chunks were cut: re-cut when the setting changes

    @property
    def version(self) -> str:
        """What the lexical index compares to tell whether it holds this article as registered."""
        return article_version(self.content_hash, self.chunking, self.n_chunks)


def article_version(content_hash: str, chunking: str, n_chunks: int) -> str:
    return f"{content_hash}:{chunking}:{n_chunks}"


@dataclass(frozen=True)
class Change:
    """One write or delete as the change log records it: the articles it touched. `complete` holds
    the chunks of articles written whole by this process, so its own lexical index need not read
    them back from Chroma."""

    seq: int
    doc_ids: tuple[str, ...]
    complete: dict[str, tuple[str, Sequence[Chunk]]]  # doc_id -> (version, chunks)


@dataclass(frozen=True)
class ArticlePart:
    """Some consecutive chunks of one article and their vectors: the unit a write batch holds, so
    an article of any size is written in bounded pieces."""

    article: Article
    chunks: Sequence[Chunk]
    vectors: np.ndarray
    first: bool  # replaces what the index held for the article
    last: bool  # registers it: it is "done" only now
    n_chunks: int  # the article's chunks in all


@dataclass(frozen=True)
class Filters:
    """Metadata filters applied inside Chroma (dense) and to the lexical side alike."""

    sources: tuple[str, ...] = ()
    published_from: date | None = None
    published_to: date | None = None
    doc_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sources or self.published_from or self.published_to or self.doc_ids)

    def describe(self) -> str:
        """For reports: "from TechCrunch or Wired, published 2023-10-01 to 2023-12-31"."""
        parts = [f"from {' or '.join(self.sources)}"] if self.sources else []
        if self.published_from or self.published_to:
            since = self.published_from.isoformat() if self.published_from else "any day"
            until = self.published_to.isoformat() if self.published_to else "today"
            parts.append(f"published {since} to {until}")
        if self.doc_ids:
            parts.append(f"among {len(self.doc_ids)} chosen articles")
        return ", ".join(parts)

    def accepts(self, chunk: Chunk) -> bool:
        if self.sources and chunk.source not in self.sources:
            return False
        if self.doc_ids and chunk.doc_id not in self.doc_ids:
            return False
        if self.published_from and (not chunk.published or chunk.published < self.published_from):
            return False
        if self.published_to and (not chunk.published or chunk.published > self.published_to):
            return False
        return True


def _date_int(value: date | None) -> int:
    return int(value.strftime("%Y%m%d")) if value else 0


def _parse_iso(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def chunk_metadata(chunk: Chunk) -> dict:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "source": chunk.source,
        "published": chunk.published.isoformat() if chunk.published else "",
        "published_int": _date_int(chunk.published),
        "start": chunk.start,
        "end": chunk.end,
        "dates": ",".join(d.isoformat() for d in chunk.dates),
        "page": chunk.page or 0,
    }


def chunk_from_record(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=str(meta.get("doc_id", "")),
        text=text or "",
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        published=_parse_iso(meta.get("published")),
        dates=tuple(date.fromisoformat(d) for d in str(meta.get("dates", "")).split(",") if d),
        page=int(meta.get("page", 0)) or None,
    )


def _where(filters: Filters | None) -> dict | None:
    if not filters:
        return None
    clauses: list[dict] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    if filters.doc_ids:
        clauses.append({"doc_id": {"$in": list(filters.doc_ids)}})
    if filters.published_from:
        clauses.append({"published_int": {"$gte": _date_int(filters.published_from)}})
    if filters.published_to:
        clauses.append({"published_int": {"$lte": _date_int(filters.published_to)}})
        clauses.append({"published_int": {"$gt": 0}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def make_client(index_dir: Path, chroma_url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        if not parsed.hostname:
            raise StoreError(f"'{chroma_url}' is not a Chroma server URL (expected http://HOST:PORT).")
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=settings,
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises several unrelated types for a dead server
            raise StoreError(f"Cannot reach the Chroma server at {chroma_url} ({type(exc).__name__}).") from None
        return client
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(index_dir), settings=settings)
    except Exception as exc:  # a damaged sqlite file or folder surfaces as many different errors
        if disk_full(exc):
            raise DiskFullError(no_space_sentence(index_dir)) from None
        raise StoreError(
            f"The index at {index_dir} cannot be opened ({type(exc).__name__}); "
            "move it aside and ingest again."
        ) from None


def _open_copy(index_dir: Path):
    """A client on a copy of the index in RAM (or another disk with room), removed at exit."""
    import tempfile
    import weakref

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    for base in ("/dev/shm", None):
        if base and not os.access(base, os.W_OK):
            continue
        room = tempfile.mkdtemp(prefix="qa-bot-readonly-", dir=base)
        if shutil.disk_usage(room).free > 2 * size + 10_000_000:
            break
        shutil.rmtree(room, ignore_errors=True)
    else:
        raise DiskFullError(no_space_sentence(index_dir))
    copy = Path(room) / "index"
    shutil.copytree(index_dir, copy, ignore=shutil.ignore_patterns("*.pkl", "*.tmp", "uploads"))
    # info, not a warning: an ingest says the full disk in its one sentence, and a question is answered
    log.info(
        "the disk holding %s is full: answering from a copy in %s; nothing can be added until space is freed",
        index_dir, room,
    )
    client = chromadb.PersistentClient(path=str(copy), settings=ChromaSettings(anonymized_telemetry=False))
    weakref.finalize(client, shutil.rmtree, room, True)
    return client


class DiskFullError(StoreError):
    """The disk holding the index (or the server's) has no space left."""


def disk_full(exc: BaseException | None) -> bool:
    """Whether an error, or one it was raised from, means "no space left": Chroma reports it as
    SQLite's "database or disk is full", the OS as ENOSPC, a server in its message."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        text = str(exc).lower()
        if "disk is full" in text or "no space left" in text:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def device_of(path: Path) -> str:
    """The mount point holding `path`, and its file system, as `df` would name it."""
    path = path.resolve()
    best, kind = "/", ""
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and (path == Path(parts[1]) or Path(parts[1]) in path.parents):
                if len(parts[1]) >= len(best):
                    best, kind = parts[1], parts[2]
    except OSError:
        pass
    return f"{best} ({kind})" if kind else best


def no_space_sentence(index_dir: Path, needed_bytes: int | None = None) -> str:
    where = device_of(index_dir)
    try:
        free = shutil.disk_usage(index_dir if index_dir.exists() else index_dir.parent).free
    except OSError:
        free = 0
    need = f"about {max(needed_bytes, 1_000_000) / 1e6:,.0f} MB needed" if needed_bytes else "some space needed"
    return (
        f"No space left on {where}, which holds the index at {index_dir}: {need}, "
        f"{free / 1e6:,.1f} MB free; free some space and ingest again (what was indexed before is kept)."
    )


def _reads(method):
    """A read that fails because a Chroma server went away is one sentence, not the client's
    exception (the CLI and the page would show a traceback); any other failure is left alone."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except QABotError:
            raise
        except Exception as exc:
            if self._chroma_url and not self._alive():
                raise ServerGoneError(
                    f"The Chroma server at {self._chroma_url} cannot be reached ({type(exc).__name__}); "
                    "start it again, nothing indexed is lost."
                ) from None
            raise

    return guarded


class ChromaStore:
    """Chunks and the article registry in two Chroma collections named after `collection`."""

    def __init__(
        self,
        index_dir: Path,
        collection: str = "qa_bot",
        chroma_url: str | None = None,
        cache_dir: Path | None = None,
        registry_text_max_chars: int | None = None,
        change_log_keep_days: float | None = None,
    ):
        self.location = chroma_url or str(index_dir)
        self._index_dir = Path(index_dir)
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._chroma_url = chroma_url
        self._collection = collection
        self._registry_text_max_chars = registry_text_max_chars or Settings.model_fields["registry_text_max_chars"].default
        keep_days = change_log_keep_days or Settings.model_fields["lexical_log_keep_days"].default
        self._log_keep_us = int(keep_days * 86_400 * 1_000_000)
        self._log_pruned_at = 0  # when this process last pruned the change log (its seq clock)
        self._article_count: tuple[str, int] | None = None  # (generation, articles) last counted
        self.read_only = ""  # why nothing can be written, when the index is read from a copy
        try:
            self._client = make_client(index_dir, chroma_url)
        except DiskFullError as exc:
            if chroma_url or not (Path(index_dir) / "chroma.sqlite3").is_file():
                raise
            # Chroma writes when it opens an index, so a full disk would stop questions too: they
            # are answered from a copy on another disk (RAM), and writes say why they cannot be
            self._client = _open_copy(Path(index_dir))
            self.read_only = str(exc)
        try:
            self._chunks = self._client.get_or_create_collection(
                f"{collection}_chunks",
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
            self._articles = self._client.get_or_create_collection(
                f"{collection}_articles", embedding_function=None
            )
            # which articles each write or delete touched, so another process's lexical index
            # catches up by reading the few records past the last it applied
            self._changes = self._client.get_or_create_collection(
                f"{collection}_changes", embedding_function=None
            )
        except Exception as exc:
            raise StoreError(f"The index at {self.location} cannot be read ({type(exc).__name__}).") from None
        self._vectors = None  # llama-index's ChromaVectorStore, imported on first write: ~1.5 s off `ask`
        self._listeners: list[Callable[[Change], None]] = []

    def add_listener(self, listener: Callable[[Change], None]) -> None:
        """`listener(change)` is called after every write and delete made through this store."""
        self._listeners.append(listener)

    @property
    def vectors(self):
        """The llama-index adapter that writes nodes; reads go to the collection directly."""
        if self._vectors is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            self._vectors = ChromaVectorStore(chroma_collection=self._chunks)
        return self._vectors

    def lexical_cache_path(self) -> Path | None:
        """Where the lexical (FTS5) index of this collection is kept: beside an embedded index; for a
        server, in the local cache folder under a name derived from the server URL and collection."""
        name = f"{self._collection}_lexical.fts5"
        if not self._chroma_url:
            return self._index_dir / name
        if not self._cache_dir:
            return None
        server = hashlib.sha256(f"{self._chroma_url.rstrip('/')}\x1f{self._collection}".encode()).hexdigest()[:16]
        return self._cache_dir / "lexical" / f"{server}_{name}"

    # ---- reading -------------------------------------------------------------------------
    @_reads
    def count(self) -> int:
        return self._chunks.count()

    @_reads
    def generation(self) -> str:
        """Changes whenever any process writes: lets a lexical index notice it is stale.

        Every write and delete through this class bumps the token. It is read on every question,
        so it is one metadata fetch (~0.3 ms), not a count (Chroma's count() is ~9 ms at 100k)."""
        collection = self._client.get_collection(self._chunks.name, embedding_function=None)
        return str((collection.metadata or {}).get("generation", ""))

    @_reads
    def count_articles(self) -> int:
        """Read before every question; counted again only after a write (of any process): a
        count is ~4 ms at a million chunks, the generation it is kept against ~0.5 ms."""
        generation = self.generation()  # read first: a write landing meanwhile moves it on
        kept = self._article_count
        if kept is not None and kept[0] == generation:
            return kept[1]
        count = self._articles.count()
        self._article_count = (generation, count)
        return count

    @_reads
    def query(self, embedding: np.ndarray, top_k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        """Nearest chunks by cosine. Queried on the collection itself (not through llama-index,
        whose import alone costs a cold `ask` more than the query does); this is the one place
        Chroma's column-major result becomes ScoredChunks."""
        result = self._chunks.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32).tolist()],
            n_results=top_k,
            where=_where(filters),
            include=["documents", "metadatas", "distances"],
        )
        ids, docs = result["ids"][0], result["documents"][0]
        if not ids and self.count() == 0:  # counted only when nothing came back: it is not free
            raise EmptyIndexError("The index is empty; add articles first with `qa-bot ingest PATH`.")
        metas, distances = result["metadatas"][0], result["distances"][0]
        return [
            ScoredChunk(
                chunk=chunk_from_record(cid, text, meta or {}),
                score=1.0 - float(distance),  # cosine space: distance = 1 - cosine
                dense_rank=rank,
            )
            for rank, (cid, text, meta, distance) in enumerate(zip(ids, docs, metas, distances))
        ]

    def iter_chunks(self) -> Iterator[Chunk]:
        offset = 0
        while True:
            page = self._chunks.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            if not page["ids"]:
                return
            for cid, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                yield chunk_from_record(cid, text, meta or {})
            offset += len(page["ids"])

    @_reads
    def chunks_of(self, doc_ids: Sequence[str]) -> list[Chunk]:
        """All chunks of these articles, in article order."""
        found: list[Chunk] = []
        for i in range(0, len(doc_ids), 500):
            page = self._chunks.get(where={"doc_id": {"$in": list(doc_ids[i : i + 500])}}, include=["documents", "metadatas"])
            found += [chunk_from_record(c, t, m or {}) for c, t, m in zip(page["ids"], page["documents"], page["metadatas"])]
        return sorted(found, key=lambda c: (c.doc_id, c.start, c.chunk_id))

    @_reads
    def changes_since(self, seq: int) -> list[tuple[int, tuple[str, ...]]]:
        """(seq, doc_ids) of the change log records after `seq`, oldest first."""
        records = []
        offset = 0
        while True:
            page = self._changes.get(
                where={"seq": {"$gt": int(seq)}}, include=["documents", "metadatas"], limit=_PAGE, offset=offset
            )
            if not page["ids"]:
                break
            for doc, meta in zip(page["documents"], page["metadatas"]):
                records.append((int((meta or {}).get("seq", 0)), tuple(json.loads(doc or "[]"))))
            offset += len(page["ids"])
        return sorted(records)

    @_reads
    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        page = self._chunks.get(ids=list(chunk_ids), include=["documents", "metadatas"])
        by_id = {
            cid: chunk_from_record(cid, text, meta or {})
            for cid, text, meta in zip(page["ids"], page["documents"], page["metadatas"])
        }
        return [by_id[c] for c in chunk_ids if c in by_id]

    @_reads
    def articles(self) -> list[ArticleRecord]:
        records = []
        offset = 0
        while True:
            page = self._articles.get(include=["metadatas"], limit=_PAGE, offset=offset)
            if not page["ids"]:
                break
            records.extend(self._record(i, m or {}) for i, m in zip(page["ids"], page["metadatas"]))
            offset += len(page["ids"])
        return sorted(records, key=lambda r: r.doc_id)

    @_reads
    def get_articles(self, doc_ids: Sequence[str]) -> dict[str, ArticleRecord]:
        if not doc_ids:
            return {}
        page = self._articles.get(ids=list(doc_ids), include=["metadatas"])
        return {i: self._record(i, m or {}) for i, m in zip(page["ids"], page["metadatas"])}

    @_reads
    def registered(self, doc_ids: Sequence[str]) -> set[str]:
        """Which of these articles are registered (ids only: a third of the cost of `get_articles`)."""
        return set(self._articles.get(ids=list(doc_ids), include=[])["ids"]) if doc_ids else set()

    @_reads
    def article_text(self, doc_id: str) -> str | None:
        """The article's text: kept in the registry, or for a big article (see `write_parts`)
        rebuilt from its chunks, the whitespace between them as spaces, so offsets still hold."""
        page = self._articles.get(ids=[doc_id], include=["documents", "metadatas"])
        if not page["ids"]:
            return None
        text, meta = page["documents"][0] or "", page["metadatas"][0] or {}
        if text or not meta.get("text_in_chunks"):
            return text
        pieces: list[str] = []
        end = 0
        for chunk in sorted(self._chunks_of(doc_id), key=lambda c: c.start):
            pieces.append(" " * (chunk.start - end) + chunk.text)
            end = chunk.end
        return "".join(pieces)

    def _chunks_of(self, doc_id: str) -> Iterator[Chunk]:
        offset = 0
        while True:
            page = self._chunks.get(
                where={"doc_id": doc_id}, include=["documents", "metadatas"], limit=_PAGE, offset=offset
            )
            if not page["ids"]:
                return
            for cid, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                yield chunk_from_record(cid, text, meta or {})
            offset += len(page["ids"])

    @staticmethod
    def _record(doc_id: str, meta: dict) -> ArticleRecord:
        return ArticleRecord(
            doc_id=doc_id,
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            published=_parse_iso(meta.get("published")),
            path=str(meta.get("path", "")),
            content_hash=str(meta.get("content_hash", "")),
            n_chunks=int(meta.get("n_chunks", 0)),
            chunking=str(meta.get("chunking", "")),
        )

    # ---- writing -------------------------------------------------------------------------
    def check_embedding_model(self, model_id: str) -> None:
        """Vectors of two models cannot share a collection: the first writer records its model and
        every later bot must use the same one."""
        recorded = (self._articles.metadata or {}).get("embed_model")
        if recorded and recorded != model_id:
            raise StoreError(
                f"The index at {self.location} was built with the embedding model '{recorded}', "
                f"not '{model_id}'; use that model or another index."
            )
        if not recorded:
            self._articles.modify(metadata={**(self._articles.metadata or {}), "embed_model": model_id})

    def write_articles(self, items: Sequence[tuple[Article, list[Chunk], np.ndarray]], chunking: str = "") -> int:
        """Replaces these articles whole (each article's chunks all in this one call)."""
        return self.write_parts(
            [ArticlePart(article, chunks, vectors, True, True, len(chunks)) for article, chunks, vectors in items],
            chunking,
        )

    def explain(self, exc: BaseException, needed_bytes: int | None = None) -> StoreError | None:
        """The sentence for a failure met while writing, when it is one we recognise."""
        if disk_full(exc):
            if self._chroma_url:
                return DiskFullError(
                    f"The Chroma server at {self._chroma_url} has no space left on its disk; free some space "
                    "there and ingest again (what was indexed before is kept)."
                )
            return DiskFullError(no_space_sentence(self._index_dir, needed_bytes))
        if self._chroma_url and not self._alive():
            return StoreError(
                f"The Chroma server at {self._chroma_url} stopped answering during the ingest "
                f"({type(exc).__name__}); articles finished before are kept, run the ingest again once it is back."
            )
        return None

    def _alive(self) -> bool:
        try:
            self._client.heartbeat()
            return True
        except Exception:  # chromadb raises several unrelated types for a dead server
            return False

    def _check_writable(self) -> None:
        if self.read_only:
            raise DiskFullError(self.read_only)

    def write_parts(self, parts: Sequence["ArticlePart"], chunking: str = "") -> int:
        """Writes one batch of article parts. An article's first part deletes its registry entry and
        old chunks, its last part registers it: whatever happens in between (a kill, a full disk,
        a batch that fails), it stays unregistered and the next ingest redoes it from scratch,
        while articles registered before stay done. A big article is written in many calls."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        self._check_writable()
        self.delete_articles([p.article.doc_id for p in parts if p.first], bump=False)
        nodes = [
            TextNode(
                id_=chunk.chunk_id,
                text=chunk.text,
                metadata=chunk_metadata(chunk),
                embedding=vector.tolist(),
                # llama-index writes the source node's id as `doc_id`/`document_id` metadata
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.doc_id)},
            )
            for part in parts
            for chunk, vector in zip(part.chunks, part.vectors)
        ]
        for i in range(0, len(nodes), _WRITE_BATCH):
            self.vectors.add(nodes[i : i + _WRITE_BATCH])
        done = [p for p in parts if p.last]
        # the registry keeps an article's text for showing it, but Chroma indexes every document
        # for full-text search: a 16 MB one took 320 MB of memory and 80 MB of disk to register.
        # Past the limit the chunks hold the text (they cover all of it but whitespace)
        keep = self._registry_text_max_chars
        if done:
            self._articles.add(
                ids=[p.article.doc_id for p in done],
                embeddings=[[1.0]] * len(done),  # the registry is looked up by id, never by vector
                documents=[p.article.text if len(p.article.text) <= keep else "" for p in done],
                metadatas=[
                    {
                        "title": p.article.title,
                        "source": p.article.source,
                        "url": p.article.url,
                        "published": p.article.published.isoformat() if p.article.published else "",
                        "path": p.article.path,
                        "content_hash": p.article.content_hash,
                        "n_chunks": p.n_chunks,
                        "chunking": chunking,
                        "text_in_chunks": len(p.article.text) > keep,
                    }
                    for p in done
                ],
            )
        touched = list(dict.fromkeys(p.article.doc_id for p in parts if p.first or p.last))
        complete = {
            p.article.doc_id: (article_version(p.article.content_hash, chunking, p.n_chunks), p.chunks)
            for p in parts
            if p.first and p.last
        }
        self._changed(touched, complete)
        return len(nodes)

    def delete_articles(self, doc_ids: Sequence[str], bump: bool = True) -> None:
        if not doc_ids:
            return
        self._check_writable()
        for i in range(0, len(doc_ids), 500):
            batch = list(doc_ids[i : i + 500])
            self._articles.delete(ids=batch)
            self._chunks.delete(where={"doc_id": {"$in": batch}})
        if bump:
            self._changed(list(doc_ids), {})

    def _changed(self, doc_ids: list[str], complete: dict[str, tuple[str, Sequence[Chunk]]]) -> None:
        """Logs which articles a write touched, then moves the generation (in that order: whoever
        sees the new generation finds the record), then tells this process's listeners."""
        seq = time.time_ns() // 1000  # microseconds; writers' clocks only need to agree within the log window
        if doc_ids:
            self._changes.add(
                ids=[f"{seq:017d}-{uuid.uuid4().hex[:8]}"],
                embeddings=[[1.0]],  # looked up by seq, never by vector
                documents=[json.dumps(doc_ids)],
                metadatas=[{"seq": seq}],
            )
            self._prune_log(seq)
        self._bump()
        change = Change(seq, tuple(doc_ids), complete)
        for listener in self._listeners:
            listener(change)

    def _prune_log(self, now: int) -> None:
        """Deletes change log records older than the keep period (at most once an hour per process),
        and notes the newest deleted, so a lexical index behind it knows to build itself again."""
        if now - self._log_pruned_at < min(self._log_keep_us, 3_600_000_000):
            return
        self._log_pruned_at = now
        try:
            while True:  # in pages: the first prune of a long-lived log may find many records
                old = self._changes.get(where={"seq": {"$lt": now - self._log_keep_us}}, include=["metadatas"], limit=_PAGE)
                if not old["ids"]:
                    return
                newest = max(int((m or {}).get("seq", 0)) for m in old["metadatas"])
                # noted before the records go, so no reader sees them gone and not noted
                self._changes.modify(metadata={"pruned_through": max(newest, self._pruned_through())})
                self._changes.delete(ids=old["ids"])
        except Exception as exc:  # housekeeping: the write itself is done, and the next one prunes
            log.warning("the change log could not be pruned: %s", exc)

    @_reads
    def log_pruned_through(self) -> int:
        """The newest change log record deleted as too old (0: none ever was)."""
        return self._pruned_through()

    def _pruned_through(self) -> int:
        collection = self._client.get_collection(self._changes.name, embedding_function=None)
        return int((collection.metadata or {}).get("pruned_through", 0))

    def _bump(self) -> None:
        self._chunks.modify(metadata={"generation": uuid.uuid4().hex})
