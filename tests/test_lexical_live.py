"""The live lexical index (SQLite FTS5 beside the Chroma index): a write or delete changes only the
rows of the articles it touched, another process catches up from the change log, and a missing,
old or damaged file is built again once, never a traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import date

import pytest

from conftest import ROOT, SEED_ASKED_ON, SEEDS, write
from test_server_mode import chroma_url  # noqa: F401  (the real `chroma run` fixture)

from qa_bot.store import Filters
from qa_bot.store.fts import FORMAT

HARBOUR = """Harbour of Vellmar reopens after dredging

The harbour of Vellmar reopened to cargo ships on 14 March 2026 after eleven months of dredging.
Harbour master Ilse Brankovic cut the ribbon at the northern quay.
"""
VINEYARD = """Frost hits the Tokaj vineyards

A late frost on 2 April 2026 damaged a third of the Tokaj vineyards, growers said on Thursday.
"""


def _rows(path) -> dict[int, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, chunk_id FROM chunks"))


def _lexical_docs(bot, query: str, filters: Filters | None = None) -> list[str]:
    return [s.chunk.doc_id for s in bot.retriever.lexical.current().search(query, 5, filters)]


def _jsonl(path, doc_id: str, text: str, source: str = "", published: str = ""):
    import json

    return write(path, json.dumps({"id": doc_id, "text": text, "source": source, "published": published}) + "\n")


def test_a_new_article_is_indexed_in_place_without_a_rebuild(fresh_bot, tmp_path):
    fresh_bot.ingest([SEEDS])
    assert fresh_bot.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON).citations
    path = fresh_bot.store.lexical_cache_path()
    inode, before = path.stat().st_ino, _rows(path)
    assert fresh_bot.retriever.lexical.rebuilds == 1  # the file did not exist: built once, at the first write

    fresh_bot.ingest([write(tmp_path / "news" / "vellmar.txt", HARBOUR)])

    assert _lexical_docs(fresh_bot, "harbour master of Vellmar")[0] == "vellmar"
    assert fresh_bot.retriever.lexical.rebuilds == 1
    assert path.stat().st_ino == inode  # the same file, changed in place
    after = _rows(path)
    assert {k: v for k, v in after.items() if k in before} == before  # old rows untouched
    added = {v for k, v in after.items() if k not in before}
    assert added and all(c.startswith("vellmar#") for c in added)
    assert len(added) == fresh_bot.store.get_articles(["vellmar"])["vellmar"].n_chunks

    # a new process opens the file as it is: nothing to build, the new article is there
    from qa_bot import QABot

    other = QABot(index_dir=fresh_bot.settings.index_dir)
    assert _lexical_docs(other, "harbour master of Vellmar")[0] == "vellmar"
    assert other.retriever.lexical.rebuilds == 0


def test_delete_and_changed_article_touch_only_their_rows(fresh_bot, tmp_path):
    news = tmp_path / "news"
    fresh_bot.ingest([SEEDS, write(news / "vellmar.txt", HARBOUR), write(news / "tokaj.txt", VINEYARD)])
    path = fresh_bot.store.lexical_cache_path()
    seed_rows = {k: v for k, v in _rows(path).items() if not v.startswith(("vellmar#", "tokaj#"))}

    fresh_bot.remove(["vellmar"])
    assert "vellmar" not in _lexical_docs(fresh_bot, "harbour master of Vellmar")
    assert not any(v.startswith("vellmar#") for v in _rows(path).values())

    write(news / "tokaj.txt", VINEYARD.replace("a third", "half").replace("Thursday", "Friday"))
    fresh_bot.ingest([news / "tokaj.txt"])
    assert _lexical_docs(fresh_bot, "Tokaj frost half Friday")[0] == "tokaj"
    rows = _rows(path)
    assert {k: v for k, v in rows.items() if k in seed_rows} == seed_rows
    assert fresh_bot.retriever.lexical.rebuilds == 1


def test_filters_apply_in_the_lexical_index(fresh_bot, tmp_path):
    fresh_bot.ingest([
        _jsonl(tmp_path / "a.jsonl", "wire-a", HARBOUR, source="Baltic Wire", published="2026-03-14"),
        _jsonl(tmp_path / "b.jsonl", "wire-b", HARBOUR.replace("Vellmar", "Vellmar East"),
               source="Harbour Post", published="2026-01-02"),
    ])
    both = _lexical_docs(fresh_bot, "Vellmar harbour dredging")
    assert set(both) == {"wire-a", "wire-b"}
    assert _lexical_docs(fresh_bot, "Vellmar harbour dredging", Filters(sources=("Harbour Post",))) == ["wire-b"]
    assert _lexical_docs(fresh_bot, "Vellmar harbour dredging", Filters(doc_ids=("wire-a",))) == ["wire-a"]
    march = Filters(published_from=date(2026, 3, 1), published_to=date(2026, 3, 31))
    assert _lexical_docs(fresh_bot, "Vellmar harbour dredging", march) == ["wire-a"]
    assert _lexical_docs(fresh_bot, "Vellmar harbour dredging", Filters(published_to=date(2025, 12, 31))) == []


def test_another_process_catches_up_from_the_change_log(chroma_url, tmp_path):  # noqa: F811
    """Two bots on one server with their own lexical files: what one writes or deletes, the other
    finds at its next question, from the change log, without building its index again."""
    from qa_bot import QABot

    reader = QABot(index_dir=tmp_path / "r", chroma_url=chroma_url, collection="catchup", cache_dir=tmp_path / "rc")
    writer = QABot(index_dir=tmp_path / "w", chroma_url=chroma_url, collection="catchup", cache_dir=tmp_path / "wc")
    writer.ingest([SEEDS])
    assert "vellmar" not in _lexical_docs(reader, "harbour master of Vellmar")
    assert reader.retriever.lexical.rebuilds == 1
    reader_file = reader.store.lexical_cache_path()
    assert reader_file != writer.store.lexical_cache_path()
    inode = reader_file.stat().st_ino

    writer.ingest([write(tmp_path / "news" / "vellmar.txt", HARBOUR)])
    assert _lexical_docs(reader, "harbour master of Vellmar")[0] == "vellmar"
    assert "Brankovic" in reader.ask("Who is the harbour master of Vellmar?").text

    writer.remove(["vellmar"])
    assert "vellmar" not in _lexical_docs(reader, "harbour master of Vellmar")
    assert reader.retriever.lexical.rebuilds == 1 and reader_file.stat().st_ino == inode


@pytest.mark.parametrize("damage", ["old format", "missing", "garbage"])
def test_a_missing_old_or_damaged_file_is_built_again_once(seed_copy, damage):
    from qa_bot import QABot

    path = QABot(index_dir=seed_copy).store.lexical_cache_path()
    QABot(index_dir=seed_copy).retriever.lexical.current()  # the file as a current version leaves it
    assert path.exists()
    if damage == "old format":
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = 'fts5-0' WHERE key = 'format'")
        assert FORMAT != "fts5-0"
    elif damage == "missing":
        path.unlink()
    else:
        for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            extra.unlink(missing_ok=True)
        path.write_bytes(b"\x00not a database\xff" * 512)

    bot = QABot(index_dir=seed_copy)
    answer = bot.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON)
    assert "Kostyukov" in answer.text
    assert bot.retriever.lexical.rebuilds == 1
    assert _lexical_docs(bot, "Kostyukov GRU")  # the rebuilt index answers
    again = QABot(index_dir=seed_copy)
    again.retriever.lexical.current()
    assert again.retriever.lexical.rebuilds == 0  # once: the next process opens what was built


def test_cli_ask_over_a_damaged_lexical_file_answers(seed_copy):
    from qa_bot import QABot

    QABot(index_dir=seed_copy).retriever.lexical.current()
    path = QABot(index_dir=seed_copy).store.lexical_cache_path()
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    path.write_bytes(b"garbage" * 1000)
    run = subprocess.run(
        [sys.executable, "-m", "qa_bot.cli", "ask", "Who led the Russian delegation?", "--index", str(seed_copy),
         "--asked-on", SEED_ASKED_ON],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "Kostyukov" in run.stdout


def test_a_bounded_search_ranks_by_the_rare_words_and_scores_at_most_the_bound():
    """At a million chunks a search scores at most `max_postings` chunks, rarest words first; the
    word that singles a passage out still ranks it first, and an index under the bound ranks as
    full BM25 does."""
    from qa_bot.store.fts import LexicalIndex
    from qa_bot.types import Chunk

    chunks = [Chunk(f"d{i}#0", f"d{i}", f"The minister said the budget grew this year, report {i}.", 0, 10) for i in range(40)]
    chunks.append(Chunk("rare#0", "rare", "Harbour master Ilse Brankovic said the budget grew this year.", 0, 10))
    small = LexicalIndex(None, create=True, max_postings=5)
    full = LexicalIndex(None, create=True, max_postings=10**9)
    for index in (small, full):
        index.replace([], chunks, {c.doc_id: "v" for c in chunks})
    query = "Brankovic said the budget grew this year"
    assert small.search_ids(query, 5)[0][0] == full.search_ids(query, 5)[0][0] == "rare#0"
    # only common words: the newest chunks that have them are the ones scored
    common = [cid for cid, _ in small.search_ids("budget grew this year", 10)]
    assert 0 < len(common) <= 5 and set(common) <= {c.chunk_id for c in chunks[-6:]}
    assert len(full.search_ids("budget grew this year", 50)) == len(chunks)
    assert len(small) == len(full) == len(chunks)
    assert small.idf("brankov") > small.idf("budget") > 0


def test_a_search_returns_the_best_bm25_rows_with_their_scores_filtered_or_not():
    """The search takes the best rows before it looks up their chunk ids: the ids, scores and
    order are those of scoring every matching row, and a filter still applies before the cut."""
    from qa_bot.store.fts import LexicalIndex
    from qa_bot.text import terms
    from qa_bot.types import Chunk

    # every passage a different length, so that no two share a score
    chunks = [
        Chunk(f"d{i}#0", f"d{i}", f"The harbour of Vellmar {'was dredged ' * (i % 4)}reopened{' quay' * i}.", 0, 10,
              source="Baltic Wire" if i % 3 else "Harbour Post")
        for i in range(30)
    ]
    index = LexicalIndex(None, create=True, max_postings=10**9)
    index.replace([], chunks, {c.doc_id: "v" for c in chunks})
    query = "When was the Vellmar harbour dredged?"
    match = " OR ".join(f'"{t}"' for t in terms(query))
    every = index._db.execute(
        "SELECT c.chunk_id, c.source, -bm25(fts) FROM fts JOIN chunks c ON c.id = fts.rowid WHERE fts MATCH ?", (match,)
    ).fetchall()
    assert len(every) == len(chunks) and len({s for _, _, s in every}) == len(chunks)
    best = sorted(every, key=lambda row: -row[2])
    found = index.search_ids(query, 7)
    assert [cid for cid, _ in found] == [cid for cid, _, _ in best[:7]]
    assert [s for _, s in found] == pytest.approx([s for _, _, s in best[:7]])
    filtered = index.search_ids(query, 3, Filters(sources=("Harbour Post",)))
    assert [cid for cid, _ in filtered] == [cid for cid, source, _ in best if source == "Harbour Post"][:3]


def test_an_index_further_behind_than_the_change_log_keeps_is_built_again(chroma_url, tmp_path):  # noqa: F811
    """The writer's log keeps records a moment only, so by the time the reader asks, the record of
    the first article is gone: catching up from what is left would miss it; the reader builds its
    index again instead, and finds both articles."""
    from qa_bot import QABot

    reader = QABot(index_dir=tmp_path / "r", chroma_url=chroma_url, collection="pruned", cache_dir=tmp_path / "rc",
                   lexical_log_window_s=0.001)
    writer = QABot(index_dir=tmp_path / "w", chroma_url=chroma_url, collection="pruned", cache_dir=tmp_path / "wc",
                   lexical_log_keep_days=0.5 / 86_400)  # half a second
    writer.ingest([SEEDS])
    assert "vellmar" not in _lexical_docs(reader, "harbour master of Vellmar")
    assert reader.retriever.lexical.rebuilds == 1

    writer.ingest([write(tmp_path / "news" / "vellmar.txt", HARBOUR)])
    time.sleep(1.5)
    writer.ingest([write(tmp_path / "news" / "tokaj.txt", VINEYARD)])  # its write prunes the Vellmar record
    assert writer.store.log_pruned_through() > 0
    assert [seq for seq, docs in writer.store.changes_since(0) if "vellmar" in docs] == []
    assert _lexical_docs(reader, "harbour master of Vellmar")[0] == "vellmar"
    assert _lexical_docs(reader, "frost Tokaj vineyards")[0] == "tokaj"
    assert reader.retriever.lexical.rebuilds == 2


def _mapped(path) -> bool:
    """Whether this process maps the file into its memory (mapped pages count in its RSS)."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return any(line.rstrip("\n").endswith(str(path)) for line in maps)


@pytest.mark.parametrize("mmap_mb, mapped", [(None, False), (64, True)])
def test_the_lexical_file_is_read_without_a_memory_map_unless_asked(seed_copy, mmap_mb, mapped):
    """At a million chunks a mapped lexical file put its whole ~650 MB into the bot's RSS; by
    default it is read with pread (its pages stay in the OS page cache), and answers are the same."""
    from qa_bot import QABot

    bot = QABot(index_dir=seed_copy, lexical_mmap_mb=mmap_mb)
    answer = bot.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON)
    assert "Kostyukov" in answer.text
    path = bot.retriever.lexical.current()._index.path
    assert path is not None and path.exists()
    assert _mapped(path.resolve()) is mapped


def test_the_searches_run_beside_the_question_encoding_once_the_file_is_open(seed_copy):
    """BM25 needs only the question's words: once the file is open it runs on another thread while
    the question is encoded and parsed, with the same result as in line; before (a first use may
    build the file whole) it stays on the caller's thread. The dense search runs beside the parse."""
    import threading

    from qa_bot import QABot
    from qa_bot.store.chroma import ChromaStore
    from qa_bot.store.lexical import LiveLexicalIndex

    bot = QABot(index_dir=seed_copy)
    assert bot.retriever.search_lexical("Who led the Russian delegation?") is None  # not open yet
    threads: list[str] = []
    dense_threads: list[str] = []
    search, query = LiveLexicalIndex.search, ChromaStore.query

    def recording(self, *args, **kwargs):
        threads.append(threading.current_thread().name)
        return search(self, *args, **kwargs)

    def recording_dense(self, *args, **kwargs):
        dense_threads.append(threading.current_thread().name)
        return query(self, *args, **kwargs)

    LiveLexicalIndex.search, ChromaStore.query = recording, recording_dense
    try:
        first = bot.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON)  # opens the file
        second = bot.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON)
        inline = bot.retriever.retrieve("Who led the Russian delegation?", top_k=8, asked_on=SEED_ASKED_ON)
        pending = bot.retriever.search_lexical("Who led the Russian delegation?", 8)
        vector = bot.embedder.encode(["Who led the Russian delegation?"])[0]
        background = bot.retriever.retrieve(
            "Who led the Russian delegation?", top_k=8, asked_on=SEED_ASKED_ON, lexical=pending,
            dense=bot.retriever.search_dense(vector, 8),
        )
    finally:
        LiveLexicalIndex.search, ChromaStore.query = search, query
    main = threading.current_thread().name
    assert threads[0] == main and threads[1].startswith("qa-bot-search")
    assert threads[2] == main and threads[3].startswith("qa-bot-search")
    assert [t.startswith("qa-bot-search") for t in dense_threads] == [True, True, False, True]
    assert [c.chunk_id for c in first.citations] == [c.chunk_id for c in second.citations]
    assert first.citations and first.text == second.text
    assert [s.chunk.chunk_id for s in background] == [s.chunk.chunk_id for s in inline]


def test_a_question_reads_the_collection_generation_once_for_its_search(seed_copy):
    """The generation (a Chroma metadata read, ~0.8 ms at 100k chunks) is read to count the
    articles and to open the lexical index for the search; the word weights come from that same
    index, not from a third read. After a write, the next question sees the new article."""
    from qa_bot import QABot

    bot = QABot(index_dir=seed_copy)
    live = bot.retriever.lexical.current()
    reads: list[int] = []
    generation = bot.store.generation
    bot.store.generation = lambda: reads.append(1) or generation()
    assert bot.retriever.lexical.latest() is live and reads == []
    assert "Kostyukov" in bot.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON).text
    assert len(reads) == 2
    bot.ingest([write(seed_copy.parent / "news" / "vellmar.txt", HARBOUR)])
    assert "Brankovic" in bot.ask("Who is the harbour master of Vellmar?").text
