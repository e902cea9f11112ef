"""The lexical index on disk: SQLite FTS5 over each chunk's stemmed terms, ranked by FTS5's bm25().

One file (WAL, memory-mapped) that is changed a few rows at a time: an article written or deleted
touches only its own chunks' rows, so no question ever waits for the whole index to be rebuilt."""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from qa_bot.ingest.chunking import indexed_text
from qa_bot.store.chroma import Filters, _date_int
from qa_bot.text import terms
from qa_bot.types import Chunk

log = logging.getLogger(__name__)

# bump whenever what is indexed per chunk or the schema changes: a file of another format is rebuilt
FORMAT = "fts5-2"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(doc_id TEXT PRIMARY KEY, version TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL,
    source TEXT NOT NULL, published INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, tokenize = "unicode61 remove_diacritics 0");
CREATE TABLE IF NOT EXISTS df(term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
"""
_BATCH = 500  # ids per SQL `IN (...)`: below SQLite's variable limit


class IndexFormatError(Exception):
    """The file is not a lexical index of the current format (old, foreign or damaged)."""


def chunk_terms(chunk: Chunk) -> list[str]:
    """What a chunk is found by: its title and text, and its source by name ("reported by TechCrunch"),
    though the source is not embedded."""
    return terms(f"{indexed_text(chunk)}\n{chunk.source}")


def _warm_page_cache(path: Path) -> None:
    """Asks the kernel to read the file into its page cache, in the background and outside this
    process's RSS: read with pread (not mapped), a serving process's first searches would otherwise
    wait on the disk for each posting page they touch."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)
    except (OSError, AttributeError):  # not on this platform, or the file went: reads still work
        pass


class LexicalIndex:
    """One FTS5 file. `search` and `idf` are what retrieval and evidence selection read; `add`,
    `remove` and the state in `meta` are what keeps it in step with the Chroma collection."""

    def __init__(
        self, path: Path | None, create: bool = False, bulk: bool = False, max_postings: int = 10_000,
        mmap_bytes: int = 0,
    ):
        self.path = path
        self.max_postings = max_postings
        self._lock = threading.RLock()
        self._n: int | None = None
        self._df: dict[str, int] = {}
        target = str(path) if path else ":memory:"
        if path and not create and not path.exists():
            raise IndexFormatError(f"{path} does not exist")
        try:
            self._db = sqlite3.connect(target, check_same_thread=False, timeout=30, isolation_level=None)
            # pages read through a memory map count in the process's RSS: at a million chunks the
            # whole ~650 MB file ends up there. Read with pread they stay in the OS page cache
            self._db.execute(f"PRAGMA mmap_size = {int(mmap_bytes)}")
            if bulk:  # a file being built whole, renamed into place only when complete
                self._db.execute("PRAGMA journal_mode = OFF")
                self._db.execute("PRAGMA synchronous = OFF")
            else:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            if path is not None and not create:
                _warm_page_cache(path)
            if create:
                self._db.executescript(_SCHEMA)
                self.set_meta(format=FORMAT, chunks=0)
            found = self.meta("format")
        except sqlite3.DatabaseError as exc:
            raise IndexFormatError(f"{target}: {exc}") from None
        if found != FORMAT:
            self.close()
            raise IndexFormatError(f"{target} has format {found!r}, not {FORMAT!r}")

    def close(self) -> None:
        self._db.close()

    # ---- state -----------------------------------------------------------------------------------
    def meta(self, key: str, default: str = "") -> str:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, **values: object) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(k, str(v)) for k, v in values.items()],
            )

    def versions(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """The version (content hash, chunking, chunk count) each of these articles is indexed at."""
        found: dict[str, str] = {}
        with self._lock:
            for i in range(0, len(doc_ids), _BATCH):
                batch = list(doc_ids[i : i + _BATCH])
                marks = ",".join("?" * len(batch))
                found.update(self._db.execute(f"SELECT doc_id, version FROM docs WHERE doc_id IN ({marks})", batch))
        return found

    def __len__(self) -> int:
        if self._n is None:
            with self._lock:
                self._n = int(self.meta("chunks", "0"))  # kept per write: count(*) is ~15 ms at 1M
        return self._n

    # ---- writing ---------------------------------------------------------------------------------
    def replace(self, doc_ids: Sequence[str], chunks: Iterable[Chunk], versions: dict[str, str]) -> int:
        """Drops what these articles had and indexes `chunks` (theirs, as the collection now holds them),
        all in one transaction. Returns the rows written."""
        written = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = self._remove(doc_ids)
                written = self._add(chunks)
                self._db.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'chunks'", (written - removed,)
                )
                self._db.executemany(
                    "INSERT INTO docs(doc_id, version) VALUES (?, ?) "
                    "ON CONFLICT(doc_id) DO UPDATE SET version = excluded.version",
                    list(versions.items()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.forget_counts()
        return written

    def _add(self, chunks: Iterable[Chunk]) -> int:
        n = 0
        insert_chunk = "INSERT INTO chunks(chunk_id, doc_id, source, published) VALUES (?, ?, ?, ?)"
        df: Counter[str] = Counter()
        for chunk in chunks:
            rowid = self._db.execute(
                insert_chunk, (chunk.chunk_id, chunk.doc_id, chunk.source, _date_int(chunk.published))
            ).lastrowid
            tokens = chunk_terms(chunk)
            self._db.execute("INSERT INTO fts(rowid, body) VALUES (?, ?)", (rowid, " ".join(tokens)))
            df.update(set(tokens))
            n += 1
        self._db.executemany(
            "INSERT INTO df(term, n) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET n = n + excluded.n", df.items()
        )
        return n

    def _remove(self, doc_ids: Sequence[str]) -> int:
        removed = 0
        for i in range(0, len(doc_ids), _BATCH):
            batch = list(doc_ids[i : i + _BATCH])
            marks = ",".join("?" * len(batch))
            rows = [r for (r,) in self._db.execute(f"SELECT id FROM chunks WHERE doc_id IN ({marks})", batch)]
            removed += len(rows)
            for j in range(0, len(rows), _BATCH):
                part = rows[j : j + _BATCH]
                marks_rows = ",".join("?" * len(part))
                df: Counter[str] = Counter()
                for (body,) in self._db.execute(f"SELECT body FROM fts WHERE rowid IN ({marks_rows})", part):
                    df.update(set(body.split()))
                self._db.executemany("UPDATE df SET n = n - ? WHERE term = ?", [(k, t) for t, k in df.items()])
                self._db.executemany("DELETE FROM df WHERE term = ? AND n <= 0", [(t,) for t in df])
                self._db.execute(f"DELETE FROM fts WHERE rowid IN ({marks_rows})", part)
                self._db.execute(f"DELETE FROM chunks WHERE id IN ({marks_rows})", part)
            self._db.execute(f"DELETE FROM docs WHERE doc_id IN ({marks})", batch)
        return removed

    def forget_counts(self) -> None:
        """Counts and document frequencies moved: read them again when next asked."""
        self._n = None
        self._df.clear()

    # ---- reading ---------------------------------------------------------------------------------
    def doc_freq(self, term: str) -> int:
        """How many chunks use the term: counted per write in a table of its own, since FTS5's
        vocabulary (fts5vocab) counts by reading the term's whole posting list, ~40 ms a word at 1M."""
        value = self._df.get(term)
        if value is None:
            with self._lock:
                row = self._db.execute("SELECT n FROM df WHERE term = ?", (term,)).fetchone()
            value = self._df[term] = row[0] if row else 0
        return value

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; a word the corpus never uses weighs the most."""
        return math.log((len(self) + 1) / (self.doc_freq(term) + 0.5))

    def _plan(self, tokens: list[str]) -> tuple[list[str], bool]:
        """The query terms to match, rarest first while their chunks add up to `max_postings`, and
        whether even the rarest alone exceeds it. BM25 scores every chunk that has any query term,
        so at a million chunks a common word ("said", "year") means scoring a third of the index
        (~1 s here); what such a word adds to a score is small (its idf is near zero), and below
        that many chunks every term is kept, so small indexes rank exactly as full BM25 does."""
        df = {t: self.doc_freq(t) for t in set(tokens)}
        kept, total = set(), 0
        for term in sorted(df, key=lambda t: (df[t], t)):
            if df[term] == 0:
                continue
            if kept and total + df[term] > self.max_postings:
                break
            kept.add(term)
            total += df[term]
        return [t for t in tokens if t in kept], total > self.max_postings

    def search_ids(self, query: str, top_k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(chunk_id, score) best first; the score is bm25, higher is better (FTS5 returns it negated)."""
        if top_k <= 0:
            return []
        with self._lock:
            tokens, too_common = self._plan(terms(query))
            if not tokens:
                return []
            # repeats kept, as BM25 over the query's term list counts them; quoted, so no word is
            # read as an FTS5 operator
            match = " OR ".join(f'"{t}"' for t in tokens)
            where, params = _filter_sql(filters)
            if too_common:
                # only words that most chunks use: the newest `max_postings` chunks having them
                # (rowids grow with each write) are the ones scored
                bound = self._db.execute(
                    "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                    (match, self.max_postings),
                ).fetchone()
                if bound:
                    where, params = f" AND fts.rowid > ?{where}", [bound[0], *params]
            # the best rows first, then their chunk ids: joined inside, the join ran for every
            # matching row (~8k at 100k chunks), a third of the search's time
            join = " JOIN chunks c ON c.id = fts.rowid" if filters else ""
            sql = (
                "SELECT k.chunk_id, best.s FROM (SELECT fts.rowid AS id, bm25(fts) AS s FROM fts"
                f"{join} WHERE fts MATCH ?{where} ORDER BY s LIMIT ?) best "
                "JOIN chunks k ON k.id = best.id ORDER BY best.s"
            )
            rows = self._db.execute(sql, [match, *params, top_k]).fetchall()
        return [(chunk_id, -score) for chunk_id, score in rows if score < 0]


def _filter_sql(filters: Filters | None) -> tuple[str, list]:
    if not filters:
        return "", []
    clauses, params = [], []
    for column, values in (("source", filters.sources), ("doc_id", filters.doc_ids)):
        if values:
            clauses.append(f"c.{column} IN ({','.join('?' * len(values))})")
            params += list(values)
    if filters.published_from:
        clauses.append("c.published >= ?")
        params.append(_date_int(filters.published_from))
    if filters.published_to:
        clauses.append("c.published <= ? AND c.published > 0")
        params.append(_date_int(filters.published_to))
    return "".join(f" AND {c}" for c in clauses), params
